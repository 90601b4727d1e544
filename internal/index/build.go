package index

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nodediag/nodediag/internal/detect"
	"github.com/nodediag/nodediag/internal/evidence"
	"github.com/nodediag/nodediag/internal/facts"
	"github.com/nodediag/nodediag/internal/lines"
	"github.com/nodediag/nodediag/internal/logtime"
)

// Samples kept per finding: the first few show how it began, the last few how it stands now.
const (
	headSamples = 3
	tailSamples = 2
	// sampleTextCap keeps one sample from flooding an LLM's context.
	sampleTextCap = 2048
)

// Options steer a build.
type Options struct {
	BundleID      string
	InstanceID    string
	Capture       time.Time // the bundle's capture time; anchors year inference
	CaptureSource string
	// ReadSmallFile reads a file of the bundle by its path, for the boot-time sources
	// (system/procstat.txt, kernel/dmesg.*, system/top.txt). May be nil.
	ReadSmallFile func(path string) ([]byte, error)
}

// Builder accumulates the index of one bundle. IndexFile may be called from several goroutines,
// one file each; Finish once after all of them returned.
type Builder struct {
	opt     Options
	catalog *detect.Catalog
	matcher *detect.Matcher
	start   time.Time

	mu    sync.Mutex
	files []*fileState
}

// NewBuilder takes the catalog's compiled matcher for every file of the bundle.
func NewBuilder(cat *detect.Catalog, opt Options) (*Builder, error) {
	m, err := matcherFor(cat)
	if err != nil {
		return nil, fmt.Errorf("compile rule catalog: %w", err)
	}
	if opt.Capture.IsZero() {
		opt.Capture = time.Now().UTC()
		opt.CaptureSource = "clock (bundle carries no capture time)"
	}
	return &Builder{opt: opt, catalog: cat, matcher: m, start: time.Now()}, nil
}

// fileState is everything one file contributes; owned by one goroutine until Finish.
type fileState struct {
	file   File
	tctx   logtime.Context
	rules  map[string]*ruleAgg
	asm    *facts.Assembler
	facts  []facts.Fact
	dmesg  bool               // raw dmesg: times wait for the boot anchor
	secs   map[int64]float64  // line → seconds since boot, for hit lines of a raw dmesg file
	cpSecs []float64          // checkpoint seconds of a raw dmesg file
	kernel map[string]kernRec // kernel message text → where it was seen, for boot pairing
	order  int
	// kubeletStart is the time of the file's latest kubelet start marker (see startupRoute).
	kubeletStart time.Time
	sandboxes    map[string]bool // pod sandbox IDs RunPodSandbox returned (see sandboxRoute)
	// clean keeps the latest clean exits per pod (or container), bounded: a busy node logs
	// hundreds of thousands of them, and only a troubled pod's few latest ones tell its story.
	clean      map[string]*cleanRing
	cleanTotal int
}

// cleanKeep is how many clean exits per pod are kept for the crash story.
const cleanKeep = 4

type cleanRing struct {
	facts [cleanKeep]facts.Fact
	n     int
}

func (fs *fileState) divertClean(f *facts.Fact) bool {
	if !isCleanExit(*f) {
		return false
	}
	key := "uid:" + f.PodUID
	if f.PodUID == "" {
		key = "cid:" + f.ContainerID
	}
	if fs.clean == nil {
		fs.clean = map[string]*cleanRing{}
	}
	r := fs.clean[key]
	if r == nil {
		r = &cleanRing{}
		fs.clean[key] = r
	}
	r.facts[r.n%cleanKeep] = *f
	r.n++
	fs.cleanTotal++
	return true
}

// keptClean returns the clean exits kept, in no particular order.
func (fs *fileState) keptClean() []facts.Fact {
	var out []facts.Fact
	for _, r := range fs.clean {
		out = append(out, r.facts[:min(r.n, cleanKeep)]...)
	}
	return out
}

type kernRec struct {
	secs float64   // raw dmesg
	wall time.Time // syslog/journal copy
}

type ruleAgg struct {
	rule  *detect.Rule
	count int
	head  []Sample
	tail  []Sample // the latest samples, made from raw at Finish
	// raw is a ring of the latest hits with their bytes copied into reused buffers: most hits of
	// a noisy rule are overwritten, so building a string for each would be wasted work.
	raw     [tailSamples]rawHit
	rawN    int
	first   time.Time
	last    time.Time
	mins    map[int64]int // Unix minute → hits; anchored dmesg hits are added at Finish
	untimed int
	// events identify every hit by message and time, so that Finish can count an event once
	// when several files hold copies of it; raw dmesg hits wait there for the boot anchor.
	events []hitEvent
	dups   int // hits found to be copies of an event another file holds
}

