// Package blobdrivers registers the object stores nodediag reads and writes — s3://, gs://,
// azblob://, file:// and, for tests, mem:// — with gocloud.dev/blob, in one place, so that the
// store (internal/remote) and the archive source (internal/source) always accept the same URLs.
// The capture agent's binary registers internal/blobdrivers/s3file only.
package blobdrivers

import (
	_ "gocloud.dev/blob/azureblob" // azblob://
	_ "gocloud.dev/blob/gcsblob"   // gs://
	_ "gocloud.dev/blob/memblob"   // mem://

	_ "github.com/nodediag/nodediag/internal/blobdrivers/s3file" // s3://, file://
)
