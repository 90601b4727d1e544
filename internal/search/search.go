package search

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nodediag/nodediag/internal/bundle"
	"github.com/nodediag/nodediag/internal/detect"
	"github.com/nodediag/nodediag/internal/detect/literal"
	"github.com/nodediag/nodediag/internal/evidence"
	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/lines"
	"github.com/nodediag/nodediag/internal/logtime"
	"github.com/nodediag/nodediag/internal/querylit"
	"github.com/nodediag/nodediag/internal/regex"
	"github.com/nodediag/nodediag/internal/store"
)

// ErrBadRequest marks a request the caller must fix (a regex RE2 rejects, an unknown log type, a
// window that ends before it starts, a key outside the bundle): the CLI exits 2 on it.
var ErrBadRequest = errors.New("bad request")

// Limits of a search. The caps keep one answer small enough for an agent's context window; the
// query cap keeps a pathological regex from costing more to compile than to run.
const (
	MaxQueryBytes     = 1024
	DefaultMaxPerFile = 100
	CapMaxPerFile     = 500
	DefaultMaxTotal   = 1000
	CapMaxTotal       = 5000
	CapContext        = 20
	// CapPageEnd bounds Offset+MaxTotal: every file keeps its best that many matches while it is
	// read. Past it, a time window reaches further for less memory.
	CapPageEnd           = 10000
	DefaultMaxLineBytes  = 2000
	narrowSuggestionsMax = 3
)

// lineSources are the values detect.LineSource gives lines of mixed files; they are valid log
// types for a bundle that has a mixed file even when no file of that type exists.
var lineSources = []string{"kubelet", "containerd", "docker", "dmesg", "nodeadm", "cloud-init",
	"sandbox-image", "kube-proxy", "coredns"}

// Request is one search.
type Request struct {
	Query         string   // RE2; case-insensitive unless CaseSensitive; at most MaxQueryBytes
	Exclude       string   // optional RE2: drop matching lines (same case rule as Query)
	CaseSensitive bool     // match case exactly
	LogTypes      []string // only these log types; in mixed files a line also counts as its detect.LineSource
	// From and To bound a window [From, To); a zero bound is open. With a window, only lines
	// with their own time are matched (nothing is borrowed from neighbours), files without
	// times are skipped and listed, and the index's checkpoints skip what lies outside.
	From, To time.Time
	// MaxPerFile and MaxTotal cap the matches listed: default 100 per file (cap 500) and 1000 in
	// all (cap 5000). When every match fits they are all listed in file and line order; when they
	// do not, the answer is cut incident first (see Focus): crash-fact lines of the focus, then
	// its other lines nearest its anchor, then lines outside it nearest it, untimed lines last,
	// no file given more than MaxPerFile before every file had its best MaxPerFile; routine lines
	// (healthy starts, exit-0 finishes: see routine.go) are counted in Result.Collapsed instead.
	MaxPerFile int
	MaxTotal   int
	// Around is the moment the caller investigates (incident_time): the focus of a cut answer,
	// instead of the newest crash loop.
	Around time.Time
	// Offset skips that many matches of the incident order: a cut answer's NextOffset gets the
	// page after it. Offset+MaxTotal is at most CapPageEnd.
	Offset int
	// ListRoutine lists routine lines among the others instead of counting them.
	ListRoutine bool
	// ExactTotal reads every block the query can match in, so that Total and the counts of
	// Focus, Collapsed and Narrow are exact; without it a search stops once its page is certain
	// (order.go) and Total is a lower bound.
	ExactTotal bool
	// CountOnly counts the matching lines of each file, exactly, and lists none, as `rg -c`
	// does: no line is ranked, classified or (without a window) placed in time, so it costs
	// little more than finding the matches. It takes no Offset, Context or ListRoutine.
	CountOnly    bool
	Context      int // lines before and after each match: default 0, cap 20
	MaxLineBytes int // longer lines are cut with a marker: default 2000
}

// Result is what a search found.
type Result struct {
	Query string        `json:"query" yaml:"query"`
	Files []FileMatches `json:"files" yaml:"files"` // files with matches, in bundle path order
	Total int           `json:"total" yaml:"total"` // matches found, including those past the caps
	// TotalExact says Total counts every match. A search that stopped once its page was
	// certain counts the matches it read: then TotalAtMost bounds the rest from the index
	// (every line of the blocks left unread; -1 when a file does not say).
	TotalExact  bool  `json:"totalExact" yaml:"totalExact"`
	TotalAtMost int64 `json:"totalAtMost,omitempty" yaml:"totalAtMost,omitempty"`
	Returned    int   `json:"returned" yaml:"returned"`
	Truncated   bool  `json:"truncated" yaml:"truncated"`
	// Narrow says how to cut a truncated result down: the log types and hours holding most matches.
	Narrow []string `json:"narrow,omitempty" yaml:"narrow,omitempty"`
	// Notes explain anything else the reader must know (a deadline that stopped the search).
	Notes        []string      `json:"notes,omitempty" yaml:"notes,omitempty"`
	Searched     int           `json:"searched" yaml:"searched"` // files read
	Skipped      []SkippedFile `json:"skipped,omitempty" yaml:"skipped,omitempty"`
	BytesScanned int64         `json:"bytesScanned" yaml:"bytesScanned"`
	// Prefilter lists the literals a line must contain to be tested against the regex; empty when
	// the regex had none and ran on every line.
	Prefilter []string `json:"prefilter,omitempty" yaml:"prefilter,omitempty"`

	// The rest is set only when the matches did not all fit. Focus is what the listed ones were
	// chosen around and how all of them fall before, in and after it; Collapsed counts the
	// routine lines that were not listed; NextOffset is the Offset of the next page (0: none);
	// Next are the requests that get what was not listed.
	Focus      *Focus      `json:"focus,omitempty" yaml:"focus,omitempty"`
	Collapsed  []Collapsed `json:"collapsed,omitempty" yaml:"collapsed,omitempty"`
	Offset     int         `json:"offset,omitempty" yaml:"offset,omitempty"`
	NextOffset int         `json:"nextOffset,omitempty" yaml:"nextOffset,omitempty"`
	Next       []Next      `json:"next,omitempty" yaml:"next,omitempty"`
}

