package gather

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/nodediag/nodediag/internal/journal"
)

// Runner starts a command and returns its standard output. Closing the reader waits for the
// command and returns its failure (with what it said on stderr). Tests replace it.
type Runner func(ctx context.Context, name string, args ...string) (io.ReadCloser, error)

// LocalOptions tunes Local. The zero value reads the real machine.
type LocalOptions struct {
	Root         string // filesystem root the node's files are read under; "" is "/"
	Run          Runner // nil: ExecRunner
	Since        string // journalctl --since; "": "10 days ago", like the collector
	MaxFileBytes int64  // per-file cap; 0: DefaultMaxFileBytes
	Timeout      time.Duration
	Now          func() time.Time
	Progress     Progress

	// The capture agent (internal/agent) gathers a small bundle about one crash with these.
	Method        string   // the folder name's and manifest's method; "": "local"
	InstanceID    string   // the node's EC2 instance id when the caller knows it (the API's providerID); "": read from the host
	NodeName      string   // the Kubernetes node name; "": the host name
	PodDirs       []string // nil: all of /var/log/pods; else only these folders under it (e.g. "ns_pod_uid/container")
	MaxTotalBytes int64    // cap on the whole bundle; 0: none beyond the per-file cap
	Extra         []ExtraFile
	Trigger       *Trigger // recorded in the manifest: what made the agent take the bundle

	// Journal says how the kubelet, containerd and kernel journals are read: JournalAuto (""),
	// JournalFiles or JournalCommand.
	Journal string
}

// ExtraFile is a file the caller already holds (a pod's status and events read from the API),
// written into the bundle at Path under the same caps as the node's files.
type ExtraFile struct {
	Path, Source string
	Data         []byte
}

// ExecRunner runs a command on this machine.
func ExecRunner(ctx context.Context, name string, args ...string) (io.ReadCloser, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &cmdReader{ReadCloser: out, cmd: cmd, stderr: &stderr}, nil
}

type cmdReader struct {
	io.ReadCloser
	cmd    *exec.Cmd
	stderr *bytes.Buffer
}

func (c *cmdReader) Close() error {
	c.ReadCloser.Close()
	if err := c.cmd.Wait(); err != nil {
		msg := strings.TrimSpace(c.stderr.String())
		if len(msg) > 500 {
			msg = msg[:500] + "…"
		}
		return fmt.Errorf("%s: %w: %s", c.cmd.Path, err, msg)
	}
	return nil
}

// Local gathers a bundle on the node it runs on: journalctl for kubelet and containerd, kernel
// messages (journalctl -k, else dmesg and dmesg --ctime like the collector), /var/log/messages or
// syslog, and /var/log/pods. It works without root with what it can read and lists the rest in
// Result.Missing. It writes dstParent/eks_<instance-or-host>_<YYYY-MM-DD_HHMM>-UTC_nodediag-local/.
func Local(ctx context.Context, dstParent string, opt LocalOptions) (*Result, error) {
	if opt.Root == "" {
		opt.Root = "/"
	}
	if opt.Run == nil {
		opt.Run = ExecRunner
	}
	if opt.Since == "" {
		opt.Since = "10 days ago"
	}
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	now := time.Now
	if opt.Now != nil {
		now = opt.Now
	}
	method := opt.Method
	if method == "" {
		method = "local"
	}
	b, err := newBuilder(dstParent, method, now(), opt.MaxFileBytes, opt.Progress)
	if err != nil {
		return nil, err
	}
	b.maxTotal = opt.MaxTotalBytes
	b.res.Trigger = opt.Trigger
	l := &local{b: b, opt: opt, now: now}
	defer l.close()
	b.plan(7)

	b.step("instance id")
	id, host := l.identity()
	if opt.InstanceID != "" && validInstanceID.MatchString(opt.InstanceID) {
		id = opt.InstanceID
	}
	if opt.NodeName != "" {
		host = opt.NodeName
	}
	b.res.InstanceID, b.res.NodeName = id, host
	if id != "" {
		if err := b.writeText(ctx, "system/instance-id.txt", "instance id file", id); err != nil {
			return nil, b.abort(err)
		}
	} else {
		b.missing("instance id", "neither /sys/devices/virtual/dmi/id/board_asset_tag nor /var/lib/cloud/data/instance-id holds an EC2 instance id (IMDS is not asked)")
	}

	// The caller's files first: they are small and about the crash itself, so the byte budget
	// cuts the node's journals rather than them.
	b.step("files from the caller")
	for _, x := range opt.Extra {
		if _, _, err := b.write(ctx, x.Path, x.Source, bytes.NewReader(x.Data), nil); err != nil {
			return nil, b.abort(err)
		}
	}
	for _, u := range unitQueries {
		b.step("journalctl -u " + u.unit)
		args := []string{"-u", u.unit, "--since", opt.Since, "-o", "short-iso-precise", "--no-pager"}
		if err := l.journal(ctx, u.path, u.unit, args); err != nil {
			return nil, b.abort(err)
		}
	}
	b.step("kernel messages")
	if err := l.kernel(ctx); err != nil {
		return nil, b.abort(err)
	}
	b.step("/var/log/messages or syslog")
	got := 0
	for _, f := range []struct{ src, rel string }{{"var/log/messages", "var_log/messages"}, {"var/log/syslog", "var_log/syslog"}} {
		ok, err := l.copyFile(ctx, f.src, f.rel, true)
		if err != nil {
			return nil, b.abort(err)
		}
		if ok {
			got++
		}
	}
	if got == 0 {
		b.missing("var_log/messages", "neither /var/log/messages nor /var/log/syslog could be read (absent on AL2023, which has no rsyslog)")
	}
	b.step("/var/log/pods")
	if err := l.pods(ctx); err != nil {
		return nil, b.abort(err)
	}
	name := id
	if name == "" {
		name = host
	}
	return b.finish(name)
}

