package agent

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/nodediag/nodediag/internal/remote"
)

// TestBucketSink: with a bucket store the snapshot is published — a reader with the same --store
// on another machine finds it — and the node keeps no copy.
func TestBucketSink(t *testing.T) {
	ctx := context.Background()
	url := "file://" + filepath.ToSlash(t.TempDir()) + "?no_tmp_dir=true"
	r, err := remote.Open(ctx, url, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	h := newHost(t, "container-oom-v2")
	cs := fake.NewClientset(node(false), before(h.pod))
	sink := newRecordSink(StoreSink{Store: r.Cache, Remote: r})
	clk := &clock{t: h.capture}
	started(t, Options{Client: cs, Sink: sink, HostRoot: h.root, Run: h.run, Now: clk.now})
	update(t, cs, h.pod)
	waitFor(t, "the snapshot", func() bool { return sink.count() == 1 })

	if left, err := r.Cache.List(); err != nil || len(left) != 0 {
		t.Errorf("the node's cache still holds %d bundles (%v) after publishing", len(left), err)
	}
	reader, err := remote.Open(ctx, url, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	if _, err := reader.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := reader.Cache.List()
	if err != nil || len(got) != 1 {
		t.Fatalf("the bucket holds %d bundles (%v), want the snapshot", len(got), err)
	}
	if got[0].Manifest.InstanceID != "i-0a1b2c3d4e5f60718" {
		t.Errorf("published snapshot of instance %q, want the node's providerID's", got[0].Manifest.InstanceID)
	}
	if _, err := os.Stat(got[0].Dir); err != nil {
		t.Error(err)
	}
}
