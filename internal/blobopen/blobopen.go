// Package blobopen opens gocloud.dev/blob buckets for the store (internal/remote) and the archive
// source (internal/source), after checks the binary's drivers register for what the driver
// itself would get wrong where the user cannot see it. It is its own package so that the
// drivers (internal/blobdrivers) can register checks without the store or the source
// importing them: the capture agent's binary links only the s3:// and file:// drivers.
package blobopen

import (
	"context"
	neturl "net/url"
	"sync"

	"gocloud.dev/blob"
)

// bucketChecks run before a bucket of their scheme is opened (RegisterCheck).
var (
	checksMu     sync.RWMutex
	bucketChecks = map[string]func(ctx context.Context, u *neturl.URL) error{}
)

// RegisterCheck makes Open call check before it opens a bucket of scheme, for what
// the driver would otherwise get wrong where the user cannot see it: gocloud's gs:// opener,
// when it finds no Google credentials, prints a warning on stdout (which carries nodediag's
// data) and goes on with an empty key, so the user's error is a PEM parse error.
// internal/blobdrivers registers them with the drivers.
func RegisterCheck(scheme string, check func(ctx context.Context, u *neturl.URL) error) {
	checksMu.Lock()
	defer checksMu.Unlock()
	bucketChecks[scheme] = check
}

// Open opens the bucket at url after its scheme's check. The store (internal/remote)
// and the archive source open buckets here, so both refuse the same URLs the same way.
func Open(ctx context.Context, url string) (*blob.Bucket, error) {
	if u, err := neturl.Parse(url); err == nil {
		checksMu.RLock()
		check := bucketChecks[u.Scheme]
		checksMu.RUnlock()
		if check != nil {
			if err := check(ctx, u); err != nil {
				return nil, err
			}
		}
	}
	return blob.OpenBucket(ctx, url)
}