type local struct {
	b   *builder
	opt LocalOptions
	now func() time.Time
	jr  *journal.Journal // the journal files under Root, once opened
	// jrFound counts the journal files found under Root, opened or not.
	jrFound int
}

func (l *local) close() {
	if l.jr != nil {
		l.jr.Close()
	}
}

func (l *local) path(rel string) string { return filepath.Join(l.opt.Root, filepath.FromSlash(rel)) }

// identity finds the instance id where an EC2 node keeps it without IMDS, and the host name.
func (l *local) identity() (id, host string) {
	for _, p := range []string{"sys/devices/virtual/dmi/id/board_asset_tag", "var/lib/cloud/data/instance-id"} {
		if data, err := os.ReadFile(l.path(p)); err == nil {
			if s := strings.TrimSpace(string(data)); validInstanceID.MatchString(s) {
				id = s
				break
			}
		}
	}
	for _, p := range []string{"etc/hostname", "proc/sys/kernel/hostname"} {
		if data, err := os.ReadFile(l.path(p)); err == nil {
			if s := strings.TrimSpace(string(data)); s != "" {
				return id, s
			}
		}
	}
	if l.opt.Root == "/" {
		host, _ = os.Hostname()
	}
	return id, host
}

// run starts a command bounded by the per-command timeout.
func (l *local) run(ctx context.Context, name string, args ...string) (io.ReadCloser, context.CancelFunc, error) {
	cctx, cancel := context.WithTimeout(ctx, l.opt.Timeout)
	rc, err := l.opt.Run(cctx, name, args...)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	return rc, cancel, nil
}

// command writes one command's output to rel. It reports whether the file was kept and, when not,
// why; journal says the output is journalctl's, whose markers ("-- No entries --") are not
// content.
func (l *local) command(ctx context.Context, rel string, journal bool, name string, args ...string) (bool, string, error) {
	source := name + " " + strings.Join(quoteArgs(args), " ")
	rc, cancel, err := l.run(ctx, name, args...)
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return false, name + " is not installed", nil
		}
		return false, fmt.Sprintf("%s could not start: %v", source, err), nil
	}
	defer cancel()
	var n int
	conv := lineFunc(nil)
	if journal {
		conv = countEntries(&n)
	}
	fr, ok, werr := l.b.write(ctx, rel, source, rc, conv)
	cerr := rc.Close()
	if werr != nil {
		return false, "", werr
	}
	timedOut := errors.Is(cerr, context.DeadlineExceeded) || cerr != nil && ctx.Err() == nil && strings.Contains(cerr.Error(), "signal: killed")
	if ok && journal && n == 0 {
		l.b.drop(rel)
		ok = false
	}
	switch {
	case ok && timedOut:
		l.b.missing(rel, fmt.Sprintf("%s was stopped at the %s timeout after %d lines: newer lines are missing", source, l.opt.Timeout, fr.Lines))
	case ok && cerr != nil:
		l.b.missing(rel, fmt.Sprintf("%s failed after %d lines: %v", source, fr.Lines, cerr))
	case !ok && cerr != nil:
		return false, fmt.Sprintf("%s failed: %v", source, cerr), nil
	case !ok:
		return false, source + " printed no entries (the unit is absent, or this user may not read the journal: run as root or in group systemd-journal/adm)", nil
	}
	return ok, "", nil
}

func quoteArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " \t") {
			a = `"` + a + `"`
		}
		out[i] = a
	}
	return out
}

// journal gathers one unit's journal into rel, by journalctl or by nodediag's reader as
// opt.Journal says.
func (l *local) journal(ctx context.Context, rel, unit string, args []string) error {
	ok, why, err := l.journalEntries(ctx, rel, "-u "+unit, journal.Filter{Units: []string{unit}}, args)
	if err == nil && !ok {
		l.b.missing(rel, why)
	}
	return err
}

// journalEntries writes what journalctl args prints into rel: from the journal files first
// under JournalFiles (journalctl when there are none), from journalctl first otherwise, and
// from the files when journalctl is not installed.
func (l *local) journalEntries(ctx context.Context, rel, what string, flt journal.Filter, args []string) (bool, string, error) {
	if l.opt.Journal == JournalFiles {
		ok, tried, why, err := l.readJournal(ctx, rel, what, flt)
		if err != nil || ok || tried {
			return ok, why, err
		}
		ok, whyCmd, err := l.command(ctx, rel, true, "journalctl", args...)
		if ok {
			l.b.res.JournalReader = ReaderJournalctl
		}
		return ok, why + "; " + whyCmd, err
	}
	ok, why, err := l.command(ctx, rel, true, "journalctl", args...)
	if err != nil || ok {
		if ok {
			l.b.res.JournalReader = ReaderJournalctl
		}
		return ok, why, err
	}
	if l.opt.Journal == JournalCommand || why != "journalctl is not installed" {
		return false, why, nil
	}
	ok, _, whyFiles, err := l.readJournal(ctx, rel, what, flt)
	if !ok {
		why += "; " + whyFiles
	}
	return ok, why, err
}

// kernel gathers kernel messages with wall-clock times: the journal's copy when it can be read,
// else the ring buffer twice, raw and --ctime, which internal/index pairs to anchor the raw
// seconds since boot (the collector's kernel/dmesg.current and dmesg.human.current).
func (l *local) kernel(ctx context.Context) error {
	ok, whyJ, err := l.journalEntries(ctx, "kernel/dmesg.journal", "-k", journal.Filter{Kernel: true},
		[]string{"-k", "--since", l.opt.Since, "-o", "short-iso-precise", "--no-pager"})
	if err != nil || ok {
		return err
	}
	okRaw, whyRaw, err := l.command(ctx, "kernel/dmesg.current", false, "dmesg")
	if err != nil {
		return err
	}
	okCtime, whyCtime, err := l.command(ctx, "kernel/dmesg.human.current", false, "dmesg", "--ctime")
	if err != nil {
		return err
	}
	if !okRaw && !okCtime {
		l.b.missing("kernel messages", fmt.Sprintf("journal: %s; dmesg: %s; dmesg --ctime: %s (the ring buffer needs root when kernel.dmesg_restrict=1)", whyJ, whyRaw, whyCtime))
	}
	return nil
}

