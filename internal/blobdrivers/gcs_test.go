package blobdrivers

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodediag/nodediag/internal/blobopen"
)

// TestGCSWithoutCredentials: a gs:// bucket without Google credentials is refused before
// gocloud's opener runs, with what is missing and how to give it, and nothing on stdout.
func TestGCSWithoutCredentials(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-key.json")
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", missing) // ADC stops here: no metadata server is asked
	t.Setenv("STORAGE_EMULATOR_HOST", "")
	t.Setenv("STORAGE_EMULATOR_HOST_GRPC", "")
	stdout := captureStdout(t, func() {
		_, err := blobopen.Open(context.Background(), "gs://nodediag-store?prefix=prod/")
		if err == nil {
			t.Fatal("a gs:// bucket opened without credentials")
		}
		for _, want := range []string{"no Google credentials", "GOOGLE_APPLICATION_CREDENTIALS", "no-such-key.json"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		}
	})
	if stdout != "" {
		t.Errorf("stdout %q: the driver's warning reached nodediag's data stream", stdout)
	}
}

func captureStdout(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	defer func() { os.Stdout = old }()
	f()
	w.Close()
	os.Stdout = old
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String()
}
