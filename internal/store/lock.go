package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// A lockFile is an exclusive advisory lock (flock on Unix, LockFileEx on Windows) held through an
// open file. The kernel drops it when the holder exits, however it exits — kill -9 included — so
// a lock that can be taken proves its previous holder is gone. That is the only way the store
// tells a temporary folder of a live import from one a killed import left behind.
type lockFile struct{ f *os.File }

// errLockUnsupported is returned where the platform has no advisory file locks.
var errLockUnsupported = errors.New("file locks are not supported on this platform")

// tryLock takes the lock at path without waiting, creating the file when missing. ok is false
// when another open file holds it.
func tryLock(path string) (l *lockFile, ok bool, err error) {
	// A store written by an older nodediag has no locks/ folder yet.
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, false, fmt.Errorf("lock: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, false, fmt.Errorf("lock: %w", err)
	}
	ok, err = lockFd(f)
	if err != nil || !ok {
		f.Close()
		return nil, false, err
	}
	return &lockFile{f: f}, true, nil
}

// tryLockExisting is tryLock for a lock file that must already exist: a missing one is reported
// as fs.ErrNotExist instead of being created, since creating it would lock a folder nobody owns.
func tryLockExisting(path string) (*lockFile, bool, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, false, err
	}
	ok, err := lockFd(f)
	if err != nil || !ok {
		f.Close()
		return nil, false, err
	}
	return &lockFile{f: f}, true, nil
}

// lockWait takes the lock at path, waiting while another holds it, until ctx ends. It polls
// because a blocking flock cannot be interrupted by a context.
func lockWait(ctx context.Context, path string, waiting func()) (*lockFile, error) {
	delay := 10 * time.Millisecond
	for first := true; ; first = false {
		l, ok, err := tryLock(path)
		if err != nil || ok {
			return l, err
		}
		if first && waiting != nil {
			waiting()
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for lock %s: %w", path, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, 200*time.Millisecond)
	}
}

// unlock releases the lock by closing its file.
func (l *lockFile) unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	if err != nil && !errors.Is(err, fs.ErrClosed) {
		return fmt.Errorf("release lock: %w", err)
	}
	return nil
}