// copyFile copies a node file into the bundle, keeping its newest MaxFileBytes when it is larger
// (the collector's tail -c), starting at a line boundary. It reports whether the file was kept.
func (l *local) copyFile(ctx context.Context, src, rel string, quietAbsent bool) (bool, error) {
	f, err := os.Open(l.path(src))
	if err != nil {
		if !(quietAbsent && errors.Is(err, fs.ErrNotExist)) {
			l.b.missing(rel, fmt.Sprintf("/%s could not be read: %v", src, err))
		}
		return false, nil
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		l.b.missing(rel, fmt.Sprintf("/%s is not a readable regular file", src))
		return false, nil
	}
	var r io.Reader = f
	source := "copy of /" + src
	if skip := info.Size() - l.b.maxBytes; skip > 0 {
		if _, err := f.Seek(skip, io.SeekStart); err != nil {
			l.b.missing(rel, fmt.Sprintf("/%s: %v", src, err))
			return false, nil
		}
		first := true
		r = f
		l.b.missing(rel, fmt.Sprintf("/%s is %d bytes: only its last %d bytes were kept, from the first whole line", src, info.Size(), l.b.maxBytes))
		source += fmt.Sprintf(" (last %d bytes)", l.b.maxBytes)
		_, ok, err := l.b.write(ctx, rel, source, r, func(dst, line []byte) []byte {
			if first { // the cut line
				first = false
				return dst
			}
			return append(dst, line...)
		})
		return ok, err
	}
	_, ok, err := l.b.write(ctx, rel, source, r, nil)
	return ok, err
}

// pods copies /var/log/pods (or only opt.PodDirs under it): every readable file, skipping what
// this user may not read.
func (l *local) pods(ctx context.Context) error {
	if l.opt.PodDirs != nil {
		for _, d := range l.opt.PodDirs {
			clean := filepath.ToSlash(filepath.Clean("/" + d))[1:] // never above /var/log/pods
			if err := l.podsUnder(ctx, "var/log/pods/"+clean); err != nil {
				return err
			}
		}
		return nil
	}
	return l.podsUnder(ctx, "var/log/pods")
}

func (l *local) podsUnder(ctx context.Context, relRoot string) error {
	root := l.path(relRoot)
	if _, err := os.Stat(root); err != nil {
		l.b.missing("var_log/"+strings.TrimPrefix(relRoot, "var/log/"), fmt.Sprintf("/%s could not be read: %v", relRoot, err))
		return nil
	}
	files, denied, err := podFiles(ctx, root)
	if err != nil {
		return fmt.Errorf("gather: /%s: %w", relRoot, err)
	}
	if l.opt.PodDirs != nil {
		// One container's folder under a byte budget: its live logs — the current restart's
		// and the previous one's, what `kubectl logs --previous` shows — must not be the ones
		// cut. By name they are not first: 10.log sorts before 9.log, and the kubelet's rotated
		// parts (10.log.20241129-180102.gz) between them. Live logs first, newest first, then
		// the rotated parts, newest first.
		sort.SliceStable(files, func(i, j int) bool {
			if ri, rj := rotated(files[i].path), rotated(files[j].path); ri != rj {
				return rj
			}
			return files[i].mod.After(files[j].mod)
		})
	}
	for _, f := range files {
		rel, err := filepath.Rel(l.opt.Root, f.path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		before := len(l.b.res.Missing)
		if _, err := l.copyFile(ctx, rel, "var_log/"+strings.TrimPrefix(rel, "var/log/"), false); err != nil {
			return fmt.Errorf("gather: /%s: %w", relRoot, err)
		}
		if len(l.b.res.Missing) > before && strings.Contains(l.b.res.Missing[len(l.b.res.Missing)-1].Why, "could not be read") {
			denied++
			l.b.res.Missing = l.b.res.Missing[:before]
		}
	}
	if denied > 0 {
		l.b.missing("var_log/"+strings.TrimPrefix(relRoot, "var/log/"), fmt.Sprintf("%d files or folders under /"+relRoot+" could not be read (pod logs are root-only on most nodes: run as root)", denied))
	}
	return nil
}

// rotated reports a part the kubelet's log rotation set aside: live container logs are named
// <restart>.log, rotated parts <restart>.log.<time>[.gz].
func rotated(path string) bool { return !strings.HasSuffix(path, ".log") }

type podFile struct {
	path string
	mod  time.Time
}

// podFiles lists the regular files and symlinks under root in name order, counting what could
// not be read.
func podFiles(ctx context.Context, root string) (files []podFile, denied int, err error) {
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if err != nil {
			denied++
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() && d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		f := podFile{path: p}
		if info, err := os.Stat(p); err == nil {
			f.mod = info.ModTime()
		}
		files = append(files, f)
		return nil
	})
	return files, denied, err
}
