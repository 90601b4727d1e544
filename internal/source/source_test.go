package source

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestObjectURL(t *testing.T) {
	for _, c := range []struct{ bucket, key, want string }{
		{"s3://raw?prefix=incoming/&region=us-west-2", "eks_i-1.tar.gz", "s3://raw/incoming/eks_i-1.tar.gz"},
		{"file:///data/raw", "a/eks_i-1.tar.gz", "file:///data/raw/a/eks_i-1.tar.gz"},
	} {
		if got := (Object{Bucket: c.bucket, Key: c.key}).URL(); got != c.want {
			t.Errorf("URL of %q in %q = %q, want %q", c.key, c.bucket, got, c.want)
		}
	}
}

func TestInstanceOfKey(t *testing.T) {
	for key, want := range map[string]string{
		"incoming/i-02eba8d3c3e3552d7/bottlerocket-logs.tar.gz":               "i-02eba8d3c3e3552d7",
		"i-0a1b2c3d/2026/ip-10-0-37-142.ec2.internal-logs.tar.gz":             "i-0a1b2c3d",
		"i-0aaaaaaaaaaaaaaaa/eks_i-0a1b2c3d4e5f60718_2026-11-20_1030-UTC.tgz": "", // the name says
		"incoming/bottlerocket-logs.tar.gz":                                   "",
		"i-xyz/bottlerocket-logs.tar.gz":                                      "",
	} {
		if got := InstanceOfKey(key); got != want {
			t.Errorf("InstanceOfKey(%q) = %q, want %q", key, got, want)
		}
	}
}

// List keeps archives only; Fetch gives the download the object's time, which is what the
// store's record of an origin compares on the next import.
func TestListAndFetch(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "in", "i-0a1b2c3d"), 0o755)
	os.WriteFile(filepath.Join(dir, "in", "i-0a1b2c3d", "bottlerocket-logs.tar.gz"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, "in", "notes.txt"), []byte("not an archive"), 0o644)
	when := time.Date(2026, 11, 20, 10, 31, 0, 0, time.UTC)
	os.Chtimes(filepath.Join(dir, "in", "i-0a1b2c3d", "bottlerocket-logs.tar.gz"), when, when)
	ctx := context.Background()
	b, err := Open(ctx, "file://"+filepath.ToSlash(dir)+"?prefix=in/")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	objs, err := b.List(ctx)
	if err != nil || len(objs) != 1 || objs[0].Key != "i-0a1b2c3d/bottlerocket-logs.tar.gz" {
		t.Fatalf("List: %+v, %v", objs, err)
	}
	p, err := b.Fetch(ctx, objs[0], t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil || !fi.ModTime().Equal(when) || fi.Size() != 1 {
		t.Errorf("fetched %s: %v, %v", p, fi, err)
	}
	if m, err := Open(ctx, "file://"+filepath.ToSlash(dir)+"/missing"); err == nil {
		if _, err := m.List(ctx); err == nil {
			t.Error("listing a missing folder succeeded")
		}
		m.Close()
	}
}
