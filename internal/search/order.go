package search

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nodediag/nodediag/internal/bundle"
	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/logtime"
	"github.com/nodediag/nodediag/internal/store"
)

// First page first. An agent wants the page an answer lists, not a count bought by reading
// every byte: the index cut every file into blocks and noted each block's first line, offset
// and time, so each block gets a bound — the best rank in the incident order (rank.go) any of
// its lines can have — and blocks are read best bound first, across files. Once the page is
// certain (no block left can hold a line that ranks before its last line) reading stops; the
// answer says its total is then a range: the matches read, and at most those plus every line
// of the blocks left.

// orderSlack widens a block's time range. A file's lines are in time order but not strictly: a
// journal or syslog line takes its message's own stamp when it is at most 2 s off the prefix,
// writers interleave. A line further out of order than this is caught after the fact: a block
// holding a match better than its bound stops all early stopping (runner.disorder).
const orderSlack = time.Minute

// bound is the best (tier, distance) a line of a unit can rank at.
type bound struct {
	tier uint8
	dist time.Duration
}

func (a bound) compare(b bound) int {
	return cmp.Or(cmp.Compare(a.tier, b.tier), cmp.Compare(a.dist, b.dist))
}

func (k rankKey) bound() bound { return bound{k.tier, k.dist} }

// worst ranks after every listable match.
var worst = bound{tier: math.MaxUint8, dist: math.MaxInt64}

// unit is a run of a file's blocks read in one go.
type unit struct {
	job             int
	line, off, stop int64 // first line and byte; stop: the byte it ends at, -1 for the end of the file
	lines           int64 // lines it holds; -1: unknown
	bound           bound
}

// units lists what to read of every file, best bound first; among equal bounds in file and
// byte order.
func (p *plan) units(jobs []job) []unit {
	var out []unit
	for ji := range jobs {
		out = append(out, p.fileUnits(ji, &jobs[ji])...)
	}
	slices.SortStableFunc(out, func(a, b unit) int { return a.bound.compare(b.bound) })
	return out
}

// fileUnits cuts a file's spans (skip.go) into units: a block each where the file can be read
// from any block on, one unit for the whole stretch otherwise (a gzip stream, a file the index
// did not read, a search with context lines, which need the lines around each block).
func (p *plan) fileUnits(ji int, j *job) []unit {
	spans := p.spans(j.ix)
	if len(spans) == 0 {
		return nil
	}
	blocks := newFileBlocks(p, j)
	if j.ix == nil || len(j.ix.Checkpoints) == 0 || j.file.Compressed || p.context > 0 {
		u := unit{job: ji, line: spans[0].line, off: spans[0].off, stop: spans[len(spans)-1].stop}
		u.lines, u.bound = blocks.stretch(u.off, u.stop)
		return []unit{u}
	}
	cps := j.ix.Checkpoints
	var out []unit
	for _, sp := range spans {
		i := sort.Search(len(cps), func(i int) bool { return cps[i].Offset >= sp.off })
		for ; i < len(cps) && (sp.stop < 0 || cps[i].Offset < sp.stop); i++ {
			stop := int64(-1)
			if i+1 < len(cps) {
				stop = cps[i+1].Offset
			}
			if sp.stop >= 0 && (stop < 0 || stop > sp.stop) {
				stop = sp.stop
			}
			out = append(out, unit{job: ji, line: cps[i].Line, off: cps[i].Offset, stop: stop,
				lines: blocks.lines(i), bound: blocks.bound(i)})
		}
	}
	return out
}

// fileBlocks knows, for each block of a file, the time range its lines can fall in and whether
// it holds a crash-fact line.
type fileBlocks struct {
	p         *plan
	j         *job
	timed     bool        // the search can read a time from the file's lines
	unordered bool        // its block times go back: no block's range can be trusted
	lo, hi    []time.Time // per block; zero: unknown (open)
	factLines []int
}

func newFileBlocks(p *plan, j *job) *fileBlocks {
	b := &fileBlocks{p: p, j: j}
	if j.ix == nil {
		return b
	}
	b.timed = j.ix.Format != "" && (j.ix.Format != logtime.DmesgRaw || !p.tctx.Boot.IsZero())
	cps := j.ix.Checkpoints
	b.lo, b.hi = make([]time.Time, len(cps)), make([]time.Time, len(cps))
	var last time.Time
	for i, c := range cps {
		if !c.Time.IsZero() {
			b.unordered = b.unordered || c.Time.Before(last.Add(-orderSlack))
			last = c.Time
		}
		b.lo[i] = last
	}
	next := j.ix.Last
	for i := len(cps) - 1; i >= 0; i-- {
		b.hi[i] = next
		if !cps[i].Time.IsZero() {
			next = cps[i].Time
		}
	}
	for l := range j.facts {
		b.factLines = append(b.factLines, l)
	}
	slices.Sort(b.factLines)
	return b
}

