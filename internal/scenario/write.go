package scenario

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Write writes the bundle folder (as the producer's archive would unpack) under dir and returns
// its path. Beside it go pod.json, events.json, truth.json and, where the scenario has one,
// previous.log.
func Write(dir string, s Scenario, layout Layout, opt Options) (string, error) {
	res, err := build(s, layout, opt)
	if err != nil {
		return "", err
	}
	root := filepath.Join(dir, res.root)
	for _, f := range res.files {
		p := filepath.Join(root, filepath.FromSlash(f.path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", fmt.Errorf("write bundle: %w", err)
		}
		if err := os.WriteFile(p, f.data, 0o644); err != nil {
			return "", fmt.Errorf("write bundle: %w", err)
		}
	}
	if err := res.writeSide(dir); err != nil {
		return "", err
	}
	return root, nil
}

// WriteArchive writes the producer's archive (.tar.gz with its real name and member layout)
// under dir and returns its path; the side files go beside it as with Write.
func WriteArchive(dir string, s Scenario, layout Layout, opt Options) (string, error) {
	res, err := build(s, layout, opt)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("write archive: %w", err)
	}
	data, err := res.archive(layout, opt.withDefaults().Capture)
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, res.arch)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return "", fmt.Errorf("write archive: %w", err)
	}
	if err := res.writeSide(dir); err != nil {
		return "", err
	}
	return p, nil
}

func (res *result) writeSide(dir string) error {
	truth, err := marshal(res.truth)
	if err != nil {
		return fmt.Errorf("truth.json: %w", err)
	}
	side := []file{{"pod.json", res.pod}, {"events.json", res.events}, {"truth.json", truth}}
	if res.prev != "" {
		side = append(side, file{"previous.log", []byte(res.prev)})
	}
	for _, f := range side {
		if err := os.WriteFile(filepath.Join(dir, f.path), f.data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", f.path, err)
		}
	}
	return nil
}

// memberNames maps bundle paths to tar member names in the producer's convention, with the
// directory entries the producer writes: `./` and directories for the collector (tar -C dir .),
// a top folder with directories for logdog, bare file names without directories for the NMA.
func memberNames(layout Layout, files []file) (dirs []string, names []string) {
	prefix := "./"
	switch layout {
	case Bottlerocket:
		prefix = "bottlerocket-logs/"
	case NMA:
		prefix = ""
	}
	seen := map[string]bool{}
	if prefix != "" {
		dirs = append(dirs, prefix)
		seen[prefix] = true
	}
	for _, f := range files {
		names = append(names, prefix+f.path)
		if layout == NMA {
			continue
		}
		for d := path.Dir(f.path); d != "."; d = path.Dir(d) {
			if full := prefix + d + "/"; !seen[full] {
				seen[full] = true
				dirs = append(dirs, full)
			}
		}
	}
	return dirs, names
}

// archive builds the .tar.gz: deterministic headers (capture time, root ownership), members in
// path order with each directory before its contents.
func (res *result) archive(layout Layout, capture time.Time) ([]byte, error) {
	dirs, names := memberNames(layout, res.files)
	type member struct {
		name string
		data []byte
		dir  bool
	}
	var ms []member
	for _, d := range dirs {
		ms = append(ms, member{name: d, dir: true})
	}
	for i, f := range res.files {
		ms = append(ms, member{name: names[i], data: f.data})
	}
	// A directory sorts before its contents when its trailing slash sorts first.
	key := func(m member) string { return strings.ReplaceAll(m.name, "/", "\x00") }
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && key(ms[j]) < key(ms[j-1]); j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	zw.ModTime = capture
	tw := tar.NewWriter(zw)
	for _, m := range ms {
		h := &tar.Header{Name: m.name, ModTime: capture, Uname: "root", Gname: "root", Format: tar.FormatGNU}
		if m.dir {
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
		} else {
			h.Typeflag, h.Mode, h.Size = tar.TypeReg, 0o644, int64(len(m.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("archive %s: %w", m.name, err)
		}
		if _, err := tw.Write(m.data); err != nil {
			return nil, fmt.Errorf("archive %s: %w", m.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	return buf.Bytes(), nil
}

// ReadTruth reads a truth.json written beside a bundle.
func ReadTruth(p string) (Truth, error) {
	var t Truth
	data, err := os.ReadFile(p)
	if err != nil {
		return t, fmt.Errorf("read truth: %w", err)
	}
	if err := json.Unmarshal(data, &t); err != nil {
		return t, fmt.Errorf("read truth %s: %w", p, err)
	}
	return t, nil
}
