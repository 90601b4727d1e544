//go:build !linux

package store

// exchange is Linux-only (renameat2); elsewhere replace moves the old folder aside first.
func exchange(a, b string) error { return errNoExchange }