// lines is how many lines block i holds.
func (b *fileBlocks) lines(i int) int64 {
	cps := b.j.ix.Checkpoints
	if i+1 < len(cps) {
		return cps[i+1].Line - cps[i].Line
	}
	return max(0, b.j.ix.Lines-cps[i].Line+1)
}

// bound is the best rank a line of block i can have.
func (b *fileBlocks) bound(i int) bound {
	switch {
	case !b.timed:
		return bound{tier: tierUntimed}
	case b.unordered:
		return bound{}
	}
	cps := b.j.ix.Checkpoints
	end := int64(math.MaxInt64)
	if i+1 < len(cps) {
		end = cps[i+1].Line
	}
	k := sort.SearchInts(b.factLines, int(cps[i].Line))
	fact := k < len(b.factLines) && int64(b.factLines[k]) < end
	return b.p.rangeBound(b.lo[i], b.hi[i], fact)
}

// stretch is the lines and best bound of the blocks from byte off to stop, for a unit read
// whole.
func (b *fileBlocks) stretch(off, stop int64) (int64, bound) {
	if b.j.ix == nil || len(b.j.ix.Checkpoints) == 0 {
		n := int64(-1)
		if !b.j.file.Compressed {
			n = b.j.file.Size // a line is at least its newline
		}
		if b.j.ix != nil {
			n = b.j.ix.Lines
		}
		if !b.timed {
			return n, bound{tier: tierUntimed}
		}
		return n, bound{}
	}
	var n int64
	best := worst
	for i, c := range b.j.ix.Checkpoints {
		if c.Offset < off || (stop >= 0 && c.Offset >= stop) {
			continue
		}
		n += b.lines(i)
		if bd := b.bound(i); bd.compare(best) < 0 {
			best = bd
		}
	}
	return n, best
}

// rangeBound is the best rank of a line timed in [lo, hi] (a zero end is open), widened by
// orderSlack: inside the focus the distance to its anchor, outside the distance to the focus.
func (p *plan) rangeBound(lo, hi time.Time, fact bool) bound {
	if !lo.IsZero() {
		lo = lo.Add(-orderSlack)
	}
	if !hi.IsZero() {
		hi = hi.Add(orderSlack)
	}
	f := p.focus
	switch {
	case !f.From.IsZero() && !hi.IsZero() && hi.Before(f.From):
		return bound{tierOutside, f.From.Sub(hi)}
	case !f.To.IsZero() && !lo.IsZero() && !lo.Before(f.To):
		return bound{tierOutside, lo.Sub(f.To)}
	}
	tier := uint8(tierInside)
	if fact {
		tier = tierFact
	}
	switch {
	case !lo.IsZero() && f.Anchor.Before(lo):
		return bound{tier, lo.Sub(f.Anchor)}
	case !hi.IsZero() && f.Anchor.After(hi):
		return bound{tier, f.Anchor.Sub(hi)}
	}
	return bound{tier: tier}
}

// runner reads the units of a search with one worker per core and merges what each found into
// its file's result.
type runner struct {
	p     *plan
	e     *store.Entry
	jobs  []job
	units []unit
	early bool // stop once the page is certain

	next atomic.Int64
	stop atomic.Bool

	mu       sync.Mutex
	outs     []fileOut
	left     []int  // per file: units not merged yet
	merged   []bool // per unit
	first    int    // the first unit of the reading order not merged yet
	stopped  bool   // reading stopped because the page was certain
	disorder bool   // a unit held a match better than its bound: its file is out of time order
	// The check for a certain page sorts every kept match; it runs once checkEvery units merged
	// since the last one, a number that grows with the matches it sorted.
	sinceCheck, checkEvery int

	// A worker reading for a page takes no unit more than ahead units past first: the page is
	// certain only once first is merged, and workers that raced on meanwhile read blocks the
	// page did not need (a third of the bytes of a test bundle on 2 cores, four fifths on 8).
	ahead   int
	moved   *sync.Cond // first moved, reading stopped, or a unit failed
	noAhead bool       // a unit failed to read to its end: first will not move past it
}

// aheadPerWorker is how many units past the first unmerged one each worker may read.
const aheadPerWorker = 2

