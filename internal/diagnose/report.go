package diagnose

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodediag/nodediag/internal/evidence"
	"github.com/nodediag/nodediag/internal/facts"
	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/kube"
	"github.com/nodediag/nodediag/internal/search"
)

// maxLines caps the lines each evidence item quotes: the newest few prove the pattern, the rest
// are counted in the content.
const maxLines = 4

// report fills the Output Format from a classified crash.
func (c *crash) report(ctx context.Context, in Input) (*Diagnosis, error) {
	d := &Diagnosis{
		ExitCode:        c.code,
		ExitCodeMeaning: c.meaning,
		ExitCodeSource:  c.codeSource,
		Class:           c.class,
		OOMLevel:        c.level,
		Namespace:       c.t.ns,
		Pod:             c.t.pod,
		Container:       c.t.container,
		CrossReference:  c.crossRef,
		Escalation:      c.escalation,
	}
	if d.ExitCodeMeaning == "" {
		d.ExitCodeMeaning = meaningOf(c.code)
	}
	lr := &lineReader{in: in, idx: c.idx}
	mem, err := c.nodeMemory(ctx, lr)
	if err != nil {
		return nil, err
	}
	for _, l := range mem {
		file, no, _ := strings.Cut(l.Ref, ":")
		n, _ := strconv.Atoi(no)
		c.cites.add(ClaimMemory, citedLine{ref: evidence.LineRef{File: file, Line: n, Time: c.memTime}, comp: "kernel", text: l.Text})
	}
	c.citeFrequency()
	if c.class != "" {
		d.RootCause = c.class + " — " + c.detail
	}
	if c.freq != nil {
		d.Restarts, d.BackOffs = c.freq.Restarts, c.freq.BackOffs
	}
	d.CrashFrequency = c.frequencyText()
	if d.Evidence, err = c.evidence(ctx, lr); err != nil {
		return nil, err
	}
	d.Severity = c.severity()
	d.Mitigation = c.mitigation()
	d.Confidence = c.confidenceText(d.Evidence)
	d.Gaps = append(slices.Clone(c.gaps), c.sourceGaps(in)...)
	d.SOPs = c.sops()
	if d.CrossReference == nil {
		d.CrossReference = []string{}
	}
	d.Citations = c.cites.list(func(claim string) bool { return d.made(claim) })
	return d, nil
}