// IndexFile reads one file to its end. A read error after some lines keeps those lines and is
// returned so the caller can warn; the file's partial results are still part of the index.
func (b *Builder) IndexFile(ctx context.Context, path, logType string, r io.Reader) error {
	fs := &fileState{
		file:  File{Path: path, LogType: logType},
		rules: map[string]*ruleAgg{},
		asm:   facts.NewAssembler(logType),
		tctx:  logtime.Context{Capture: b.opt.Capture},
	}
	fs.asm.Divert = fs.divertClean
	b.mu.Lock()
	fs.order = len(b.files)
	b.files = append(b.files, fs)
	b.mu.Unlock()

	lr := lines.NewReader(r, 0, 0)
	// The block buffer (1 MiB) goes back to the pool: without this a bundle of many small files
	// allocated a fresh MiB per file, and the garbage collector, rescanning a heap that grows
	// with every file, made a 200,000-member import take minutes. Nothing below keeps a slice
	// of a block: samples, facts and kernel texts are copies.
	defer lr.Release()
	var lastLine []byte
	first := true
	var readErr error
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		blk, err := lr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = err
			break
		}
		if first {
			first = false
			b.sniff(fs, blk.Data)
		}
		b.scanBlock(fs, blk)
		lastLine = append(lastLine[:0], lastLineOf(blk.Data)...)
	}
	fs.file.Lines = lr.Lines
	fs.file.CutLines = lr.CutLines
	if st := b.lineTime(fs, lastLine, fs.file.Lines); !st.Time.IsZero() {
		fs.file.Last = st.Time
	}
	fs.facts = fs.asm.Finish()
	// The assembler (9 KiB, most of it its ring of recent exits) is done with; the builder
	// keeps every file's state until Finish, and on a bundle of 200,000 small files the
	// assemblers alone held 1.4 GiB.
	fs.asm = nil
	if readErr != nil {
		fs.file.Warning = fmt.Sprintf("read stopped early: %v; lines before it are indexed", readErr)
		return fmt.Errorf("%s: %w", path, readErr)
	}
	return nil
}

// sniff decides the file's timestamp format and zone from its first lines.
func (b *Builder) sniff(fs *fileState, data []byte) {
	var head [][]byte
	rest := data
	for len(head) < 64 && len(rest) > 0 {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			head = append(head, rest)
			break
		}
		head = append(head, rest[:i])
		rest = rest[i+1:]
	}
	fs.file.Format = logtime.Sniff(head)
	fs.dmesg = fs.file.Format == logtime.DmesgRaw
	if loc, ok := logtime.InferLocation(head); ok {
		fs.tctx.Location = loc
		_, off := time.Date(2026, 1, 1, 0, 0, 0, 0, loc).Zone()
		fs.file.Zone = zoneName(off)
	}
	for i, l := range head {
		if st := b.lineTime(fs, l, int64(i+1)); !st.Time.IsZero() || st.Quality != logtime.None {
			fs.file.First = st.Time
			fs.file.Quality = st.Quality
			break
		}
		if fs.dmesg {
			if _, ok := logtime.DmesgSeconds(l); ok {
				fs.file.Quality = logtime.BootAnchored
				break
			}
		}
	}
	if fs.file.Quality == "" {
		fs.file.Quality = logtime.None
	}
}

// lineTime parses a line's own time; raw dmesg seconds are remembered for anchoring at Finish.
func (b *Builder) lineTime(fs *fileState, line []byte, no int64) logtime.Stamp {
	if len(line) == 0 {
		return logtime.Stamp{Quality: logtime.None}
	}
	if fs.dmesg {
		if s, ok := logtime.DmesgSeconds(line); ok {
			if fs.secs == nil {
				fs.secs = map[int64]float64{}
			}
			fs.secs[no] = s
		}
		return logtime.Stamp{Quality: logtime.None}
	}
	return fs.tctx.Parse(fs.file.Format, line)
}