func newRunner(e *store.Entry, p *plan, jobs []job, early bool) *runner {
	r := &runner{p: p, e: e, jobs: jobs, units: p.units(jobs), early: early, checkEvery: 1}
	r.ahead = aheadPerWorker * r.workers()
	r.moved = sync.NewCond(&r.mu)
	r.outs = make([]fileOut, len(jobs))
	r.left = make([]int, len(jobs))
	r.merged = make([]bool, len(r.units))
	for _, u := range r.units {
		r.left[u.job]++
	}
	for i, j := range jobs {
		o := &r.outs[i]
		o.fm = FileMatches{File: j.file.Path, LogType: j.logType}
		o.keep.max = p.offset + p.maxTotal
		if r.left[i] == 0 {
			o.started, o.complete = true, true // no block of the file can hold a match
		}
	}
	return r
}

func (r *runner) workers() int { return min(runtime.GOMAXPROCS(0), max(len(r.units), 1)) }

func (r *runner) run(ctx context.Context) {
	defer context.AfterFunc(ctx, func() {
		r.mu.Lock()
		r.moved.Broadcast()
		r.mu.Unlock()
	})()
	var wg sync.WaitGroup
	for range r.workers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.work(ctx)
		}()
	}
	wg.Wait()
}

func (r *runner) work(ctx context.Context) {
	s := newScanner(r.p)
	src := sources{e: r.e, open: map[int]*openFile{}}
	defer src.close()
	var local fileOut
	for !r.stop.Load() && ctx.Err() == nil {
		i := int(r.next.Add(1) - 1)
		if i >= len(r.units) || !r.mayRead(ctx, i) {
			return
		}
		u := r.units[i]
		local.reset(r.p.offset+r.p.maxTotal, r.bar(u.job))
		done := s.readUnit(ctx, &local, &r.jobs[u.job], u, &src)
		r.merge(i, &local, done)
	}
}

