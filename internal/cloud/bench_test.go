package cloud

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkDownload measures streaming a 32 MiB object from the loopback fake to disk, so the
// .part bookkeeping and progress callbacks can be seen not to dominate the copy.
func BenchmarkDownload(b *testing.B) {
	f := newAccountB(b)
	data := archive(32 << 20)
	const key = "eks_" + nodeID + "_bench.tar.gz"
	etag := f.PutObject(bucket, key, data, time.Now())
	a := newAWS(f, Options{Bucket: bucket})
	obj := Object{Bucket: bucket, Key: key, ETag: etag, Size: int64(len(data))}
	dir := b.TempDir()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := a.Download(context.Background(), "us-east-1", obj, filepath.Join(dir, "b.tar.gz"), func(int64, int64) {}); err != nil {
			b.Fatal(err)
		}
	}
}