func (c *crash) frequencyText() string {
	f := c.freq
	if f == nil || f.Restarts == 0 {
		if c.status != nil && c.status.RestartCount > 0 {
			return fmt.Sprintf("%d restarts (pod status); no exits of this container in the node's logs", c.status.RestartCount)
		}
		if len(c.daemonOOMs) > 0 && c.class == NodeOOM && len(c.ooms) == 0 {
			first, last := c.daemonOOMs[0].Ref.Time, c.daemonOOMs[len(c.daemonOOMs)-1].Ref.Time
			return fmt.Sprintf("%s OOM-killed %s between %s and %s", c.daemonOOMs[0].Process, times(len(c.daemonOOMs)), stamp(first), stamp(last))
		}
		return "no restarts in the node's logs"
	}
	s := fmt.Sprintf("%d restarts between %s and %s (%s)", f.Restarts, stamp(f.First), stamp(f.Last), f.Last.Sub(f.First).Round(time.Second))
	s += fmt.Sprintf("; at most %d in 10 minutes", f.PerTenMinutes)
	if len(f.BackOffs) > 0 {
		s += "; back-off " + strings.Join(f.BackOffs, " → ")
	}
	if c.status != nil {
		s += fmt.Sprintf("; restartCount %d (pod status)", c.status.RestartCount)
	}
	return s
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "an unknown time"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// evidenceTypes maps the component of a cited line to the evidence item that quotes it, in the
// runbook's order.
var evidenceTypes = []struct{ comp, typ string }{
	{"kernel", EvDmesg}, {"kubelet", EvKubelet}, {"containerd", EvContainerd}, {"pods", EvPodLogs},
}

// maxQuoted caps the lines one evidence item quotes; claims cite few enough lines to fit.
const maxQuoted = 16

// maxQuotedBytes cuts a quoted line: containerd's start errors state their cause (executable
// file not found, exec format error) after 300-600 bytes of wrapping, so the cut must come later.
const maxQuotedBytes = 1200

// evidence builds the Output Format's evidence list: the pod state, then one item per source in
// the runbook's order quoting every line a claim cites (each once, in time order: the newest
// incident), with the source's facts counted in its content, older incidents included.
func (c *crash) evidence(ctx context.Context, lr *lineReader) ([]Evidence, error) {
	in := lr.in
	var out []Evidence
	if c.status != nil {
		out = append(out, c.podState())
	}
	if err := c.readCited(ctx, lr); err != nil {
		return nil, err
	}
	byComp := map[string][]*facts.Fact{}
	kernel := slices.Concat(c.ooms, c.segvs)
	if c.class == NodeOOM && len(c.ooms) == 0 {
		kernel = append(kernel, c.daemonOOMs...)
	}
	byComp["kernel"] = kernel
	for _, f := range slices.Concat(c.exits, c.taskOOMs, c.execs, c.configs, c.probes, c.kills, c.backoffs) {
		comp := c.componentAt(f.Ref, f)
		byComp[comp] = append(byComp[comp], f)
	}
	cited := c.cites.all()
	for _, s := range evidenceTypes {
		var lines []Line
		for _, l := range cited {
			if l.comp == s.comp && len(lines) < maxQuoted {
				lines = append(lines, Line{Ref: l.key(), Text: l.text})
			}
		}
		fs := byComp[s.comp]
		if len(fs) == 0 && len(lines) == 0 {
			continue
		}
		slices.SortStableFunc(fs, byTime)
		content := summarize(fs)
		switch {
		case s.comp == "pods" && in.PreviousLog == "" && len(lines) > 0:
			content = "the application's own last words, from the bundle's copy of its log (" + strings.SplitN(lines[0].Ref, ":", 2)[0] + ")"
		case s.comp == "pods":
			content = "the application's own last words (kubectl logs --previous)"
		case content == "":
			content = "lines the diagnosis cites"
		}
		out = append(out, Evidence{Type: s.typ, Content: content, Lines: lines})
	}
	return out, nil
}

func (c *crash) podState() Evidence {
	s := c.status
	var parts []string
	if term := kubeTerm(c); term != nil {
		parts = append(parts, fmt.Sprintf("lastState.terminated exitCode=%d reason=%s", term.ExitCode, term.Reason))
		if !term.StartedAt.IsZero() && !term.FinishedAt.IsZero() {
			parts = append(parts, fmt.Sprintf("ran %s (startedAt %s, finishedAt %s)", term.FinishedAt.Sub(term.StartedAt.Time), stamp(term.StartedAt.Time), stamp(term.FinishedAt.Time)))
		}
		if term.Message != "" {
			parts = append(parts, "message: "+oneLine(term.Message))
		}
	} else {
		parts = append(parts, "no terminated state")
	}
	parts = append(parts, fmt.Sprintf("restartCount=%d", s.RestartCount))
	if w := s.State.Waiting; w != nil {
		parts = append(parts, "waiting: "+w.Reason)
	}
	if c.spec != nil {
		if q, ok := c.spec.Resources.Limits["memory"]; ok {
			parts = append(parts, "limits.memory="+q.String())
		} else {
			parts = append(parts, "no memory limit")
		}
	}
	var evs []string
	for _, e := range c.events {
		if e.Type == "Warning" || e.Reason == "Killing" || strings.HasPrefix(e.Reason, "Node") {
			evs = append(evs, fmt.Sprintf("%s ×%d: %s", e.Reason, max(e.Count, 1), oneLine(e.Message)))
		}
	}
	if len(evs) > 0 {
		parts = append(parts, "events: "+strings.Join(evs, "; "))
	}
	return Evidence{Type: EvPodState, Content: strings.Join(parts, "; ")}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 240 {
		s = s[:240] + "…"
	}
	return s
}

// componentAt names the evidence item a line belongs to by the type of the file it is in; in a
// mixed file (messages, a journal export) by the wording the fact was read from, and a runtime
// error relayed there is containerd's.
func (c *crash) componentAt(ref evidence.LineRef, f *facts.Fact) string {
	if c.fileTypes == nil {
		c.fileTypes = make(map[string]string, len(c.idx.Files))
		for _, fi := range c.idx.Files {
			c.fileTypes[fi.Path] = fi.LogType
		}
	}
	switch c.fileTypes[ref.File] {
	case "dmesg", "kernel":
		return "kernel"
	case "kubelet":
		return "kubelet"
	case "containerd", "docker":
		return "containerd"
	case "pods", "coredns", "kube-proxy", "aws-node", "ipamd":
		return "pods"
	}
	if f == nil {
		return "kubelet" // a finding's line in a mixed file: only the kubelet's rules are cited so
	}
	if comp := componentOf(f); comp != "other" {
		return comp
	}
	return "containerd"
}

// componentOf names the component that wrote a fact's line.
func componentOf(f *facts.Fact) string {
	switch {
	case strings.HasPrefix(f.Source, "kernel-"):
		return "kernel"
	case strings.HasPrefix(f.Source, "kubelet-"):
		return "kubelet"
	case strings.HasPrefix(f.Source, "containerd-"):
		return "containerd"
	}
	return "other"
}

// summarize counts facts by kind, in first-seen order: "3 ContainerExit (exit 137), 2 BackOff".
func summarize(fs []*facts.Fact) string {
	type acc struct {
		n      int
		detail []string
	}
	m := map[facts.Kind]*acc{}
	var order []facts.Kind
	for _, f := range fs {
		a := m[f.Kind]
		if a == nil {
			a = &acc{}
			m[f.Kind] = a
			order = append(order, f.Kind)
		}
		a.n += 1 + f.Repeats
		var d string
		switch f.Kind {
		case facts.ContainerExit:
			d = fmt.Sprintf("exit %d", *f.ExitCode)
			if f.Reason != "" {
				d += " " + f.Reason
			}
		case facts.BackOff:
			d = f.Delay
		case facts.OOMKill:
			d = f.Scope + " " + f.Process
		case facts.Segfault:
			d = f.Process + " in " + f.Object
		case facts.ExecFailure, facts.ProbeFailure:
			d = f.FailureKind
		case facts.ConfigMissing:
			d = f.FailureKind + " " + f.Name
		}
		if d != "" && !slices.Contains(a.detail, d) {
			a.detail = append(a.detail, d)
		}
	}
	parts := make([]string, 0, len(order))
	for _, k := range order {
		a := m[k]
		s := fmt.Sprintf("%d %s", a.n, k)
		if len(a.detail) > 0 {
			s += " (" + strings.Join(a.detail, ", ") + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func (c *crash) severity() string {
	switch {
	case c.class == "":
		return "NONE"
	case len(c.escalation) > 0 || c.class == NodeOOM:
		return "CRITICAL"
	}
	return "HIGH"
}

func (c *crash) mitigation() Mitigation {
	m := Mitigation{LongTerm: "Set memory limits, fix application bugs, use VPA for right-sizing"}
	switch c.class {
	case ContainerOOM:
		m.Immediate = "Operator: raise resources.limits.memory for " + c.t.container + " above its peak usage, or find the leak; see the OOM kill's usage against the limit"
		m.LongTerm = "Use VPA to right-size memory limits; profile the application's memory; add a startup probe if it dies while warming up"
	case NodeOOM:
		if len(c.ooms) == 0 && len(c.daemonOOMs) > 0 {
			m.Immediate = "Operator: raise kube-reserved/system-reserved memory for the node's daemons and restart kubelet; follow A1"
		} else {
			m.Immediate = "Operator: set resources.limits.memory on " + c.t.container + " so it cannot exhaust the node; move it to a larger node"
		}
		m.LongTerm = "Set memory limits on every pod, set system-reserved and kube-reserved in the kubelet config, size nodes for the workload (G2)"
	case AppError:
		if c.meaning == "SIGTERM" {
			m.Immediate = "Operator: find why the application stops answering its liveness probe (deadlock, overload); relax the probe's timeout or failureThreshold only if it is too strict (K2)"
		} else {
			m.Immediate = "Operator: fix the error the application logs before exiting (kubectl logs --previous): configuration, credentials, dependencies"
		}
	case Segfault:
		m.Immediate = "Operator: check the image's architecture and library versions against the node; roll back to the last good image"
		m.LongTerm = "Enable core dumps, rebuild with address sanitizer, pin native library versions"
	case CommandNotFound:
		m.Immediate = "Operator: fix the Dockerfile ENTRYPOINT/CMD or the pod's command so it names a binary in the image"
		m.LongTerm = "Test the image's entrypoint in CI (docker run --rm <image>) before rollout"
	case PermissionDenied:
		m.Immediate = "Operator: make the entrypoint executable (chmod +x) and build it for the node's architecture (docker buildx --platform)"
		m.LongTerm = "Build multi-arch images and check the platform in CI"
	case MissingConfig:
		m.Immediate = "Operator: create the missing ConfigMap/Secret in the pod's namespace, or fix the reference in the pod spec"
		m.LongTerm = "Manage ConfigMaps and Secrets with the workload (same release) so one cannot be deleted under a running pod"
	case RuntimeError:
		m.Immediate = "Operator: check containerd's and kubelet's logs around the exit for what stopped the container"
	default:
		m.Immediate = "None: no crash of this container is in the node's logs"
		m.LongTerm = ""
	}
	return m
}

// confidenceText grades how many independent sources agree on the cause.
func (c *crash) confidenceText(ev []Evidence) string {
	if c.class == "" {
		if c.t.pod == "" {
			return "high — no container exits non-zero, backs off or is OOM-killed in the node's logs"
		}
		return "medium — no crash of this container in the node's logs; an absence is weaker proof than a line"
	}
	var srcs []string
	for _, e := range ev {
		srcs = append(srcs, e.Type)
	}
	specific := len(c.ooms) > 0 || len(c.segvs) > 0 || len(c.execs) > 0 || len(c.configs) > 0 ||
		len(c.probes) > 0 || (c.class == NodeOOM && len(c.daemonOOMs) > 0) || len(c.prevLines) > 0
	switch {
	case specific && len(srcs) >= 2:
		return "high — the cause is stated by a line and " + strings.Join(srcs, ", ") + " agree"
	case specific || len(srcs) >= 2:
		return "medium — " + strings.Join(srcs, ", ") + " show the exit, but only the exit code names the cause"
	}
	return "low — only the exit code is known; no line states the cause"
}

// sourceGaps lists the inputs the diagnosis had to do without.
func (c *crash) sourceGaps(in Input) []string {
	g := slices.Clone(in.Gaps)
	if in.PodStatus == nil {
		g = append(g, "no pod status (pass --pod-json or cluster access): exit code and restarts come from the node's logs")
	}
	if in.Events == nil {
		g = append(g, "no pod events (pass --events-json)")
	}
	if in.PreviousLog == "" && len(c.prevLines) == 0 && c.class != "" && !slices.Contains(c.gaps, "no previous container log: the application's own error message is not available (pass --previous-log)") {
		g = append(g, "no previous container log (pass --previous-log)")
	}
	have := map[string]bool{}
	for _, f := range c.idx.Files {
		have[f.LogType] = true
	}
	if !have["dmesg"] && !have["kernel"] && !have["messages"] && !have["journal"] {
		g = append(g, "no kernel log in the bundle: OOM kills and segfaults cannot be seen")
	}
	if gap := c.rotatedKernel(); gap != "" {
		g = append(g, gap)
	}
	if c.corr != nil {
		g = append(g, c.corr.Gaps...)
	}
	return g
}

// sops lists the runbooks that apply: K3 and the ones the diagnosis points to.
func (c *crash) sops() []string {
	out := []string{"K3"}
	for _, r := range slices.Concat(c.crossRef, c.escalation) {
		for _, id := range []string{"A1", "B1", "C1", "D1", "G2", "K2", "K4", "N1", "S1", "Z1"} {
			if strings.HasPrefix(r, id+":") || strings.Contains(r, "to "+id) {
				if !slices.Contains(out, id) {
					out = append(out, id)
				}
			}
		}
	}
	if c.class == RuntimeError && !slices.Contains(out, "K4") {
		out = append(out, "K4")
	}
	return out
}

// lineReader reads the text of a fact's line from the bundle when one is given, once per line.
type lineReader struct {
	in   Input
	idx  *index.Index
	seen map[evidence.LineRef]string
}

// textAt reads the line at ref. f, when the line is a fact's own, words it when the bundle is
// not at hand; a line of a kernel report that is not a fact says where to read it.
func (lr *lineReader) textAt(ctx context.Context, ref evidence.LineRef, f *facts.Fact) (string, error) {
	fallback := "(a line of the kernel's OOM report: read it by its file and line)"
	if f != nil {
		fallback = factSummary(f)
	}
	if lr.in.Entry == nil {
		return fallback, nil
	}
	if t, ok := lr.seen[ref]; ok {
		return t, nil
	}
	res, err := search.Read(ctx, lr.in.Entry, lr.idx, search.ReadRequest{LogKey: ref.File, StartByte: ref.Offset, EndByte: ref.Offset + 1, MaxLineBytes: maxQuotedBytes})
	if err != nil {
		return "", fmt.Errorf("diagnose: read the line behind %s: %w", ref, err)
	}
	t := fallback
	if len(res.Lines) > 0 {
		t = strings.TrimSpace(res.Lines[0].Text)
	}
	if lr.seen == nil {
		lr.seen = map[evidence.LineRef]string{}
	}
	lr.seen[ref] = t
	return t, nil
}

// factSummary is a fact in words, for when the line itself cannot be read.
func factSummary(f *facts.Fact) string {
	s := string(f.Kind)
	switch f.Kind {
	case facts.ContainerExit:
		s += fmt.Sprintf(" exit %d", *f.ExitCode)
		if f.Reason != "" {
			s += " " + f.Reason
		}
	case facts.BackOff:
		s += " " + f.Delay
	case facts.OOMKill:
		s += fmt.Sprintf(" %s killed %s pid %d limit %s usage %s anon-rss %s", f.Scope, f.Process, f.PID, facts.KiB(f.LimitKB), facts.KiB(f.UsageKB), facts.KiB(f.AnonRSSKB))
	case facts.Segfault:
		s += fmt.Sprintf(" %s at %s ip %s in %s", f.Process, f.Addr, f.IP, f.Object)
	case facts.ExecFailure, facts.ProbeFailure, facts.ConfigMissing:
		s += " " + f.FailureKind
		if f.Name != "" {
			s += " " + f.Name
		}
	}
	if f.Message != "" {
		s += ": " + f.Message
	}
	return s
}

// byTime orders facts by time, then by place, so evidence reads as the incident unfolded.
func byTime(a, b *facts.Fact) int {
	if c := a.Ref.Time.Compare(b.Ref.Time); c != 0 {
		return c
	}
	if c := strings.Compare(a.Ref.File, b.Ref.File); c != 0 {
		return c
	}
	return a.Ref.Line - b.Ref.Line
}

func kubeTerm(c *crash) *corev1.ContainerStateTerminated { return kube.Terminated(c.status) }

// rotatedKernel tells when the kernel log begins after the container's first failing exit: the
// ring buffer (or the journal) was rotated, so OOM kills and segfaults of the earliest crashes
// cannot be seen, and their absence proves nothing.
func (c *crash) rotatedKernel() string {
	var firstExit time.Time
	for _, f := range c.exits {
		if f.ExitCode != nil && *f.ExitCode != 0 && !f.Ref.Time.IsZero() && (firstExit.IsZero() || f.Ref.Time.Before(firstExit)) {
			firstExit = f.Ref.Time
		}
	}
	if firstExit.IsZero() {
		return ""
	}
	var kernelStart time.Time
	for _, f := range c.idx.Files {
		if (f.LogType == "dmesg" || f.LogType == "kernel") && !f.First.IsZero() && (kernelStart.IsZero() || f.First.Before(kernelStart)) {
			kernelStart = f.First
		}
	}
	if kernelStart.IsZero() || !kernelStart.After(firstExit) {
		return ""
	}
	return fmt.Sprintf("the kernel log starts at %s, after the first failing exit at %s (ring buffer rotated): kernel evidence of the earlier crashes is gone", stamp(kernelStart), stamp(firstExit))
}

var (
	rePagesRAM = regexp.MustCompile(`\b(\d+) pages RAM\b`)
	reZoneFree = regexp.MustCompile(`Node \d+ (Normal|DMA32) free:(\d+)kB min:(\d+)kB`)
)

// memInfoLines is how far before a global OOM kill its Mem-Info report can start: the call
// trace, Mem-Info and per-node lines, not the task list, which follows them.
const memInfoLines = 80

// nodeMemory reads the kernel's Mem-Info report printed before the newest global OOM kill — the
// node memory figures the runbook asks for (pages of RAM, a zone's free memory against its min
// watermark) — and adds them to the root cause. It needs the bundle (Input.Entry); without it,
// or without the report, the gap stays.
func (c *crash) nodeMemory(ctx context.Context, lr *lineReader) ([]Line, error) {
	if c.class != NodeOOM || lr.in.Entry == nil {
		return nil, nil
	}
	var kill *facts.Fact
	for _, f := range c.ooms {
		if f.Scope == "global" {
			kill = f
		}
	}
	if kill == nil {
		return nil, nil
	}
	c.memTime = kill.Ref.Time
	start := max(1, kill.Ref.Line-memInfoLines)
	res, err := search.Read(ctx, lr.in.Entry, c.idx, search.ReadRequest{LogKey: kill.Ref.File, StartLine: start, LineCount: kill.Ref.Line - start, MaxLineBytes: 400})
	if err != nil {
		return nil, fmt.Errorf("diagnose: read the Mem-Info report before %s: %w", kill.Ref, err)
	}
	var out []Line
	var figures []string
	for _, l := range res.Lines {
		if strings.Contains(l.Text, "invoked oom-killer") { // the kill's own report starts here; anything before is an earlier OOM's
			out, figures = out[:0], figures[:0]
		}
		if m := rePagesRAM.FindStringSubmatch(l.Text); m != nil {
			if pages, err := strconv.ParseInt(m[1], 10, 64); err == nil {
				figures = append(figures, "node RAM "+facts.KiB(pages*4))
				out = append(out, Line{Ref: fmt.Sprintf("%s:%d", kill.Ref.File, l.No), Text: strings.TrimSpace(l.Text)})
			}
		}
		if m := reZoneFree.FindStringSubmatch(l.Text); m != nil {
			free, _ := strconv.ParseInt(m[2], 10, 64)
			low, _ := strconv.ParseInt(m[3], 10, 64)
			// kB, not MiB: the point is how far below the watermark, which rounding would hide.
			f := fmt.Sprintf("zone %s free %dkB", m[1], free)
			if free <= low {
				f += fmt.Sprintf(" below its min watermark %dkB", low)
			}
			figures = append(figures, f)
			out = append(out, Line{Ref: fmt.Sprintf("%s:%d", kill.Ref.File, l.No), Text: strings.TrimSpace(l.Text)})
		}
	}
	if len(figures) == 0 {
		return nil, nil
	}
	c.detail += "; " + strings.Join(figures, ", ")
	c.gaps = slices.DeleteFunc(c.gaps, func(g string) bool { return strings.HasPrefix(g, "node memory figures") })
	return out, nil
}