// mayRead waits until unit i is at most ahead units past the first unmerged one, when reading
// for a page; false means reading stopped meanwhile.
func (r *runner) mayRead(ctx context.Context, i int) bool {
	if !r.early {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i >= r.first+r.ahead && !r.noAhead && !r.stop.Load() && ctx.Err() == nil {
		r.moved.Wait()
	}
	return !r.stop.Load() && ctx.Err() == nil
}

// bar is the key a match of the file must beat to be kept: the worst of its kept matches when
// it keeps as many as it may.
func (r *runner) bar(job int) *rankKey {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := &r.outs[job].keep
	if len(k.heap) < k.max {
		return nil
	}
	key := k.heap[0].key
	return &key
}

// merge adds what a unit found to its file; done says the unit was read to its end.
func (r *runner) merge(i int, local *fileOut, done bool) {
	u := r.units[i]
	r.mu.Lock()
	defer r.mu.Unlock()
	o := &r.outs[u.job]
	o.add(local)
	o.started = true
	if local.best.compare(u.bound) < 0 {
		r.disorder = true
	}
	defer r.moved.Broadcast()
	if !done {
		r.noAhead = true
		return
	}
	r.merged[i] = true
	if r.left[u.job]--; r.left[u.job] == 0 && o.err == nil {
		o.complete = true
	}
	for r.first < len(r.units) && r.merged[r.first] {
		r.first++
	}
	if !r.early || r.disorder || r.first == len(r.units) {
		return
	}
	if r.sinceCheck++; r.sinceCheck < r.checkEvery {
		return
	}
	certain, sorted := r.certain()
	r.sinceCheck = 0
	// Sorting some 16,000 kept matches costs about as much as reading a block (1 MiB, half a
	// millisecond): a check that sorts more waits for more blocks, so that checking never
	// costs more than reading. Counting, not timing, keeps the answer the same on a busy machine.
	r.checkEvery = 1 + sorted/16384
	if certain {
		r.stopped = true
		r.stop.Store(true)
	}
}

// certain says whether the page is settled: every match it lists is read, and no match in a unit
// not merged yet can rank before any of them. Such a match ranks at its unit's bound or after,
// and the first unit not merged has the best bound of all; its band (rank.go: choose) is at least
// its file's settled matches (those ranking before that bound) over maxPerFile. A listed match
// must be in a better band, or in the same band with a better rank than the bound.
func (r *runner) certain() (ok bool, sorted int) {
	p := r.p
	need := p.offset + p.maxTotal
	total, listable, cut := 0, 0, p.offset > 0
	for i := range r.outs {
		o := &r.outs[i]
		total += o.fm.Total
		listable += o.fm.Total - o.routineTotal()
		cut = cut || o.fm.Total > p.maxPerFile
	}
	if !(cut || total > p.maxTotal) || listable <= need {
		return false, 0
	}
	next := r.units[r.first].bound
	minBand := math.MaxInt
	var cands []candidate
	for f := range r.outs {
		o := &r.outs[f]
		var mine []*kept
		for j := range o.keep.items {
			if it := &o.keep.items[j]; it.key.tier != tierRoutine {
				mine = append(mine, it)
			}
		}
		slices.SortFunc(mine, func(a, b *kept) int { return a.key.compare(b.key) })
		sorted += len(mine)
		complete := r.left[f] == 0
		settled := 0
		for rank, it := range mine {
			if !complete && it.key.bound().compare(next) >= 0 {
				break
			}
			settled++
			cands = append(cands, candidate{band: rank / p.maxPerFile, file: f, it: it})
		}
		if !complete {
			minBand = min(minBand, settled/p.maxPerFile)
		}
	}
	if len(cands) < need {
		return false, sorted
	}
	slices.SortFunc(cands, compareCandidates)
	for _, c := range cands[:need] {
		if c.band > minBand || (c.band == minBand && c.it.key.bound().compare(next) >= 0) {
			return false, sorted // a match not read yet could rank before it
		}
	}
	return true, sorted
}

// unread is how many lines the units not read hold, or -1 when a file does not say.
func (r *runner) unread() int64 {
	var n int64
	for i, u := range r.units {
		if r.merged[i] {
			continue
		}
		if u.lines < 0 {
			return -1
		}
		n += u.lines
	}
	return n
}

// note says what a search that stopped early read and what its counts mean.
func (r *runner) note(res *Result) string {
	var read, all int64
	blocks := 0
	for i, u := range r.units {
		n := u.stop - u.off
		if u.stop < 0 {
			n = r.jobs[u.job].file.Size - u.off
		}
		all += n
		if r.merged[i] {
			read += n
			blocks++
		}
	}
	bound := "the index cannot bound the rest"
	if res.TotalAtMost > 0 {
		bound = "at most " + thousands(int(res.TotalAtMost)) + " (every line of the blocks left)"
	}
	return fmt.Sprintf("stopped once this page was certain: read %d of %d blocks the query can match in (%.1f of %.1f MiB), nearest the focus first; every block left can only hold lines that rank after this page. total counts the matches read: at least %s, %s; the focus, collapsed and narrow counts are of the lines read. Ask for the exact total (exactTotal, --exact-total) to read every block.",
		blocks, len(r.units), float64(read)/(1<<20), float64(all)/(1<<20), thousands(res.Total), bound)
}

// sources keeps a worker's files open between units; a gzip stream is opened anew for its one
// unit.
type sources struct {
	e    *store.Entry
	open map[int]*openFile
}

type openFile struct {
	rc io.ReadCloser
	at io.ReaderAt
}

// maxOpen bounds the files a worker keeps open.
const maxOpen = 64

// reader returns the bytes of u, and a function to call when they are read.
func (s *sources) reader(j *job, u unit) (io.Reader, func(), error) {
	n := int64(math.MaxInt64 - u.off)
	if u.stop >= 0 {
		n = u.stop - u.off
	}
	if of := s.open[j.order]; of != nil {
		return io.NewSectionReader(of.at, u.off, n), func() {}, nil
	}
	rc, err := bundle.Open(s.e.Dir, j.file)
	if err != nil {
		return nil, nil, err
	}
	if at, ok := rc.(io.ReaderAt); ok {
		if len(s.open) >= maxOpen {
			s.close()
		}
		s.open[j.order] = &openFile{rc: rc, at: at}
		return io.NewSectionReader(at, u.off, n), func() {}, nil
	}
	if u.off > 0 {
		if _, err := io.CopyN(io.Discard, rc, u.off); err != nil {
			rc.Close()
			return nil, nil, fmt.Errorf("skip to byte %d: %w", u.off, err)
		}
	}
	return io.LimitReader(rc, n), func() { rc.Close() }, nil
}

func (s *sources) close() {
	for k, of := range s.open {
		of.rc.Close()
		delete(s.open, k)
	}
}

// fileZone is the zone a file's zone-less stamps are read in: its own, when its lines state one.
func fileZone(ix *index.File, bundleZone *time.Location) *time.Location {
	switch {
	case ix == nil || ix.Zone == "":
		return bundleZone
	case ix.Zone == "UTC":
		return time.UTC
	}
	if loc := zoneOf(ix.Zone); loc != nil {
		return loc
	}
	return bundleZone
}
