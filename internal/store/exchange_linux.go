//go:build linux

package store

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// exchange swaps the folders at a and b in one step (renameat2 RENAME_EXCHANGE, Linux 3.15+):
// every path lookup sees either the old pair or the swapped one. It returns errNoExchange where
// the kernel or the file system does not support it, and the caller falls back to two renames.
func exchange(a, b string) error {
	err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EINVAL), errors.Is(err, unix.EOPNOTSUPP):
		return fmt.Errorf("exchange %s and %s: %w: %w", a, b, errNoExchange, err)
	}
	return fmt.Errorf("exchange %s and %s: %w", a, b, err)
}
