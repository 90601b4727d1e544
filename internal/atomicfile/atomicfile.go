// Package atomicfile writes a small file so that a reader sees the old content or the new, never
// half of it, and a crash leaves the old one: the data goes into a hidden temporary file beside
// the target (same file system, so the rename is atomic) that is then renamed over it. Hidden,
// so that a listing of *.json or *.html skips a write in progress.
package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
)

// Write puts data at path with the permissions perm.
func Write(path string, data []byte, perm os.FileMode) error {
	return WriteWith(path, perm, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
}

// WriteWith puts at path, with the permissions perm, what fill writes into the temporary file:
// for content streamed by an encoder rather than held in memory.
func WriteWith(path string, perm os.FileMode, fill func(f *os.File) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	werr := fill(f)
	perr := f.Chmod(perm) // CreateTemp makes 0600
	cerr := f.Close()
	err = errors.Join(werr, perr, cerr)
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
