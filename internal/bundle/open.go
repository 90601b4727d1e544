package bundle

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	kgzip "github.com/klauspost/compress/gzip"
)

// Fetch, when set, brings a file that a bundle folder's manifest lists and its files/ lacks into
// place, or says why it cannot: a bundle mirrored from object storage holds only its manifest
// and index until a search or read needs one of its files. The package that mirrors buckets
// sets it, once, before any bundle is read.
var Fetch func(bundleDir string, f File) error

// Open reads a stored file of the bundle extracted in bundleDir, decompressing gzip files
// transparently. The file is opened through an os.Root, so a manifest edited to point outside
// the bundle cannot make Open read elsewhere. Reading a compressed file marked Truncated ends
// with the error at the point where its data broke, or, when a limit cut it (f.PlainCut), where
// the import stopped reading it.
func Open(bundleDir string, f File) (io.ReadCloser, error) {
	root, err := os.OpenRoot(filepath.Join(bundleDir, "files"))
	if err != nil {
		return nil, fmt.Errorf("open bundle: %w", err)
	}
	defer root.Close() // the opened file stays valid
	fh, err := root.Open(filepath.FromSlash(f.Path))
	if errors.Is(err, fs.ErrNotExist) && Fetch != nil {
		if err = Fetch(bundleDir, f); err == nil {
			fh, err = root.Open(filepath.FromSlash(f.Path))
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open bundle file: %w", err)
	}
	if !f.Compressed {
		return fh, nil
	}
	zr, err := kgzip.NewReader(bufio.NewReaderSize(fh, 256<<10))
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("open bundle file %s: %w", f.Path, err)
	}
	g := &gzipFile{Reader: zr, zr: zr, file: fh}
	if f.PlainCut != nil {
		g.Reader = io.LimitReader(zr, *f.PlainCut)
	}
	return g, nil
}

type gzipFile struct {
	io.Reader
	zr   *kgzip.Reader
	file *os.File
}

func (g *gzipFile) Close() error {
	g.zr.Close()
	return g.file.Close()
}