// SkippedFile is a file the search did not read, and why.
type SkippedFile struct {
	File    string `json:"file" yaml:"file"`
	LogType string `json:"logType" yaml:"logType"`
	Reason  string `json:"reason" yaml:"reason"`
}

// FileMatches are the matches in one file.
type FileMatches struct {
	File      string  `json:"file" yaml:"file"`
	LogType   string  `json:"logType" yaml:"logType"`
	Matches   []Match `json:"matches,omitempty" yaml:"matches,omitempty"`
	Total     int     `json:"total" yaml:"total"` // matches found in the file, even past the cap
	Truncated bool    `json:"truncated" yaml:"truncated"`
}

// Match is one matching line.
type Match struct {
	ID string `json:"id" yaml:"id"` // S-001…, across the result in output order
	evidence.LineRef
	Text   string        `json:"text" yaml:"text"`
	Cut    bool          `json:"cut,omitempty" yaml:"cut,omitempty"`
	Before []ContextLine `json:"before,omitempty" yaml:"before,omitempty"`
	After  []ContextLine `json:"after,omitempty" yaml:"after,omitempty"`
}

// ContextLine is a line around a match.
type ContextLine struct {
	Line   int    `json:"line" yaml:"line"`
	Offset int64  `json:"offset" yaml:"offset"`
	Text   string `json:"text" yaml:"text"`
	Cut    bool   `json:"cut,omitempty" yaml:"cut,omitempty"`
}

// plan is a validated, compiled request.
type plan struct {
	// re and ex run as lazy DFAs: Go's regexp reads 50-80 MB/s per line, too slow for a query
	// with no literal to narrow the lines (docs/performance.md).
	re, ex *regex.Matcher
	set    *literal.Set // nil: the regex runs on every line
	// literalOnly says the regex matches exactly the lines holding one of the prefilter's
	// literals (a word, an alternation of words): the prefilter's verified hit is the match.
	literalOnly bool
	countOnly   bool
	// words says which blocks the index proves cannot match (nil: read every block).
	words      *wordMask
	types      map[string]bool
	from, to   time.Time
	window     bool
	maxPerFile int
	maxTotal   int
	context    int
	maxLine    int
	tctx       logtime.Context

	// The incident order of a cut answer.
	focus       *Focus
	facts       map[string]map[int]bool // crash-fact lines per file
	routine     *routineCatalog
	troubled    troubled
	offset      int
	listRoutine bool
}

func badf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadRequest, fmt.Sprintf(format, args...))
}

// compile parses one regex the way Search runs it and explains a failure.
func compile(field, expr string, caseSensitive bool) (*regex.Matcher, *syntax.Regexp, error) {
	flags := syntax.Perl
	pattern := expr
	if !caseSensitive {
		flags |= syntax.FoldCase
		pattern = "(?i)" + expr
	}
	tree, err := syntax.Parse(expr, flags)
	if err != nil {
		var se *syntax.Error
		if errors.As(err, &se) {
			pos := strings.Index(expr, se.Expr)
			where := ""
			if pos >= 0 {
				where = fmt.Sprintf(" at byte %d", pos)
			}
			return nil, nil, badf("%s %q: %s%s (%q); RE2 syntax is accepted: no look-around ((?=…), (?!…), (?<=…), (?<!…)) and no backreferences (\\1) — drop lines with exclude instead", field, expr, se.Code, where, se.Expr)
		}
		return nil, nil, badf("%s %q: %v", field, expr, err)
	}
	re, err := regex.Compile(pattern)
	if err != nil {
		return nil, nil, badf("%s %q: %v", field, expr, err)
	}
	return re, tree, nil
}