func (b *Builder) scanBlock(fs *fileState, blk lines.Block) {
	cp := Checkpoint{Line: int64(blk.FirstLine), Offset: blk.Offset}
	firstLine := firstLineOf(blk.Data)
	if fs.dmesg {
		s, _ := logtime.DmesgSeconds(firstLine)
		fs.cpSecs = append(fs.cpSecs, s)
	} else {
		cp.Time = fs.tctx.Parse(fs.file.Format, firstLine).Time
	}
	vocab := len(b.matcher.Vocabulary())
	cp.Words = make([]uint64, presenceWords(vocab))
	markExotic(blk.Data, cp.Words, vocab)
	fs.file.Bytes = blk.Offset + int64(len(blk.Data))

	counter := lines.NewCounter(blk)
	prevLine, prevExtract := -1, ""
	var lineRules []*detect.Rule // the rules already counted on line prevHit
	prevHit := -1
	defer func() { fs.file.Checkpoints = append(fs.file.Checkpoints, cp) }()
	b.matcher.ScanPresence(blk.Data, fs.file.LogType, func(rule *detect.Rule, start, end, msgStart int) {
		no := counter.LineOf(start)
		line := blk.Data[start:end]
		fs.file.Hits++
		ref := evidence.LineRef{File: fs.file.Path, Line: no, Offset: blk.Offset + int64(start)}
		st := b.lineTime(fs, line, int64(no))
		ref.Time, ref.TimeQuality = st.Time, st.Quality
		if fs.dmesg {
			if _, ok := fs.secs[int64(no)]; ok {
				ref.TimeQuality = logtime.BootAnchored // resolved at Finish
			}
		}
		rule = fs.startupRoute(rule, ref.Time)
		rule = fs.sandboxRoute(rule, line)
		if no != prevHit {
			prevHit, lineRules = no, lineRules[:0]
		}
		if slices.Contains(lineRules, rule) {
			return // a start-up route landed on a rule the line already hit
		}
		lineRules = append(lineRules, rule)
		fs.addHit(rule, ref, line, blk.Data[msgStart:end])
		if rule.Extract != "" && (no != prevLine || rule.Extract != prevExtract) {
			fs.asm.Add(rule.Extract, ref, line)
			prevLine, prevExtract = no, rule.Extract
		}
		if rule.Category == "memory" || rule.Category == "kernel" || rule.Category == "crash" {
			fs.rememberKernel(line, st)
		}
	}, cp.Words)
}

// startupRoute records a kubelet start (a start-marker rule) and hands a hit of a rule with a
// start-up route, within its grace after the file's latest start, to the route's rule.
func (fs *fileState) startupRoute(rule *detect.Rule, t time.Time) *detect.Rule {
	if t.IsZero() {
		return rule
	}
	if rule.StartMarker {
		fs.kubeletStart = t
	}
	if st := rule.Startup; st != nil && !fs.kubeletStart.IsZero() {
		if d := t.Sub(fs.kubeletStart); d >= 0 && d <= st.Grace {
			return st.Target
		}
	}
	return rule
}

// sandboxRoute records the pod sandboxes the file creates and hands a hit of a rule with a
// sandbox route, whose container is one of them, to the route's rule: containerd words a pause
// container's exit like any container's, and only RunPodSandbox's reply says which it is.
func (fs *fileState) sandboxRoute(rule *detect.Rule, line []byte) *detect.Rule {
	switch {
	case rule.Extract == facts.ExtSandboxCreated:
		if f, ok := facts.Extract(rule.Extract, line); ok {
			if fs.sandboxes == nil {
				fs.sandboxes = map[string]bool{}
			}
			fs.sandboxes[f.SandboxID] = true
		}
	case rule.SandboxRule != nil && fs.sandboxes != nil:
		if f, ok := facts.Extract(rule.Extract, line); ok && fs.sandboxes[f.ContainerID] {
			return rule.SandboxRule
		}
	}
	return rule
}

