// Package benchdata finds the benchmark bundle that shared/bench/mkbundle.py writes, for the
// benchmarks (and the few tests) that measure against it, so that every package looks in the
// same place bench/run.sh writes to and none names an absolute path of one machine.
//
// NODEDIAG_BENCH_BUNDLE names a bundle to use instead (its folder, or its .tar.gz for Archive).
// Otherwise the bundle of a size is looked for in its own folder under NODEDIAG_BENCH_DIR
// (default: the system's temporary directory): nodediag-bench for 1024 MiB, as bench/run.sh
// writes it, nodediag-bench-<N>m for other sizes. A benchmark that finds none writes one with
// the generator beside the repository (../shared/bench/mkbundle.py; SHARED names another
// shared folder); a test skips, so that `go test ./...` never spends minutes writing a GiB.
package benchdata

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Dir is the folder the bundle of sizeMB MiB is written to.
func Dir(sizeMB int) string {
	base := os.Getenv("NODEDIAG_BENCH_DIR")
	if base == "" {
		base = os.TempDir()
	}
	if sizeMB == 1024 {
		return filepath.Join(base, "nodediag-bench")
	}
	return filepath.Join(base, fmt.Sprintf("nodediag-bench-%dm", sizeMB))
}

// Folder returns the extracted folder of the benchmark bundle of sizeMB MiB.
func Folder(tb testing.TB, sizeMB int) string {
	tb.Helper()
	if p := os.Getenv("NODEDIAG_BENCH_BUNDLE"); p != "" {
		return strings.TrimSuffix(p, ".tar.gz")
	}
	folder, _ := find(tb, sizeMB)
	return folder
}

// Archive returns the .tar.gz of the benchmark bundle of sizeMB MiB.
func Archive(tb testing.TB, sizeMB int) string {
	tb.Helper()
	if p := os.Getenv("NODEDIAG_BENCH_BUNDLE"); p != "" {
		if strings.HasSuffix(p, ".tar.gz") {
			return p
		}
		return p + ".tar.gz"
	}
	_, archive := find(tb, sizeMB)
	return archive
}

func find(tb testing.TB, sizeMB int) (folder, archive string) {
	tb.Helper()
	dir := Dir(sizeMB)
	if folder, archive, ok := written(dir); ok {
		return folder, archive
	}
	if _, bench := tb.(*testing.B); !bench {
		tb.Skipf("no %d MiB benchmark bundle in %s: bench/run.sh or a benchmark writes it", sizeMB, dir)
	}
	gen, err := generator()
	if err != nil {
		tb.Skipf("no %d MiB benchmark bundle in %s, and no generator: %v", sizeMB, dir, err)
	}
	if err := write(tb, gen, dir, sizeMB); err != nil {
		tb.Fatalf("write the %d MiB benchmark bundle: %v", sizeMB, err)
	}
	folder, archive, ok := written(dir)
	if !ok {
		tb.Fatalf("%s wrote no bundle into %s", gen, dir)
	}
	return folder, archive
}

// written finds a complete bundle in dir: the generator writes expected.json last.
func written(dir string) (folder, archive string, ok bool) {
	if _, err := os.Stat(filepath.Join(dir, "expected.json")); err != nil {
		return "", "", false
	}
	archives, _ := filepath.Glob(filepath.Join(dir, "eks_*.tar.gz"))
	if len(archives) != 1 {
		return "", "", false
	}
	archive = archives[0]
	folder = strings.TrimSuffix(archive, ".tar.gz")
	if fi, err := os.Stat(folder); err != nil || !fi.IsDir() {
		return "", "", false
	}
	return folder, archive, true
}

// generator finds mkbundle.py beside the repository: SHARED, else ../shared from the module root.
func generator() (string, error) {
	shared := os.Getenv("SHARED")
	if shared == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		for dir := wd; ; dir = filepath.Dir(dir) {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				shared = filepath.Join(dir, "..", "shared")
				break
			}
			if filepath.Dir(dir) == dir {
				return "", fmt.Errorf("no go.mod above %s", wd)
			}
		}
	}
	gen := filepath.Join(shared, "bench", "mkbundle.py")
	if _, err := os.Stat(gen); err != nil {
		return "", err
	}
	if _, err := exec.LookPath("python3"); err != nil {
		return "", err
	}
	return gen, nil
}

// write runs the generator under a lock: `go test -bench ./...` runs packages at once, and two
// generators writing one folder would leave neither bundle whole.
func write(tb testing.TB, gen, dir string, sizeMB int) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	lock, err := os.OpenFile(dir+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if _, _, ok := written(dir); ok {
		return nil // another process wrote it while this one waited
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	tb.Logf("writing a %d MiB benchmark bundle into %s with %s (a minute or more)", sizeMB, dir, gen)
	cmd := exec.Command("python3", gen, "--out", dir, "--size-mb", fmt.Sprint(sizeMB), "--tar")
	out, err := cmd.CombinedOutput()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("%s: %w: %s", gen, err, lastLines(out))
		}
		return err
	}
	return nil
}

func lastLines(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-5):], "\n")
}
