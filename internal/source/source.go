// Package source reads node log archives out of a bucket prefix — s3://, gs://, azblob://,
// file:// through gocloud.dev/blob — for `import` and the indexing Job: which objects are
// archives, which instance each belongs to, and a download to local disk that the store then
// imports like any archive.
package source

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"gocloud.dev/blob"

	"github.com/nodediag/nodediag/internal/blobopen"
)

// Object is one archive in a bucket.
type Object struct {
	Bucket  string // the bucket's URL, as given (with its query: endpoint, prefix, region)
	Key     string // relative to the URL's prefix
	Size    int64
	ModTime time.Time
	MD5     []byte
}

// Tag tells whether an object changed: its MD5 when the store gives one, else its size and
// modification time.
func Tag(md5 []byte, mod time.Time, size int64) string {
	if len(md5) > 0 {
		return hex.EncodeToString(md5)
	}
	return fmt.Sprintf("%d@%s", size, mod.UTC().Format(time.RFC3339Nano))
}

// Tag is the object's Tag.
func (o Object) Tag() string { return Tag(o.MD5, o.ModTime, o.Size) }

// URL names the object for people and for the store's records: the bucket's URL without its
// query, the prefix put back, and the key. Credentials never go in a bucket URL, but endpoints
// and regions are noise in a bundle's origin.
func (o Object) URL() string {
	base, query, _ := strings.Cut(o.Bucket, "?")
	q, _ := url.ParseQuery(query)
	return strings.TrimSuffix(base, "/") + "/" + q.Get("prefix") + o.Key
}

// IsURL reports whether an argument names a bucket rather than a local path.
func IsURL(s string) bool { return strings.Contains(s, "://") }

// IsArchive reports whether an object's name is a node log archive.
func IsArchive(key string) bool {
	k := strings.ToLower(key)
	for _, ext := range []string{".tar.gz", ".tgz", ".tar", ".zip"} {
		if strings.HasSuffix(k, ext) {
			return true
		}
	}
	return false
}

// Bucket is an open source bucket. One is opened per run, not per archive: opening one loads
// the cloud's configuration and credentials (an STS call under IRSA).
type Bucket struct {
	url string
	b   *blob.Bucket
}

// Open opens the bucket at url (its ?prefix= narrows it).
func Open(ctx context.Context, url string) (*Bucket, error) {
	b, err := blobopen.Open(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("open the source %s: %w", url, err)
	}
	return &Bucket{url: url, b: b}, nil
}

// Close closes the bucket.
func (s *Bucket) Close() error { return s.b.Close() }

// List returns the archives in the bucket, in key order.
func (s *Bucket) List(ctx context.Context) ([]Object, error) {
	var out []Object
	it := s.b.List(nil)
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("list the source %s: %w", s.url, err)
		}
		if !obj.IsDir && IsArchive(obj.Key) {
			out = append(out, Object{Bucket: s.url, Key: obj.Key, Size: obj.Size, ModTime: obj.ModTime, MD5: obj.MD5})
		}
	}
}

// Stat returns one object of the bucket.
func (s *Bucket) Stat(ctx context.Context, key string) (Object, error) {
	a, err := s.b.Attributes(ctx, key)
	if err != nil {
		return Object{}, fmt.Errorf("the source object %s in %s: %w", key, s.url, err)
	}
	return Object{Bucket: s.url, Key: key, Size: a.Size, ModTime: a.ModTime, MD5: a.MD5}, nil
}

// Fetch downloads the object into dir under its own base name, and gives the file the object's
// modification time, so that the store's record of where a bundle came from (name, size, time)
// says the same of the object on the next import and it is skipped.
func (s *Bucket) Fetch(ctx context.Context, o Object, dir string) (string, error) {
	r, err := s.b.NewReader(ctx, o.Key, nil)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", o.URL(), err)
	}
	defer r.Close()
	dst := filepath.Join(dir, path.Base(o.Key))
	f, err := os.Create(dst)
	if err != nil {
		return "", err
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && !o.ModTime.IsZero() {
		err = os.Chtimes(dst, o.ModTime, o.ModTime)
	}
	if err != nil {
		os.Remove(dst)
		return "", fmt.Errorf("download %s: %w", o.URL(), err)
	}
	return dst, nil
}

var (
	instanceDir    = regexp.MustCompile(`^i-[0-9a-f]{8}(?:[0-9a-f]{9})?$`)
	instanceInName = regexp.MustCompile(`i-[0-9a-f]{8}`)
)

// InstanceOfKey is the instance a folder of the key names, when the archive's own name names
// none: the EKS log collector's name carries the instance, but a Bottlerocket logdog or node
// monitoring agent archive is named after the host or not at all, and is kept under
// <instance>/ by whoever uploads it.
func InstanceOfKey(key string) string {
	dirs := strings.Split(key, "/")
	if instanceInName.MatchString(dirs[len(dirs)-1]) {
		return ""
	}
	for i := len(dirs) - 2; i >= 0; i-- {
		if instanceDir.MatchString(dirs[i]) {
			return dirs[i]
		}
	}
	return ""
}