func (fs *fileState) addHit(rule *detect.Rule, ref evidence.LineRef, line, msg []byte) {
	a := fs.rules[rule.ID]
	if a == nil {
		a = &ruleAgg{rule: rule}
		fs.rules[rule.ID] = a
	}
	a.count++
	ev := newHit(hashMessage(msg), untimed, 0)
	switch {
	case !ref.Time.IsZero():
		if a.mins == nil {
			a.mins = map[int64]int{}
		}
		a.mins[ref.Time.Unix()/60]++
		ev.set(timed, ref.Time.Unix())
	case fs.dmesg:
		if s, ok := fs.secs[int64(ref.Line)]; ok {
			ev.set(pending, int64(s*1e6))
		} else {
			a.untimed++
		}
	default:
		a.untimed++
	}
	a.events = append(a.events, ev)
	if !ref.Time.IsZero() {
		if a.first.IsZero() || ref.Time.Before(a.first) {
			a.first = ref.Time
		}
		if ref.Time.After(a.last) {
			a.last = ref.Time
		}
	}
	if len(a.head) < headSamples {
		a.head = append(a.head, newSample(ref, line))
		return
	}
	slot := &a.raw[a.rawN%tailSamples]
	slot.ref = ref
	slot.cut = len(line) > sampleTextCap
	slot.text = append(slot.text[:0], line[:min(len(line), sampleTextCap+1)]...)
	a.rawN++
}

type rawHit struct {
	ref  evidence.LineRef
	text []byte
	cut  bool
}

// materialize turns the raw ring into samples, oldest first.
func (a *ruleAgg) materialize() {
	n := min(a.rawN, tailSamples)
	for i := range n {
		h := &a.raw[(a.rawN-n+i)%tailSamples]
		a.tail = append(a.tail, newSample(h.ref, h.text))
	}
	a.rawN = 0
}

func newSample(ref evidence.LineRef, line []byte) Sample {
	text := line
	cut := false
	if len(text) > sampleTextCap {
		text, cut = text[:sampleTextCap], true
	}
	s := strings.ToValidUTF8(string(text), "\uFFFD")
	if cut {
		s += " …[cut]"
	}
	return Sample{LineRef: ref, Text: s}
}

// rememberKernel keeps the message text of kernel lines so that a record seen both in raw dmesg
// (seconds since boot) and in syslog or the journal (wall clock) anchors the boot time.
func (fs *fileState) rememberKernel(line []byte, st logtime.Stamp) {
	msg := bytes.TrimRight(logtime.Message(line), "\r")
	if len(msg) < 24 {
		return // short texts repeat too often to pair safely
	}
	if fs.kernel == nil {
		fs.kernel = map[string]kernRec{}
	}
	if len(fs.kernel) > 4096 {
		return
	}
	if fs.dmesg {
		if s, ok := logtime.DmesgSeconds(line); ok {
			fs.kernel[string(msg)] = kernRec{secs: s}
		}
		return
	}
	if fs.file.Format == logtime.DmesgCtime || st.Time.IsZero() {
		return // --ctime is itself computed from the boot time: pairing it proves nothing new
	}
	fs.kernel[string(msg)] = kernRec{wall: st.Time}
}

func firstLineOf(data []byte) []byte {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return data[:i]
	}
	return data
}

func lastLineOf(data []byte) []byte {
	data = bytes.TrimRight(data, "\n")
	return data[bytes.LastIndexByte(data, '\n')+1:]
}