func newPlan(idx *index.Index, req Request) (*plan, error) {
	if err := checkQuery(req); err != nil {
		return nil, err
	}
	p := &plan{from: req.From, to: req.To, window: !req.From.IsZero() || !req.To.IsZero()}
	if err := p.compileQuery(idx, req); err != nil {
		return nil, err
	}
	if err := p.setLimits(req); err != nil {
		return nil, err
	}
	if len(req.LogTypes) > 0 {
		known := knownTypes(idx)
		p.types = map[string]bool{}
		for _, t := range req.LogTypes {
			if !slices.Contains(known, t) {
				return nil, badf("unknown log type %q; this bundle has: %s", t, strings.Join(known, ", "))
			}
			p.types[t] = true
		}
	}
	p.tctx = logtime.Context{Capture: idx.Time.Capture, Location: zoneOf(idx.Time.Zone), Boot: idx.Time.Boot}
	if p.countOnly {
		// Nothing is ranked or classified: no routine rules, crash facts or incident to find;
		// the empty focus only orders the blocks, and a count reads them all.
		p.focus = &Focus{}
		return p, nil
	}
	var err error
	if p.routine, err = loadRoutine(); err != nil {
		return nil, err
	}
	p.focus = findFocus(idx, req.From, req.To, req.Around)
	p.facts = factLines(idx)
	p.troubled = troubledOf(idx)
	return p, nil
}

// checkQuery refuses a request whose query, exclude or window cannot be run.
func checkQuery(req Request) error {
	switch {
	case req.Query == "":
		return badf("query is empty; give an RE2 regular expression such as %q", "oom-kill|OOMKilled")
	case len(req.Query) > MaxQueryBytes:
		return badf("query is %d bytes; at most %d are accepted", len(req.Query), MaxQueryBytes)
	case len(req.Exclude) > MaxQueryBytes:
		return badf("exclude is %d bytes; at most %d are accepted", len(req.Exclude), MaxQueryBytes)
	case !req.From.IsZero() && !req.To.IsZero() && !req.To.After(req.From):
		return badf("window ends (%s) before or when it starts (%s); give to after from",
			req.To.UTC().Format(time.RFC3339), req.From.UTC().Format(time.RFC3339))
	}
	return nil
}

// compileQuery compiles the query and exclude and derives the literal prefilter and the index
// words that let blocks be skipped.
func (p *plan) compileQuery(idx *index.Index, req Request) error {
	var err error
	var tree *syntax.Regexp
	if p.re, tree, err = compile("query", req.Query, req.CaseSensitive); err != nil {
		return err
	}
	if req.Exclude != "" {
		if p.ex, _, err = compile("exclude", req.Exclude, req.CaseSensitive); err != nil {
			return err
		}
	}
	if lits, exact := querylit.Query(tree); lits != nil {
		if p.set, err = literal.New(lits); err != nil {
			return fmt.Errorf("prefilter for %q: %w", req.Query, err)
		}
		p.literalOnly = exact
		p.words = newWordMask(idx.Vocabulary, lits)
	}
	return nil
}

// setLimits checks and sets the page's limits: caps, context, line length, offset, and what a
// count takes.
func (p *plan) setLimits(req Request) error {
	var err error
	if p.maxPerFile, err = limit("maxPerFile", req.MaxPerFile, DefaultMaxPerFile, CapMaxPerFile); err != nil {
		return err
	}
	if p.maxTotal, err = limit("maxTotal", req.MaxTotal, DefaultMaxTotal, CapMaxTotal); err != nil {
		return err
	}
	switch {
	case req.Context < 0 || req.Context > CapContext:
		return badf("context is %d; 0 to %d lines are accepted", req.Context, CapContext)
	case req.MaxLineBytes < 0:
		return badf("maxLineBytes is %d; give a positive number (default %d)", req.MaxLineBytes, DefaultMaxLineBytes)
	case req.Offset < 0 || req.Offset+p.maxTotal > CapPageEnd:
		return badf("offset is %d; give 0 to %d with maxTotal %d (offset+maxTotal at most %d): narrow with a time window to reach further",
			req.Offset, max(0, CapPageEnd-p.maxTotal), p.maxTotal, CapPageEnd)
	case req.CountOnly && req.Offset > 0:
		return badf("countOnly lists no matches, so offset %d does not apply; drop one of them", req.Offset)
	case req.CountOnly && req.Context > 0:
		return badf("countOnly lists no matches, so context %d does not apply; drop one of them", req.Context)
	case req.CountOnly && req.ListRoutine:
		return badf("countOnly lists no matches, so listRoutine does not apply; drop one of them")
	}
	p.context, p.maxLine = req.Context, cmp.Or(req.MaxLineBytes, DefaultMaxLineBytes)
	p.offset, p.listRoutine, p.countOnly = req.Offset, req.ListRoutine, req.CountOnly
	return nil
}

func limit(name string, v, def, max int) (int, error) {
	switch {
	case v < 0:
		return 0, badf("%s is %d; give 1 to %d (0 means %d)", name, v, max, def)
	case v == 0:
		return def, nil
	case v > max:
		return 0, badf("%s is %d; at most %d are accepted", name, v, max)
	}
	return v, nil
}

