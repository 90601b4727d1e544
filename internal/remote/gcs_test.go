package remote

import (
	"context"
	"fmt"
	"net"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/nodediag/nodediag/internal/search"
)

// TestGCS runs the store over the Cloud Storage JSON API of fake-gcs-server on loopback: the
// gs:// driver through the Google client, as the other drivers are tested against gofakes3 and
// Azurite.
func TestGCS(t *testing.T) {
	// The emulator routes object reads by the request's host, so it must know its own address
	// before it starts: a free loopback port, taken and released.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1", Port: uint16(port), PublicHost: addr})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: "nodediag"})
	// The Google client reads the emulator's address from here; gocloud.dev then uses no
	// credentials.
	t.Setenv("STORAGE_EMULATOR_HOST", addr)
	ctx := context.Background()
	_, src := writer(t, "gs://nodediag")
	r, err := Open(ctx, "gs://nodediag", t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if res, err := r.Sync(ctx); err != nil || len(res.Mirrored) != 1 {
		t.Fatalf("sync from the GCS emulator: %+v, %v", res, err)
	}
	e, err := r.Cache.Resolve("", src.Manifest.ID)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := r.Cache.Index(ctx, e, false)
	if err != nil {
		t.Fatal(err)
	}
	f := idx.Facts[0].Ref
	if out, err := search.Read(ctx, e, idx, search.ReadRequest{LogKey: f.File, StartLine: f.Line, LineCount: 1}); err != nil || len(out.Lines) != 1 {
		t.Fatalf("read %s from the GCS emulator: %+v, %v", f, out, err)
	}
	if _, err := Open(ctx, "gs://missing", t.TempDir(), nil); err == nil {
		t.Error("a missing bucket opened")
	}
}
