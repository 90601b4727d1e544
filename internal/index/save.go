package index

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// FileName is the index document inside an index folder.
const FileName = "index.json"

// Save writes idx into dir atomically: it is built in a sibling temporary folder and renamed into
// place, so a reader never sees half an index and a crash mid-write leaves the previous one intact.
func Save(dir string, idx *Index) error {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("save index: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, ".index-*")
	if err != nil {
		return fmt.Errorf("save index: %w", err)
	}
	defer os.RemoveAll(tmp) // no-op after the rename
	if err := Write(tmp, idx); err != nil {
		return fmt.Errorf("save index: %w", err)
	}
	old := ""
	if _, err := os.Stat(dir); err == nil {
		old = dir + ".old"
		os.RemoveAll(old)
		if err := os.Rename(dir, old); err != nil {
			return fmt.Errorf("save index: move previous index aside: %w", err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			os.Rename(old, dir) // put the previous index back: better stale than none
		}
		return fmt.Errorf("save index: %w", err)
	}
	if old != "" {
		os.RemoveAll(old)
	}
	return nil
}

// Write writes idx into the folder dir, making it when missing, and syncs it to disk. Nothing
// makes it appear atomically: the caller writes into a folder of its own and renames it into
// place, as Save does and as the store does with its bundle lock held.
func Write(dir string, idx *Index) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write index: %w", err)
	}
	if err := writeJSON(filepath.Join(dir, FileName), idx); err != nil {
		return fmt.Errorf("write index %s: %w", dir, err)
	}
	return nil
}

func writeJSON(path string, v any) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	enc := json.NewEncoder(w)
	if err := enc.Encode(v); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Load reads the index in dir. It returns ErrStale (with the index) when the index was written by
// another schema or catalog version, so the caller can rebuild it.
func Load(dir, catalogVersion string) (*Index, error) {
	f, err := os.Open(filepath.Join(dir, FileName))
	if err != nil {
		return nil, fmt.Errorf("load index: %w", err)
	}
	defer f.Close()
	var idx Index
	if err := json.NewDecoder(bufio.NewReaderSize(f, 1<<20)).Decode(&idx); err != nil {
		return nil, fmt.Errorf("load index %s: %w (rebuild it with `nodediag index --force`)", dir, err)
	}
	if idx.Schema != SchemaVersion || idx.CatalogVersion != catalogVersion {
		return &idx, fmt.Errorf("%w: built with schema %d and rule catalog %q, this nodediag has schema %d and catalog %q",
			ErrStale, idx.Schema, idx.CatalogVersion, SchemaVersion, catalogVersion)
	}
	return &idx, nil
}
