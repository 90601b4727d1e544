package remote

// The bucket drivers are the binary's to register (internal/cli, cmd/…); the tests use file://,
// s3:// and azblob:// buckets.
import _ "github.com/nodediag/nodediag/internal/blobdrivers"
