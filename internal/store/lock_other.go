//go:build !unix && !windows

package store

import (
	"fmt"
	"os"
)

// lockFd fails: without advisory locks the store cannot tell a live import from a dead one, and
// guessing would either delete a running import's files or never clean up.
func lockFd(f *os.File) (bool, error) {
	return false, fmt.Errorf("lock %s: %w", f.Name(), errLockUnsupported)
}