// Finish anchors raw dmesg times, joins and dedupes facts across files, merges findings and
// numbers them. The Builder must not be used afterwards.
func (b *Builder) Finish() *Index {
	b.mu.Lock()
	defer b.mu.Unlock()
	sort.Slice(b.files, func(i, j int) bool { return b.files[i].file.Path < b.files[j].file.Path })
	for _, fs := range b.files {
		for _, a := range fs.rules {
			a.materialize()
		}
	}

	idx := &Index{
		Schema:         SchemaVersion,
		CatalogVersion: b.catalog.Version,
		BundleID:       b.opt.BundleID,
		InstanceID:     b.opt.InstanceID,
		Built:          time.Now().UTC().Truncate(time.Second),
		Vocabulary:     b.matcher.Vocabulary(),
	}
	idx.Time = TimeContext{Capture: b.opt.Capture, CaptureSource: b.opt.CaptureSource}
	// The zone first: boot pairing compares syslog wall times with dmesg seconds.
	idx.Time.Zone = b.applyBundleZone()
	boot, bootSource := b.bootTime()
	idx.Time.Boot, idx.Time.BootSource = boot, bootSource

	var all []facts.Fact
	cleanTotal := 0
	for _, fs := range b.files {
		if fs.dmesg {
			fs.anchor(boot)
		}
		idx.Files = append(idx.Files, fs.file)
		all = append(all, fs.facts...)
		all = append(all, fs.keptClean()...)
		cleanTotal += fs.cleanTotal
		idx.Stats.Files++
		idx.Stats.Bytes += fs.file.Bytes
		idx.Stats.Lines += fs.file.Lines
		idx.Stats.Hits += int64(fs.file.Hits)
		if fs.file.CutLines > 0 {
			idx.Warnings = append(idx.Warnings, fmt.Sprintf("%s: %d lines longer than %d bytes were cut (matched on their first %d bytes)",
				fs.file.Path, fs.file.CutLines, lines.DefaultMaxLine, lines.DefaultMaxLine))
		}
		if fs.file.Warning != "" {
			idx.Warnings = append(idx.Warnings, fs.file.Path+": "+fs.file.Warning)
		}
	}
	if boot.IsZero() && b.hasDmesgRaw() {
		idx.Warnings = append(idx.Warnings, "no boot time found (system/procstat.txt btime, dmesg --ctime pairs, kernel lines in syslog): raw dmesg lines have no wall-clock time")
	}

	all = facts.Join(all)
	all = facts.Dedupe(all)
	idx.Containers = containerTable(all)
	// A clean exit is a crash fact only for a pod that is in trouble (its next start fails, say):
	// a CronJob's completions on a healthy node are not evidence of anything.
	troubled := map[string]bool{}
	for _, f := range all {
		if isJoinData(f.Kind) || isCleanExit(f) {
			continue
		}
		for _, k := range podKeys(f) {
			troubled[k] = true
		}
	}
	for _, f := range all {
		if isJoinData(f.Kind) {
			continue // kept in the container table
		}
		if isCleanExit(f) {
			keep := false
			for _, k := range podKeys(f) {
				keep = keep || troubled[k]
			}
			if !keep {
				continue
			}
			cleanTotal--
		}
		idx.Facts = append(idx.Facts, f)
	}
	idx.CleanExits = cleanTotal
	facts.Sort(idx.Facts)
	idx.Facts = collapseRepeats(idx.Facts)
	idx.Findings = b.mergeFindings()
	idx.Stats.Duration = time.Since(b.start).Round(time.Millisecond)
	return idx
}

func (b *Builder) hasDmesgRaw() bool {
	for _, fs := range b.files {
		if fs.dmesg {
			return true
		}
	}
	return false
}

// anchor turns seconds since boot into wall-clock times for every reference of a raw dmesg file.
func (fs *fileState) anchor(boot time.Time) {
	if boot.IsZero() {
		for _, a := range fs.rules {
			for i := range a.events {
				if a.events[i].state() == pending {
					a.events[i].set(untimed, 0)
					a.untimed++
				}
			}
		}
		for i := range fs.facts {
			fs.facts[i].Ref.TimeQuality = logtime.None
		}
		for _, a := range fs.rules {
			for i := range a.head {
				a.head[i].TimeQuality = logtime.None
			}
			for i := range a.tail {
				a.tail[i].TimeQuality = logtime.None
			}
		}
		fs.file.Quality = logtime.None
		return
	}
	at := func(no int64) (time.Time, bool) {
		s, ok := fs.secs[no]
		if !ok {
			return time.Time{}, false
		}
		return boot.Add(time.Duration(s * float64(time.Second))).UTC(), true
	}
	fix := func(ref *evidence.LineRef) {
		if t, ok := at(int64(ref.Line)); ok {
			ref.Time, ref.TimeQuality = t, logtime.BootAnchored
		} else {
			ref.TimeQuality = logtime.None
		}
	}
	for i := range fs.facts {
		fix(&fs.facts[i].Ref)
	}
	for _, a := range fs.rules {
		for i := range a.events {
			ev := &a.events[i]
			if ev.state() != pending {
				continue
			}
			if a.mins == nil {
				a.mins = map[int64]int{}
			}
			ev.set(timed, boot.Add(time.Duration(ev.sec)*time.Microsecond).Unix())
			a.mins[ev.sec/60]++
		}
		for i := range a.head {
			fix(&a.head[i].LineRef)
		}
		for i := range a.tail {
			fix(&a.tail[i].LineRef)
		}
		// Kernel time is monotonic within one boot, so the first and last hits bound the times.
		if len(a.head) > 0 {
			a.first = a.head[0].Time
		}
		if len(a.tail) > 0 {
			a.last = a.tail[len(a.tail)-1].Time
		} else if len(a.head) > 0 {
			a.last = a.head[len(a.head)-1].Time
		}
	}
	for i := range fs.file.Checkpoints {
		if i < len(fs.cpSecs) && fs.cpSecs[i] > 0 {
			fs.file.Checkpoints[i].Time = boot.Add(time.Duration(fs.cpSecs[i] * float64(time.Second))).UTC()
		}
	}
	if n := len(fs.file.Checkpoints); n > 0 {
		fs.file.First = fs.file.Checkpoints[0].Time
		if t, ok := at(fs.file.Lines); ok {
			fs.file.Last = t
		}
	}
	fs.file.Quality = logtime.BootAnchored
}