// knownTypes lists the log types a request may name: every file's, plus the line sources when
// the bundle has a mixed file.
func knownTypes(idx *index.Index) []string {
	var out []string
	mixed := false
	for _, f := range idx.Files {
		out = append(out, f.LogType)
		mixed = mixed || slices.Contains(detect.MixedLogTypes, f.LogType)
	}
	if mixed {
		out = append(out, lineSources...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// zoneOf reads the node's zone from the index's description ("UTC+10:00 (from …)"): zone-less
// stamps must be read in it to agree with the times the index gave the same lines.
func zoneOf(desc string) *time.Location {
	if len(desc) < 9 || !strings.HasPrefix(desc, "UTC") || (desc[3] != '+' && desc[3] != '-') {
		return nil
	}
	h, err1 := strconv.Atoi(desc[4:6])
	m, err2 := strconv.Atoi(desc[7:9])
	if err1 != nil || err2 != nil || desc[6] != ':' {
		return nil
	}
	off := h*3600 + m*60
	if desc[3] == '-' {
		off = -off
	}
	return time.FixedZone(desc[:9], off)
}

// job is one file to search.
type job struct {
	order   int
	file    bundle.File
	ix      *index.File // nil for text files the index did not read (not logs)
	logType string
	mixed   bool
	typeOK  bool         // the file's own type was requested (or no filter)
	facts   map[int]bool // the file's crash-fact lines
}

// fileOut is what searching one file produced.
type fileOut struct {
	fm       FileMatches
	byType   map[string]int
	byHour   map[int64]int
	bytes    int64
	err      error
	complete bool
	started  bool
	keep     keeper                   // the file's best matches in the incident order
	routine  map[string]*routineTally // routine lines by rule
	parts    [4]int                   // matches inside, before and after the focus, and untimed
	best     bound                    // the best listable match's rank: a unit's may not beat its bound
}

// reset empties a unit's result for the next unit, keeping its buffers; bar is the key a match
// must beat to be worth keeping (nil: any).
func (o *fileOut) reset(max int, bar *rankKey) {
	o.fm = FileMatches{}
	clear(o.byType)
	clear(o.byHour)
	clear(o.routine)
	o.bytes, o.err, o.parts, o.best = 0, nil, [4]int{}, worst
	o.keep.reset(max, bar)
}

// count tallies a match.
func (o *fileOut) count(logType string, t time.Time, part int, key rankKey) {
	o.fm.Total++
	if o.byType == nil {
		o.byType, o.byHour = map[string]int{}, map[int64]int{}
	}
	o.byType[logType]++
	if !t.IsZero() {
		o.byHour[t.Unix()/3600]++
	}
	o.parts[part]++
	if key.tier != tierRoutine && key.bound().compare(o.best) < 0 {
		o.best = key.bound()
	}
}

// add merges a unit's result into its file's.
func (o *fileOut) add(u *fileOut) {
	o.fm.Total += u.fm.Total
	o.bytes += u.bytes
	if u.err != nil {
		o.err = u.err
	}
	if len(u.byType) > 0 && o.byType == nil {
		o.byType, o.byHour = map[string]int{}, map[int64]int{}
	}
	for t, c := range u.byType {
		o.byType[t] += c
	}
	for h, c := range u.byHour {
		o.byHour[h] += c
	}
	for k := range o.parts {
		o.parts[k] += u.parts[k]
	}
	for rule, t := range u.routine {
		if o.routine == nil {
			o.routine = map[string]*routineTally{}
		}
		mine := o.routine[rule]
		if mine == nil {
			mine = &routineTally{}
			o.routine[rule] = mine
		}
		if mine.count == 0 || t.key.compare(mine.key) < 0 {
			mine.key, mine.ex = t.key, t.ex
		}
		mine.count += t.count
	}
	for i := range u.keep.items {
		it := &u.keep.items[i]
		if o.keep.admits(it.key) {
			o.keep.keep(it.key, it.m, it.text)
		}
	}
}

// Search runs req over every text file of the bundle. A request the caller must fix returns an
// error wrapping ErrBadRequest. When ctx ends mid-way the matches found so far are returned with
// Truncated set and a note, not an error.
func Search(ctx context.Context, e *store.Entry, idx *index.Index, req Request) (*Result, error) {
	if e == nil || e.Manifest == nil || idx == nil {
		return nil, errors.New("search: a stored bundle and its index are required")
	}
	p, err := newPlan(idx, req)
	if err != nil {
		return nil, err
	}
	res := &Result{Query: req.Query}
	if p.set != nil {
		for i := range p.set.Len() {
			res.Prefilter = append(res.Prefilter, p.set.Literal(i).Text)
		}
	}
	jobs, skipped := planFiles(e, idx, p)
	res.Skipped = skipped

	r := newRunner(e, p, jobs, !req.ExactTotal && !req.CountOnly)
	r.run(ctx)
	res.TotalExact = true
	for _, o := range r.outs {
		res.TotalExact = res.TotalExact && o.complete
	}
	merge(res, p, jobs, r.outs, r.stopped)
	if !res.TotalExact {
		res.TotalAtMost = -1
		if n := r.unread(); n >= 0 {
			res.TotalAtMost = int64(res.Total) + n
		}
	}
	if r.stopped {
		res.Notes = append(res.Notes, r.note(res))
	}
	if err := ctx.Err(); err != nil {
		res.Truncated = true
		res.Notes = append(res.Notes, fmt.Sprintf("search stopped early (%v): %d of %d files were searched in full; the matches found so far are listed", err, res.Searched, len(jobs)))
	}
	return res, nil
}

// planFiles orders the bundle's text files by path and drops those the request rules out.
func planFiles(e *store.Entry, idx *index.Index, p *plan) ([]job, []SkippedFile) {
	byPath := make(map[string]*index.File, len(idx.Files))
	for i := range idx.Files {
		byPath[idx.Files[i].Path] = &idx.Files[i]
	}
	files := slices.Clone(e.Manifest.Files)
	slices.SortFunc(files, func(a, b bundle.File) int { return strings.Compare(a.Path, b.Path) })
	var jobs []job
	var skipped []SkippedFile
	for _, f := range files {
		j := job{file: f, ix: byPath[f.Path], logType: f.LogType}
		if j.ix != nil {
			j.logType = j.ix.LogType
		}
		j.mixed = slices.Contains(detect.MixedLogTypes, j.logType)
		j.typeOK = p.types == nil || p.types[j.logType]
		if !j.typeOK && !j.mixed {
			continue // not asked for: not a skip worth listing
		}
		if f.Binary {
			skipped = append(skipped, SkippedFile{f.Path, j.logType, "binary file"})
			continue
		}
		if p.window {
			if reason := outsideWindow(j.ix, p); reason != "" {
				skipped = append(skipped, SkippedFile{f.Path, j.logType, reason})
				continue
			}
		}
		j.order = len(jobs)
		j.facts = p.facts[f.Path]
		jobs = append(jobs, j)
	}
	return jobs, skipped
}

// outsideWindow says why a file cannot hold a line of the window, or "".
func outsideWindow(ix *index.File, p *plan) string {
	if ix == nil {
		return "not a log file: its lines have no times, so a window cannot select them"
	}
	timed := false
	for _, c := range ix.Checkpoints {
		if !c.Time.IsZero() {
			timed = true
			break
		}
	}
	if !timed || ix.Quality == logtime.None {
		return "the index found no times in this file, so a window cannot select its lines"
	}
	if !ix.First.IsZero() && !ix.Last.IsZero() && !ix.Last.Before(ix.First) {
		if (!p.to.IsZero() && !ix.First.Before(p.to)) || (!p.from.IsZero() && ix.Last.Before(p.from)) {
			return fmt.Sprintf("its lines span %s to %s, outside the window", ix.First.Format(time.RFC3339), ix.Last.Format(time.RFC3339))
		}
	}
	return ""
}

// merge joins the per-file results in file order and numbers the listed matches. When every
// match fits, all are listed; otherwise the page is chosen incident first (choose).
func merge(res *Result, p *plan, jobs []job, outs []fileOut, stopped bool) {
	byType := map[string]int{}
	byHour := map[int64]int{}
	var parts [4]int
	cut := p.offset > 0
	for i, o := range outs {
		if !o.started {
			if !stopped { // a page that was certain needed nothing of the file
				res.Skipped = append(res.Skipped, SkippedFile{jobs[i].file.Path, jobs[i].logType, "not reached before the search stopped"})
			}
			continue
		}
		res.BytesScanned += o.bytes
		if o.err != nil {
			res.Skipped = append(res.Skipped, SkippedFile{jobs[i].file.Path, jobs[i].logType, "read error: " + o.err.Error()})
			res.Truncated = true
		}
		if o.complete {
			res.Searched++
		}
		for t, c := range o.byType {
			byType[t] += c
		}
		for h, c := range o.byHour {
			byHour[h] += c
		}
		for k := range parts {
			parts[k] += o.parts[k]
		}
		res.Total += o.fm.Total
		cut = cut || o.fm.Total > p.maxPerFile
	}
	cut = (cut || res.Total > p.maxTotal) && !p.countOnly
	var page map[int][]Match
	listable := 0
	if cut {
		page, listable = choose(p, outs)
	}
	n := 0
	for i := range outs {
		o := &outs[i]
		if !o.started || o.fm.Total == 0 {
			continue
		}
		fm := o.fm
		if cut {
			fm.Matches = page[i]
		} else {
			fm.Matches = inLineOrder(o.keep.items)
		}
		if fm.Matches == nil {
			fm.Matches = []Match{}
		}
		for k := range fm.Matches {
			n++
			fm.Matches[k].ID = fmt.Sprintf("S-%03d", n)
		}
		fm.Truncated = fm.Total > len(fm.Matches) && !p.countOnly
		res.Returned += len(fm.Matches)
		res.Truncated = res.Truncated || fm.Truncated
		res.Files = append(res.Files, fm)
	}
	if cut {
		incidentFirst(res, p, outs, parts, listable)
	}
	if res.Returned < res.Total && !p.countOnly {
		res.Truncated = true
		res.Narrow = narrow(res.Total, byType, byHour)
	}
}

func inLineOrder(items []kept) []Match {
	out := make([]Match, len(items))
	for i := range items {
		out[i] = items[i].match()
	}
	slices.SortFunc(out, func(a, b Match) int { return cmp.Compare(a.Line, b.Line) })
	return out
}

// incidentFirst says how a cut answer was chosen and what gets the rest.
func incidentFirst(res *Result, p *plan, outs []fileOut, parts [4]int, listable int) {
	count := thousands // of matches, exact or of the blocks read
	if !res.TotalExact {
		count = func(n int) string { return "at least " + thousands(n) }
	}
	f := *p.focus
	listed := [4]int{}
	for _, fm := range res.Files {
		for _, m := range fm.Matches {
			part, _ := p.place(m.Time)
			listed[part]++
		}
	}
	f.Inside = Part{parts[partInside], listed[partInside]}
	f.Before = Part{parts[partBefore], listed[partBefore]}
	f.After = Part{parts[partAfter], listed[partAfter]}
	f.Untimed = Part{parts[partUntimed], listed[partUntimed]}
	res.Focus = &f
	res.Offset = p.offset
	if next := p.offset + res.Returned; next < listable {
		res.NextOffset = next
		res.Next = append(res.Next, Next{Offset: next, Matches: listable - next,
			What: fmt.Sprintf("the next page: %s more of the %s matches listable, in the same incident-first order", count(listable-next), count(listable))})
	}
	// A search that stopped early did not read every block before and after the focus: there may
	// be more there than it counted.
	if (f.Before.Matches > f.Before.Listed || !res.TotalExact) && !f.From.IsZero() {
		res.Next = append(res.Next, Next{Window: true, From: p.from, To: f.From, Matches: f.Before.Matches,
			What: fmt.Sprintf("the %s matches before %s (%s of them listed here)", count(f.Before.Matches), f.From.UTC().Format(time.RFC3339Nano), thousands(f.Before.Listed))})
	}
	if (f.After.Matches > f.After.Listed || !res.TotalExact) && !f.To.IsZero() {
		res.Next = append(res.Next, Next{Window: true, From: f.To, To: p.to, Matches: f.After.Matches,
			What: fmt.Sprintf("the %s matches from %s on (%s of them listed here)", count(f.After.Matches), f.To.UTC().Format(time.RFC3339Nano), thousands(f.After.Listed))})
	}
	if p.listRoutine {
		return
	}
	res.Collapsed = collapse(p, outs)
	if routine := res.Total - listable; routine > 0 {
		res.Next = append(res.Next, Next{ListRoutine: true, Matches: routine,
			What: fmt.Sprintf("the %s routine lines counted in collapsed, listed among the others", count(routine))})
	}
}

// narrow suggests the log types and hours that hold most matches: each suggestion, applied alone,
// keeps the count it names.
func narrow(total int, byType map[string]int, byHour map[int64]int) []string {
	var out []string
	type kv struct {
		k string
		h int64
		n int
	}
	var types []kv
	for t, n := range byType {
		types = append(types, kv{k: t, n: n})
	}
	slices.SortFunc(types, func(a, b kv) int { return cmp.Or(b.n-a.n, strings.Compare(a.k, b.k)) })
	if len(types) > 1 {
		for _, t := range types[:min(len(types), narrowSuggestionsMax)] {
			out = append(out, fmt.Sprintf("logTypes=%s (%s of %s matches)", t.k, thousands(t.n), thousands(total)))
		}
	}
	var hours []kv
	for h, n := range byHour {
		hours = append(hours, kv{h: h, n: n})
	}
	slices.SortFunc(hours, func(a, b kv) int { return cmp.Or(b.n-a.n, cmp.Compare(a.h, b.h)) })
	if len(hours) > 1 {
		for _, h := range hours[:min(len(hours), narrowSuggestionsMax)] {
			from := time.Unix(h.h*3600, 0).UTC()
			out = append(out, fmt.Sprintf("from=%s to=%s (%s of %s matches)", from.Format(time.RFC3339),
				from.Add(time.Hour).Format(time.RFC3339), thousands(h.n), thousands(total)))
		}
	}
	if len(out) == 0 {
		out = append(out, "all matches share one log type and hour: make the query more specific or drop routine lines with exclude")
	}
	return out
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// scanner searches files one after another; each worker owns one.
type scanner struct {
	p      *plan
	lit    *literal.Scanner
	re, ex *regex.Scanner // ex is nil without an exclude
}

// pending is a match still collecting its After lines from the next block: the keeper's slot
// and the line it held, since a better match may have taken the slot meanwhile.
type pending struct {
	match int
	line  int
	need  int
}

// readUnit searches one unit of a file into out; it returns false when the search must end
// before the unit's end (the context ended, or a read failed: out.err says which).
func (s *scanner) readUnit(ctx context.Context, out *fileOut, j *job, u unit, src *sources) bool {
	r, done, err := src.reader(j, u)
	if err != nil {
		out.err = err
		return false
	}
	defer done()
	format := logtime.Format("")
	if j.ix != nil {
		format = j.ix.Format
	}
	tctx := s.p.tctx
	tctx.Location = fileZone(j.ix, tctx.Location)
	lr := lines.NewReader(r, 0, 0)
	defer lr.Release()
	if s.p.countOnly {
		lr.SkipLineNumbers()
	}
	var tail []ContextLine // the last lines of the previous block, for Before
	var pend []pending
	for {
		if ctx.Err() != nil {
			return false
		}
		blk, err := lr.Next()
		if err == io.EOF {
			return true
		}
		if err != nil {
			out.err = err
			return false
		}
		blk.FirstLine += int(u.line - 1)
		blk.Offset += u.off
		out.bytes += int64(len(blk.Data))
		if len(pend) > 0 {
			pend = s.fillAfter(&out.keep, pend, blk)
		}
		pend = s.block(out, j, blk, format, &tctx, tail, pend)
		if s.p.context > 0 {
			tail = s.tail(blk, tail)
		}
	}
}

// block searches the lines of one block; pend gains the matches whose After lines run into the
// next block.
func (s *scanner) block(out *fileOut, j *job, blk lines.Block, format logtime.Format, tctx *logtime.Context, tail []ContextLine, pend []pending) []pending {
	p := s.p
	dmesg := format == logtime.DmesgRaw
	counter := lines.NewCounter(blk)
	each := s.lines(blk.Data)
	for {
		ls, le, ok := each()
		if !ok {
			return pend
		}
		line := blk.Data[ls:le]
		if (!p.literalOnly && !s.re.Match(line)) || (s.ex != nil && s.ex.Match(line)) {
			continue
		}
		lt := j.logType
		if j.mixed {
			src := detect.LineSource(line)
			if !j.typeOK && !p.types[src] {
				continue
			}
			if src != "" {
				lt = src
			}
		}
		if p.countOnly && !p.window {
			out.fm.Total++
			continue
		}
		var st logtime.Stamp
		switch {
		case dmesg:
			st = s.dmesgTime(line)
		case format != "":
			st = tctx.Parse(format, line)
		default:
			st = logtime.Stamp{Quality: logtime.None}
		}
		if p.window && (st.Time.IsZero() || (!p.from.IsZero() && st.Time.Before(p.from)) || (!p.to.IsZero() && !st.Time.Before(p.to))) {
			// A line without its own time cannot be placed in the window: nothing is borrowed
			// from its neighbours.
			continue
		}
		if p.countOnly {
			out.fm.Total++
			continue
		}
		no := counter.LineOf(ls)
		part, dist := p.place(st.Time)
		routine := ""
		if !p.listRoutine {
			routine = p.routine.routineOf(line, j.logType, p.troubled)
		}
		key := p.key(part, dist, j.facts[no], routine, no)
		ref := evidence.LineRef{File: j.file.Path, Line: no, Offset: blk.Offset + int64(ls), Time: st.Time, TimeQuality: st.Quality}
		out.count(lt, st.Time, part, key)
		if routine != "" {
			s.tally(out, routine, key, ref, line)
		}
		if !out.keep.admits(key) {
			continue
		}
		m := Match{LineRef: ref, Cut: blk.Cut && le == len(blk.Data)}
		var need int
		if p.context > 0 {
			m.Before = s.before(blk, ls, no, tail)
			m.After, need = s.after(blk, le, no, p.context)
		}
		slot := out.keep.put(key, m, line, p.maxLine)
		if need > 0 {
			pend = append(pend, pending{match: slot, line: no, need: need})
		}
	}
}

// tally counts a routine line and keeps it as its rule's example when it is the nearest yet.
func (s *scanner) tally(out *fileOut, rule string, key rankKey, ref evidence.LineRef, line []byte) {
	if out.routine == nil {
		out.routine = map[string]*routineTally{}
	}
	t := out.routine[rule]
	if t == nil {
		t = &routineTally{}
		out.routine[rule] = t
	}
	t.count++
	if t.count == 1 || key.compare(t.key) < 0 {
		text, cut := s.cut(line)
		t.key, t.ex = key, Example{LineRef: ref, Text: text, Cut: cut}
	}
}

// span turns the window into where to read: the line and offset of the last checkpoint before
// from (lines before it are earlier still) and the offset of the first checkpoint after to
// (lines from there on are later), or -1 to read to the end. Files are in time order; a line out
// of order inside the read range is still filtered by its own time.
func span(cps []index.Checkpoint, from, to time.Time) (line, off, stop int64) {
	line, off, stop = 1, 0, -1
	first := 0
	if !from.IsZero() {
		for i, c := range cps {
			if c.Time.IsZero() {
				continue
			}
			if !c.Time.Before(from) {
				break
			}
			line, off, first = c.Line, c.Offset, i
		}
	}
	if !to.IsZero() {
		for _, c := range cps[first:] {
			if !c.Time.IsZero() && c.Time.After(to) && c.Offset > off {
				stop = c.Offset
				break
			}
		}
	}
	return line, off, stop
}

func (s *scanner) dmesgTime(line []byte) logtime.Stamp {
	sec, ok := logtime.DmesgSeconds(line)
	if !ok || s.p.tctx.Boot.IsZero() {
		return logtime.Stamp{Quality: logtime.None}
	}
	return logtime.Stamp{Time: s.p.tctx.Boot.Add(time.Duration(sec * float64(time.Second))).UTC(), Quality: logtime.BootAnchored}
}

// lines returns an iterator over the candidate lines of a block: those the prefilter reports, or
// every line when the regex has no literal.
func (s *scanner) lines(data []byte) func() (int, int, bool) {
	if s.lit != nil {
		s.lit.Reset(data)
		return func() (int, int, bool) {
			ls, le, _, ok := s.lit.Next()
			return ls, le, ok
		}
	}
	pos := 0
	return func() (int, int, bool) {
		if pos >= len(data) {
			return 0, 0, false
		}
		ls := pos
		le := bytes.IndexByte(data[pos:], '\n')
		if le < 0 {
			le = len(data)
		} else {
			le += pos
		}
		pos = le + 1
		return ls, le, true
	}
}

// cut shortens a line to the output cap at a UTF-8 boundary and says how much was left out.
func (s *scanner) cut(line []byte) (string, bool) {
	return cutLine(line, s.p.maxLine)
}

// appendCut appends the line to dst as cutLine would write it.
func appendCut(dst, line []byte, maxBytes int) ([]byte, bool) {
	return evidence.AppendQuote(dst, line, maxBytes)
}

func cutLine(line []byte, maxBytes int) (string, bool) {
	return evidence.Quote(line, maxBytes)
}

func (s *scanner) ctxLine(blk lines.Block, ls, le, no int) ContextLine {
	text, cut := s.cut(blk.Data[ls:le])
	return ContextLine{Line: no, Offset: blk.Offset + int64(ls), Text: text, Cut: cut}
}

// before collects up to p.context lines above the match at ls, continuing into the previous
// block's tail when the match is near the top of its block.
func (s *scanner) before(blk lines.Block, ls, no int, tail []ContextLine) []ContextLine {
	n := s.p.context
	var rev []ContextLine
	pos := ls
	for len(rev) < n && pos > 0 {
		end := pos - 1 // the '\n' ending the previous line
		start := bytes.LastIndexByte(blk.Data[:end], '\n') + 1
		rev = append(rev, s.ctxLine(blk, start, end, no-1-len(rev)))
		pos = start
	}
	if missing := n - len(rev); missing > 0 && pos == 0 {
		from := max(0, len(tail)-missing)
		for i := len(tail) - 1; i >= from; i-- {
			rev = append(rev, tail[i])
		}
	}
	slices.Reverse(rev)
	return rev
}

// after collects up to n lines below the match ending at le and says how many are still missing
// because the block ended.
func (s *scanner) after(blk lines.Block, le, no, n int) ([]ContextLine, int) {
	var out []ContextLine
	pos := le + 1
	for len(out) < n && pos < len(blk.Data) {
		end := bytes.IndexByte(blk.Data[pos:], '\n')
		if end < 0 {
			end = len(blk.Data)
		} else {
			end += pos
		}
		out = append(out, s.ctxLine(blk, pos, end, no+1+len(out)))
		pos = end + 1
	}
	return out, n - len(out)
}

// fillAfter gives matches at the end of the previous block their After lines from this one.
func (s *scanner) fillAfter(k *keeper, pend []pending, blk lines.Block) []pending {
	var rest []pending
	for _, pd := range pend {
		m := &k.items[pd.match].m
		if m.Line != pd.line {
			continue // the match was dropped for a better one
		}
		// The first line of this block follows the last line collected (or the match itself).
		got, need := s.after(blk, -1, blk.FirstLine-1, pd.need)
		m.After = append(m.After, got...)
		if need > 0 {
			rest = append(rest, pending{match: pd.match, line: pd.line, need: need})
		}
	}
	return rest
}

// tail keeps the last p.context lines of a block (after the tail carried from earlier blocks,
// for blocks shorter than the context).
func (s *scanner) tail(blk lines.Block, prev []ContextLine) []ContextLine {
	n := s.p.context
	var rev []ContextLine
	end := len(blk.Data)
	if end > 0 && blk.Data[end-1] == '\n' {
		end--
	}
	nlines := bytes.Count(blk.Data, []byte{'\n'})
	if len(blk.Data) > 0 && blk.Data[len(blk.Data)-1] != '\n' {
		nlines++
	}
	last := blk.FirstLine + nlines - 1
	for len(rev) < n && end >= 0 {
		start := bytes.LastIndexByte(blk.Data[:end], '\n') + 1
		rev = append(rev, s.ctxLine(blk, start, end, last-len(rev)))
		if start == 0 {
			break
		}
		end = start - 1
	}
	if missing := n - len(rev); missing > 0 {
		from := max(0, len(prev)-missing)
		for i := len(prev) - 1; i >= from; i-- {
			rev = append(rev, prev[i])
		}
	}
	slices.Reverse(rev)
	return rev
}

// newScanner gives one worker its own literal scanner and DFA caches, so matching a line takes
// no lock.
func newScanner(p *plan) *scanner {
	s := &scanner{p: p, re: p.re.Scanner()}
	if p.set != nil {
		s.lit = p.set.NewScanner()
	}
	if p.ex != nil {
		s.ex = p.ex.Scanner()
	}
	return s
}
