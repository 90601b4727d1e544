package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nodediag/nodediag/internal/detect"
	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/tartest"
)

// The crash tests run a store operation in a helper process — this test binary started again
// with helperEnv set, as os/exec's own tests do — stop it at a named point (the hook) or after a
// delay, kill it with SIGKILL, and check what the store holds: the bundle before the operation or
// the one after, whole, never a mix, and nothing left once the store is opened again.

const helperEnv = "NODEDIAG_STORE_HELPER"

// TestHelperProcess is not a test: it is the helper process's body, and returns at once in a
// normal test run.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("run only as the helper process of the crash tests")
	}
	os.Exit(helperMain())
}

// helperMain runs one operation on the store HELPER_ROOT: "import" (HELPER_SRC, with
// HELPER_FORCE=1 to replace) or "index" (rebuild the index of the only bundle). At the hook
// point HELPER_KILL_AT it says so on stdout and sleeps until killed; at HELPER_BARRIER_AT it
// waits until HELPER_BARRIER_N helpers have got there (files in HELPER_BARRIER_DIR).
func helperMain() int {
	root, op := os.Getenv("HELPER_ROOT"), os.Getenv("HELPER_OP")
	forceTwoStep = os.Getenv("HELPER_TWO_STEP") == "1"
	killAt, barrierAt := os.Getenv("HELPER_KILL_AT"), os.Getenv("HELPER_BARRIER_AT")
	hook = func(point string) {
		if point == barrierAt {
			dir := os.Getenv("HELPER_BARRIER_DIR")
			os.WriteFile(filepath.Join(dir, fmt.Sprint(os.Getpid())), nil, 0o644)
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				if ents, _ := os.ReadDir(dir); fmt.Sprint(len(ents)) == os.Getenv("HELPER_BARRIER_N") {
					break
				}
			}
		}
		if point == killAt {
			fmt.Println("at", point)
			time.Sleep(time.Minute) // killed here
		}
	}
	st, err := Open(root, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	ctx := context.Background()
	switch op {
	case "import":
		var res *ImportResult
		res, err = st.Import(ctx, os.Getenv("HELPER_SRC"), ImportOptions{Force: os.Getenv("HELPER_FORCE") == "1"})
		if err == nil {
			fmt.Println("existing", res.Existing)
		}
	case "index":
		var e *Entry
		if e, err = st.Resolve("", ""); err == nil {
			_, err = st.Index(ctx, e, true)
		}
	default:
		err = fmt.Errorf("unknown HELPER_OP %q", op)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	return 0
}

// helper starts the helper process with env added.
func helper(t *testing.T, env ...string) (*exec.Cmd, *bufio.Reader, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(append(os.Environ(), helperEnv+"=1"), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, bufio.NewReader(out), &stderr
}

// killAt runs the helper until it reports reaching point, then SIGKILLs it.
func killAt(t *testing.T, point string, env ...string) {
	t.Helper()
	cmd, out, stderr := helper(t, append(env, "HELPER_KILL_AT="+point)...)
	line := make(chan string, 1)
	go func() {
		l, _ := out.ReadString('\n')
		line <- l
	}()
	select {
	case l := <-line:
		if strings.TrimSpace(l) != "at "+point {
			cmd.Wait()
			t.Fatalf("helper never reached %s (said %q): %s", point, l, stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("helper did not reach %s in 20 s: %s", point, stderr)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
}

// versions makes two folders with the same name and total size — so the same bundle id — that
// differ in one file: v1 holds var_log/marker-a.log, v2 var_log/marker-b.log. A store that
// mixed them would list one marker in its manifest and hold the other on disk.
func versions(t *testing.T) (v1, v2 string) {
	t.Helper()
	base := t.TempDir()
	name := strings.TrimSuffix(filepath.Base(example), ".tar.gz")
	for _, v := range []string{"a", "b"} {
		dir := filepath.Join(base, v, name)
		tartest.Untar(t, example, dir)
		line := fmt.Sprintf("2026-11-20T10:29:00Z marker of version %s\n", v)
		if err := os.WriteFile(filepath.Join(dir, "var_log", "marker-"+v+".log"), []byte(strings.Repeat(line, 50)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(base, "a", name), filepath.Join(base, "b", name)
}

// state is what the store answers for the bundle: "none", "a" or "b". It fails the test on
// anything else: a bundle listed without being whole (manifest and index loadable, every file
// present at its size and none other, the index of these files) is a mix.
func state(t *testing.T, st *Store, id string) string {
	t.Helper()
	all, err := st.List()
	if err != nil {
		t.Fatal(err)
	}
	var got []*Entry
	for _, e := range all {
		if e.Manifest.ID == id {
			got = append(got, e)
		}
	}
	switch len(got) {
	case 0:
		return "none"
	case 1:
	default:
		t.Fatalf("bundle %s listed %d times", id, len(got))
	}
	e := got[0]
	if _, err := st.Resolve(e.Manifest.InstanceID, id); err != nil {
		t.Fatalf("listed bundle does not resolve: %v", err)
	}
	if probs := fileProblems(e); len(probs) > 0 {
		t.Fatalf("listed bundle misses files: %v", probs)
	}
	var onDisk, listed []string
	filepath.WalkDir(e.FilesDir(), func(p string, de fs.DirEntry, err error) error {
		if err == nil && !de.IsDir() {
			r, _ := filepath.Rel(e.FilesDir(), p)
			onDisk = append(onDisk, filepath.ToSlash(r))
		}
		return nil
	})
	for _, f := range e.Manifest.Files {
		listed = append(listed, f.Path)
	}
	slices.Sort(onDisk)
	slices.Sort(listed)
	if !slices.Equal(onDisk, listed) {
		t.Fatalf("files on disk differ from the manifest's:\n disk %v\n manifest %v", onDisk, listed)
	}
	idx, err := index.Load(e.IndexDir(), detect.Version())
	if err != nil {
		t.Fatalf("listed bundle's index does not load: %v", err)
	}
	if why := indexMismatch(e, idx); why != "" {
		t.Fatalf("listed bundle's index is not its own: %s", why)
	}
	a, b := slices.Contains(listed, "var_log/marker-a.log"), slices.Contains(listed, "var_log/marker-b.log")
	switch {
	case a && !b:
		return "a"
	case b && !a:
		return "b"
	}
	t.Fatalf("bundle holds markers a=%v b=%v", a, b)
	return ""
}

// reopened opens the store as the next run would — cleaning up — and checks nothing is left.
func reopened(t *testing.T, root string) *Store {
	t.Helper()
	st, err := Open(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A kill between creating a work folder's lock and making the folder leaves the lock file
	// alone, a few bytes that the Open a minute later removes (strayGrace): nothing else may stay.
	left, _ := os.ReadDir(filepath.Join(root, "tmp"))
	left = slices.DeleteFunc(left, func(de os.DirEntry) bool { return !de.IsDir() && strings.HasSuffix(de.Name(), lockSuffix) })
	if len(left) != 0 {
		t.Errorf("tmp/ not cleaned by Open: %v", left)
	}
	h, err := st.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !h.Healthy {
		t.Errorf("doctor after Open: %+v", h.Problems)
	}
	return st
}

func importOnce(t *testing.T, root, src string) *ImportResult {
	t.Helper()
	st, err := Open(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.Import(context.Background(), src, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestImportKilled kills imports at every step and checks that the store then answers for the
// bundle before (or none, for a first import) or the one after, and that the next Open leaves
// nothing behind.
func TestImportKilled(t *testing.T) {
	v1, v2 := versions(t)
	probe := importOnce(t, t.TempDir(), v1)
	id := probe.Entry.Manifest.ID
	if p2 := importOnce(t, t.TempDir(), v2); p2.Entry.Manifest.ID != id {
		t.Fatalf("the two versions got ids %s and %s; the test needs one", id, p2.Entry.Manifest.ID)
	}
	cases := []struct {
		name, point string
		first       bool // import into an empty store; else replace v1 with --force
		twoStep     bool // the fallback replacement of systems without renameat2
		atKill      string
		after       string
	}{
		{"first/extracted", "import:extracted", true, false, "none", "none"},
		{"first/locked", "import:locked", true, false, "none", "none"},
		{"first/staged", "import:staged", true, false, "none", "none"},
		{"first/swapped", "import:swapped", true, false, "a", "a"},
		{"force/extracted", "import:extracted", false, false, "a", "a"},
		{"force/locked", "import:locked", false, false, "a", "a"},
		{"force/staged", "import:staged", false, false, "a", "a"},
		{"force/swapped", "import:swapped", false, false, "b", "b"},
		{"two-step/staged", "import:staged", false, true, "a", "a"},
		// Between the two renames the bundle is briefly gone — not listed, never half there —
		// and the next Open puts the old one back.
		{"two-step/moved-aside", "replace:moved-aside", false, true, "none", "a"},
		{"two-step/swapped", "import:swapped", false, true, "b", "b"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			src, env := v1, []string{"HELPER_ROOT=" + root, "HELPER_OP=import"}
			if !c.first {
				importOnce(t, root, v1)
				src = v2
				env = append(env, "HELPER_FORCE=1")
			}
			if c.twoStep {
				env = append(env, "HELPER_TWO_STEP=1")
			}
			killAt(t, c.point, append(env, "HELPER_SRC="+src)...)
			st, err := OpenNoCleanup(root, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := state(t, st, id); got != c.atKill {
				t.Errorf("right after the kill the store answers %s, want %s", got, c.atKill)
			}
			if got := state(t, reopened(t, root), id); got != c.after {
				t.Errorf("after the next Open the store answers %s, want %s", got, c.after)
			}
		})
	}
}

// TestIndexRebuildKilled kills `index --force` at every step: the index loads whole before and
// after cleanup, the old one or the new one.
func TestIndexRebuildKilled(t *testing.T) {
	v1, _ := versions(t)
	cases := []struct {
		point   string
		twoStep bool
		newer   bool // the new index is in place
		gone    bool // right after the kill the bundle is not listed (two-step gap)
	}{
		{"index:built", false, false, false},
		{"index:staged", false, false, false},
		{"index:swapped", false, true, false},
		{"replace:moved-aside", true, false, true},
		{"index:swapped", true, true, false},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/two-step=%v", c.point, c.twoStep), func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			res := importOnce(t, root, v1)
			id := res.Entry.Manifest.ID
			// Mark the index the import wrote, to tell it from the rebuilt one (Built counts
			// whole seconds, too coarse).
			const oldMark = "test: the index before the rebuild"
			res.Index.Warnings = append(res.Index.Warnings, oldMark)
			if err := index.Write(res.Entry.IndexDir(), res.Index); err != nil {
				t.Fatal(err)
			}
			env := []string{"HELPER_ROOT=" + root, "HELPER_OP=index"}
			if c.twoStep {
				env = append(env, "HELPER_TWO_STEP=1")
			}
			killAt(t, c.point, env...)
			check := func(st *Store, when string, mayBeGone bool) {
				t.Helper()
				got := state(t, st, id)
				if got == "none" && mayBeGone {
					return
				}
				if got != "a" {
					t.Fatalf("%s: the store answers %s, want the bundle", when, got)
				}
				idx, err := index.Load(filepath.Join(res.Entry.Dir, "index"), detect.Version())
				if err != nil {
					t.Fatal(err)
				}
				if newer := !slices.Contains(idx.Warnings, oldMark); newer != c.newer {
					t.Errorf("%s: the rebuilt index in place: %v, want %v", when, newer, c.newer)
				}
			}
			st, err := OpenNoCleanup(root, nil)
			if err != nil {
				t.Fatal(err)
			}
			check(st, "right after the kill", c.gone)
			check(reopened(t, root), "after the next Open", false)
		})
	}
}

// TestImportKilledAtRandom kills forced re-imports after delays that land anywhere in an import
// — extraction, indexing, the swap — with the two versions alternating. Whenever it lands, the
// store holds one whole version, and the next Open cleans up.
func TestImportKilledAtRandom(t *testing.T) {
	v1, v2 := versions(t)
	root := t.TempDir()
	id := importOnce(t, root, v1).Entry.Manifest.ID
	// Time one helper run, so that the delays spread over a whole import on any machine.
	start := time.Now()
	cmd, _, stderr := helper(t, "HELPER_ROOT="+root, "HELPER_OP=import", "HELPER_FORCE=1", "HELPER_SRC="+v2)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper: %v: %s", err, stderr)
	}
	whole := time.Since(start)
	prev := "b"
	for i := range 8 {
		src, next := v1, "a"
		if prev == "a" {
			src, next = v2, "b"
		}
		delay := whole * time.Duration(i+1) / 8
		cmd, _, _ := helper(t, "HELPER_ROOT="+root, "HELPER_OP=import", "HELPER_FORCE=1", "HELPER_SRC="+src)
		time.Sleep(delay)
		cmd.Process.Kill()
		finished := cmd.Wait() == nil
		st, err := OpenNoCleanup(root, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := state(t, st, id)
		if got != prev && got != next || finished && got != next {
			t.Fatalf("killed after %s (finished %v): the store answers %s, want %s or %s", delay, finished, got, prev, next)
		}
		prev = state(t, reopened(t, root), id)
	}
}

// TestCleanupSparesLiveImports: the work folder of an import that is running — here paused in
// a helper process — survives another process's Open; once the import is killed, the next Open
// removes it. A folder without a lock (an older nodediag's) goes only once unchanged for an hour.
func TestCleanupSparesLiveImports(t *testing.T) {
	v1, _ := versions(t)
	root := t.TempDir()
	cmd, out, stderr := helper(t, "HELPER_ROOT="+root, "HELPER_OP=import", "HELPER_SRC="+v1, "HELPER_KILL_AT=import:staged")
	if l, _ := out.ReadString('\n'); strings.TrimSpace(l) != "at import:staged" {
		t.Fatalf("helper: %q %s", l, stderr)
	}
	legacyOld := filepath.Join(root, "tmp", "import-legacy-old")
	legacyNew := filepath.Join(root, "tmp", "import-legacy-new")
	for _, d := range []string{legacyOld, legacyNew} {
		if err := os.MkdirAll(filepath.Join(d, "files"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * unownedGrace)
	for _, p := range []string{filepath.Join(legacyOld, "files"), legacyOld} {
		os.Chtimes(p, old, old)
	}

	st, err := Open(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	staged, _ := filepath.Glob(filepath.Join(root, "tmp", "import-*", "bundle", ManifestFile))
	if len(staged) != 1 {
		t.Fatalf("the running import's staged bundle did not survive Open: %v", staged)
	}
	if _, err := os.Stat(legacyOld); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a lockless folder unchanged for 2 h was kept: %v", err)
	}
	if _, err := os.Stat(legacyNew); err != nil {
		t.Errorf("a lockless folder changed just now was removed: %v", err)
	}
	h, err := st.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !h.Healthy || len(h.InUse) != 2 {
		t.Errorf("doctor with a live import: healthy=%v in use %v problems %+v; want healthy with 2 in use", h.Healthy, h.InUse, h.Problems)
	}

	cmd.Process.Kill()
	cmd.Wait()
	os.RemoveAll(legacyNew)
	reopened(t, root)
}

// TestConcurrentImports: two processes import one bundle at the same moment — both past
// extraction before either commits. Both succeed, without and with --force, and the store
// holds it once, whole.
func TestConcurrentImports(t *testing.T) {
	v1, _ := versions(t)
	for _, force := range []string{"0", "1"} {
		t.Run("force="+force, func(t *testing.T) {
			root, barrier := t.TempDir(), t.TempDir()
			var cmds []*exec.Cmd
			var outs []*bufio.Reader
			var errs []*strings.Builder
			for range 2 {
				cmd, out, stderr := helper(t, "HELPER_ROOT="+root, "HELPER_OP=import", "HELPER_SRC="+v1, "HELPER_FORCE="+force,
					"HELPER_BARRIER_AT=import:extracted", "HELPER_BARRIER_DIR="+barrier, "HELPER_BARRIER_N=2")
				cmds, outs, errs = append(cmds, cmd), append(outs, out), append(errs, stderr)
			}
			existing := 0
			for i, cmd := range cmds {
				said, _ := io.ReadAll(outs[i])
				if err := cmd.Wait(); err != nil {
					t.Errorf("import %d: %v: %s", i, err, errs[i])
				}
				if strings.TrimSpace(string(said)) == "existing true" {
					existing++
				}
			}
			// Without --force the second import, queued behind the first, finds its bundle;
			// with it, both write and the last one's stays.
			if want := map[string]int{"0": 1, "1": 0}[force]; existing != want {
				t.Errorf("%d imports found the bundle already there, want %d", existing, want)
			}
			st := reopened(t, root)
			all, err := st.List()
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 1 {
				t.Fatalf("%d bundles listed, want 1", len(all))
			}
			if got := state(t, st, all[0].Manifest.ID); got != "a" {
				t.Errorf("store answers %s", got)
			}
		})
	}
}

// TestStrayLockFiles: a work folder's lock file left alone (its run killed before it made the
// folder) is removed by an Open once older than strayGrace, and left while it may still be
// about to get its folder.
func TestStrayLockFiles(t *testing.T) {
	root := t.TempDir()
	if _, err := Open(root, nil); err != nil {
		t.Fatal(err)
	}
	old, fresh := filepath.Join(root, "tmp", "import-old.lock"), filepath.Join(root, "tmp", "import-new.lock")
	for _, p := range []string{old, fresh} {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-2 * strayGrace)
	if err := os.Chtimes(old, past, past); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(root, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a stray lock older than strayGrace survived Open: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a fresh lock file (its folder may be coming) was removed: %v", err)
	}
}
