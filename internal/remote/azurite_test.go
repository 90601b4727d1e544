package remote

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
)

// azuriteKey is the storage key every Azurite accepts for its devstoreaccount1 account: the
// emulator's published development key, not a secret.
const azuriteKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

// startAzurite runs Azurite's blob service (npm's azurite, installed under NODEDIAG_AZURITE by
// .ci/run) on a loopback port for the azblob:// driver.
func startAzurite(t *testing.T) string {
	dir := os.Getenv("NODEDIAG_AZURITE")
	main := filepath.Join(dir, "node_modules", "azurite", "dist", "src", "blob", "main.js")
	if _, err := os.Stat(main); dir == "" || err != nil {
		if os.Getenv("NODEDIAG_REQUIRE_AZURITE") != "" {
			t.Fatalf("NODEDIAG_REQUIRE_AZURITE is set but NODEDIAG_AZURITE=%q has no node_modules/azurite", dir)
		}
		t.Skip("set NODEDIAG_AZURITE to a folder with `npm install azurite` to test azblob:// against Azurite")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	l.Close()
	cmd := exec.Command("node", main, "--blobHost", "127.0.0.1", "--blobPort", port,
		"--silent", "--skipApiVersionCheck", "--inMemoryPersistence")
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("Azurite did not listen on %s: %v\n%s", addr, err, stderr.String())
		}
	}
}

func TestAzureBlob(t *testing.T) {
	addr := startAzurite(t)
	t.Setenv("AZURE_STORAGE_ACCOUNT", "devstoreaccount1")
	t.Setenv("AZURE_STORAGE_KEY", azuriteKey)
	cred, err := azblob.NewSharedKeyCredential("devstoreaccount1", azuriteKey)
	if err != nil {
		t.Fatal(err)
	}
	client, err := azblob.NewClientWithSharedKeyCredential("http://"+addr+"/devstoreaccount1", cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := client.CreateContainer(ctx, "nodediag", nil); err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("azblob://nodediag?protocol=http&domain=%s&localemu=true", addr)
	roundTrip(t, url)
	if _, err := Open(ctx, "azblob://missing?protocol=http&domain="+addr+"&localemu=true", t.TempDir(), nil); err == nil {
		t.Error("a missing container opened")
	}
}