// bootTime picks the best boot-time anchor the bundle offers; the reference (§5.6) ranks a kernel
// record seen with both clocks first, then the dmesg/--ctime pair, /proc/stat btime, and uptime.
func (b *Builder) bootTime() (time.Time, string) {
	raw := map[string]float64{}
	wall := map[string]time.Time{}
	for _, fs := range b.files {
		for msg, r := range fs.kernel {
			if fs.dmesg {
				raw[msg] = r.secs
			} else if !r.wall.IsZero() {
				wall[msg] = r.wall
			}
		}
	}
	var offsets []time.Duration
	for msg, s := range raw {
		if w, ok := wall[msg]; ok {
			offsets = append(offsets, w.Sub(time.Unix(0, 0).Add(time.Duration(s*float64(time.Second)))))
		}
	}
	if len(offsets) > 0 {
		slices.Sort(offsets)
		med := offsets[len(offsets)/2]
		return time.Unix(0, 0).Add(med).UTC(), fmt.Sprintf("kernel records seen in raw dmesg and in syslog/journal (%d pairs)", len(offsets))
	}
	read := b.opt.ReadSmallFile
	if read == nil {
		return time.Time{}, ""
	}
	if rawData, err := read("kernel/dmesg.current"); err == nil {
		if ctime, err := read("kernel/dmesg.human.current"); err == nil {
			if t, ok := logtime.BootFromDmesgPair(rawData, ctime, time.UTC); ok {
				return t.UTC(), "kernel/dmesg.current paired with kernel/dmesg.human.current"
			}
		}
	}
	if data, err := read("system/procstat.txt"); err == nil {
		if t, ok := logtime.BootFromProcStat(data); ok {
			return t.UTC(), "system/procstat.txt btime"
		}
	}
	if data, err := read("system/top.txt"); err == nil {
		if t, ok := logtime.BootFromUptime(data, b.opt.Capture); ok {
			return t.UTC(), "system/top.txt uptime (minute precision)"
		}
	}
	return time.Time{}, ""
}

// mergeFindings groups per-file hits by rule, picks samples across files and numbers findings
// by severity, then first time, so F-001 is the most severe, earliest finding.
func (b *Builder) mergeFindings() []Finding {
	byRule := map[string]*Finding{}
	cands := map[string][]Sample{}
	mins := map[string]map[int64]int{}
	b.dedupeHits()
	for _, fs := range b.files {
		for id, a := range fs.rules {
			f := byRule[id]
			if f == nil {
				r := a.rule
				f = &Finding{Rule: r.ID, Title: r.Title, Severity: string(r.Severity), Category: r.Category,
					Description: r.Description, SOPs: r.SOPs, Files: map[string]int{}}
				byRule[id] = f
			}
			f.Count += a.count - a.dups
			f.Copies += a.dups
			f.Untimed += a.untimed
			f.Files[fs.file.Path] += a.count
			if mins[id] == nil {
				mins[id] = map[int64]int{}
			}
			for m, n := range a.mins {
				if n > 0 {
					mins[id][m] += n
				}
			}
			if !a.first.IsZero() && (f.First.IsZero() || a.first.Before(f.First)) {
				f.First = a.first
			}
			if a.last.After(f.Last) {
				f.Last = a.last
			}
			cands[id] = append(cands[id], a.head...)
			cands[id] = append(cands[id], a.tail...)
		}
	}
	out := make([]Finding, 0, len(byRule))
	for id, f := range byRule {
		f.Samples = pickSamples(cands[id])
		for m, n := range mins[id] {
			f.Minutes = append(f.Minutes, MinuteCount{M: m, N: n})
		}
		slices.SortFunc(f.Minutes, func(a, b MinuteCount) int { return int(a.M - b.M) })
		out = append(out, *f)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if ra, rb := SeverityRank(a.Severity), SeverityRank(b.Severity); ra != rb {
			return ra < rb
		}
		if !a.First.Equal(b.First) {
			if a.First.IsZero() || b.First.IsZero() {
				return !a.First.IsZero()
			}
			return a.First.Before(b.First)
		}
		return a.Rule < b.Rule
	})
	for i := range out {
		out[i].ID = fmt.Sprintf("F-%03d", i+1)
	}
	return out
}

