package remote

import (
	"context"
	"fmt"
	"net"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"
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
	roundTrip(t, "gs://nodediag")
	if _, err := Open(ctx, "gs://missing", t.TempDir(), nil); err == nil {
		t.Error("a missing bucket opened")
	}
}