// pickSamples keeps the earliest and the latest samples across all files, each line's copies in
// other files folded into it.
func pickSamples(s []Sample) []Sample {
	sort.SliceStable(s, func(i, j int) bool { return sampleLess(s[i], s[j]) })
	s = slices.CompactFunc(s, func(a, b Sample) bool { return a.File == b.File && a.Line == b.Line })
	s = mergeCopies(s)
	if len(s) <= headSamples+tailSamples {
		return s
	}
	return append(slices.Clone(s[:headSamples]), s[len(s)-tailSamples:]...)
}

func sampleLess(a, b Sample) bool {
	if !a.Time.Equal(b.Time) {
		if a.Time.IsZero() || b.Time.IsZero() {
			return !a.Time.IsZero()
		}
		return a.Time.Before(b.Time)
	}
	if a.File != b.File {
		return a.File < b.File
	}
	return a.Line < b.Line
}

// containerTable collects what the join facts prove about each container ID.
func containerTable(all []facts.Fact) []ContainerInfo {
	m := map[string]*ContainerInfo{}
	for _, f := range all {
		if f.ContainerID == "" {
			continue
		}
		switch f.Kind {
		case facts.ContainerCreated, facts.ContainerStarted, facts.ContainerDied, facts.ContainerExit, facts.OOMKill, facts.TaskOOM, facts.Killing:
		default:
			continue
		}
		c := m[f.ContainerID]
		if c == nil {
			c = &ContainerInfo{ContainerID: f.ContainerID}
			m[f.ContainerID] = c
		}
		fill(&c.Container, f.Container)
		fill(&c.SandboxID, f.SandboxID)
		fill(&c.Namespace, f.Namespace)
		fill(&c.Pod, f.Pod)
		fill(&c.PodUID, f.PodUID)
		if c.Attempt == nil && f.Attempt != nil {
			c.Attempt = f.Attempt
		}
	}
	out := make([]ContainerInfo, 0, len(m))
	for _, c := range m {
		if c.Container == "" && c.Pod == "" {
			continue // nothing proven beyond the ID itself
		}
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ContainerID < out[j].ContainerID })
	return out
}

func fill(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

// ErrStale reports an index written by another schema or catalog version.
var ErrStale = errors.New("index is stale")

// SetIdentity names the bundle when it is known only after the files were read (a streamed import
// learns its instance id from the archive's members).
func (b *Builder) SetIdentity(bundleID, instanceID string) {
	b.opt.BundleID, b.opt.InstanceID = bundleID, instanceID
}

// Rename moves files' results to new paths, old path → new path, all at once: a streamed import
// may learn only after files were indexed that the folder it guessed to strip was not shared by
// every member, and then a file can move to the path another one was indexed under a moment
// before. Applied one by one, such a chain would carry both files to the last path.
func (b *Builder) Rename(moves map[string]string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, fs := range b.files {
		newPath, ok := moves[fs.file.Path]
		if !ok {
			continue
		}
		fs.file.Path = newPath
		for i := range fs.facts {
			fs.facts[i].Ref.File = newPath
		}
		for _, a := range fs.rules {
			for i := range a.head {
				a.head[i].File = newPath
			}
			for i := range a.tail {
				a.tail[i].File = newPath
			}
			for i := range a.raw {
				a.raw[i].ref.File = newPath
			}
		}
	}
}

func isJoinData(k facts.Kind) bool {
	switch k {
	case facts.SandboxCreated, facts.ContainerCreated, facts.ContainerStarted, facts.ContainerDied, facts.SandboxExit, facts.OOMPart:
		return true
	}
	return false
}

func isCleanExit(f facts.Fact) bool {
	return f.Kind == facts.ContainerExit && f.ExitCode != nil && *f.ExitCode == 0
}

// podKeys names the pod a fact belongs to in every way the logs prove it.
func podKeys(f facts.Fact) []string {
	var k []string
	if f.PodUID != "" {
		k = append(k, "uid:"+f.PodUID)
	}
	if f.Pod != "" {
		k = append(k, "pod:"+f.Namespace+"/"+f.Pod)
	}
	return k
}
