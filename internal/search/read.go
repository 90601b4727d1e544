package search

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/nodediag/nodediag/internal/bundle"
	"github.com/nodediag/nodediag/internal/editdist"
	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/lines"
	"github.com/nodediag/nodediag/internal/store"
)

// Limits of a read: enough for an agent to see an incident's neighbourhood, small enough for its
// context window.
const (
	DefaultLineCount = 200
	CapLineCount     = 10000
	CapReadBytes     = 1 << 20
	similarKeys      = 5
)

// ReadRequest asks for lines of one file: by line (StartLine, LineCount) or, when EndByte > 0, by
// byte range [StartByte, EndByte) widened to whole lines.
type ReadRequest struct {
	LogKey       string // the file's path in the bundle, as the index and search name it
	StartLine    int    // 1-based; 0 means 1; negative counts from the end (-200: the last 200 lines)
	LineCount    int    // default 200, cap 10,000
	StartByte    int64
	EndByte      int64 // byte mode when > 0; at most 1 MiB after StartByte
	MaxLineBytes int   // longer lines are cut with a marker: default 2000
}

// ReadResult is a run of consecutive lines of one file.
type ReadResult struct {
	File       string `json:"file" yaml:"file"`
	LogType    string `json:"logType" yaml:"logType"`
	TotalLines int64  `json:"totalLines" yaml:"totalLines"`
	TotalBytes int64  `json:"totalBytes" yaml:"totalBytes"`
	StartLine  int    `json:"startLine" yaml:"startLine"`
	EndLine    int    `json:"endLine" yaml:"endLine"`     // last line returned
	StartByte  int64  `json:"startByte" yaml:"startByte"` // offset of the first line returned
	EndByte    int64  `json:"endByte" yaml:"endByte"`     // offset just past the last line returned
	Lines      []Line `json:"lines" yaml:"lines"`
	More       bool   `json:"more" yaml:"more"`                     // lines follow in the file
	Next       string `json:"next,omitempty" yaml:"next,omitempty"` // the request for the next page, e.g. "startLine=401"
	// NextRange is that request's range, for a face to write in its own words.
	NextRange *NextRange `json:"-" yaml:"-"`
}

// Line is one line of a file.
type Line struct {
	No     int    `json:"no" yaml:"no"`
	Offset int64  `json:"offset" yaml:"offset"`
	Text   string `json:"text" yaml:"text"`
	Cut    bool   `json:"cut,omitempty" yaml:"cut,omitempty"`
}

// Read returns lines of one file of the bundle. It seeks to the index checkpoint before the
// wanted line or byte rather than reading from the top. A key that is not a file of the bundle
// (absolute, "..", unknown, binary) is refused with ErrBadRequest and the keys it resembles.
func Read(ctx context.Context, e *store.Entry, idx *index.Index, req ReadRequest) (*ReadResult, error) {
	if e == nil || e.Manifest == nil || idx == nil {
		return nil, fmt.Errorf("read: a stored bundle and its index are required")
	}
	f, ix, err := resolveKey(e, idx, req.LogKey)
	if err != nil {
		return nil, err
	}
	if req.MaxLineBytes < 0 {
		return nil, badf("maxLineBytes is %d; give a positive number (default %d)", req.MaxLineBytes, DefaultMaxLineBytes)
	}
	res := &ReadResult{File: f.Path, LogType: f.LogType}
	var cps []index.Checkpoint
	if ix != nil {
		res.LogType = ix.LogType
		res.TotalLines, res.TotalBytes = ix.Lines, ix.Bytes
		cps = ix.Checkpoints
	} else if res.TotalLines, res.TotalBytes, err = countLines(ctx, e, f); err != nil {
		return nil, err
	}
	rng, err := readRangeOf(req, res)
	if err != nil {
		return nil, err
	}
	from := rng.checkpoint(cps)
	rc, err := bundle.Open(e.Dir, f)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if err := skipTo(rc, from.Offset); err != nil {
		return nil, fmt.Errorf("read %s: skip to byte %d: %w", f.Path, from.Offset, err)
	}
	if err := rng.collect(ctx, rc, from, cmp.Or(req.MaxLineBytes, DefaultMaxLineBytes), res); err != nil {
		return nil, err
	}
	if len(res.Lines) > 0 {
		res.StartLine, res.EndLine = res.Lines[0].No, res.Lines[len(res.Lines)-1].No
		res.StartByte = res.Lines[0].Offset
	}
	res.More = int64(res.EndLine) < res.TotalLines
	if res.More {
		if rng.byteMode {
			res.NextRange = &NextRange{StartByte: res.EndByte, EndByte: res.EndByte + (rng.endByte - rng.startByte)}
			res.Next = fmt.Sprintf("startByte=%d endByte=%d", res.NextRange.StartByte, res.NextRange.EndByte)
		} else {
			res.NextRange = &NextRange{StartLine: res.EndLine + 1}
			res.Next = fmt.Sprintf("startLine=%d", res.NextRange.StartLine)
		}
	}
	return res, nil
}

// NextRange is where the next page of a read starts: a line, or a byte range.
type NextRange struct {
	StartLine          int
	StartByte, EndByte int64
}

// readRange is what a read asks for: lines from startLine, count of them, or the lines that
// touch [startByte, endByte).
type readRange struct {
	byteMode           bool
	startLine, count   int
	startByte, endByte int64
}

// readRangeOf checks the request's range against the file's size (in res).
func readRangeOf(req ReadRequest, res *ReadResult) (readRange, error) {
	if req.EndByte > 0 {
		if req.StartByte < 0 || req.EndByte <= req.StartByte {
			return readRange{}, badf("byte range [%d, %d) is empty or negative; give 0 <= startByte < endByte", req.StartByte, req.EndByte)
		}
		if req.StartByte >= res.TotalBytes {
			return readRange{}, badf("startByte %d is past the end of %s (%d bytes)", req.StartByte, res.File, res.TotalBytes)
		}
		return readRange{byteMode: true, startByte: req.StartByte, endByte: min(req.EndByte, req.StartByte+CapReadBytes)}, nil
	}
	if req.LineCount < 0 || req.LineCount > CapLineCount {
		return readRange{}, badf("lineCount is %d; 1 to %d lines are accepted (0 means %d)", req.LineCount, CapLineCount, DefaultLineCount)
	}
	r := readRange{count: cmp.Or(req.LineCount, DefaultLineCount), startLine: req.StartLine}
	switch {
	case r.startLine == 0:
		r.startLine = 1
	case r.startLine < 0:
		r.startLine = max(1, int(res.TotalLines)+r.startLine+1)
	}
	if int64(r.startLine) > res.TotalLines {
		return readRange{}, badf("startLine %d is past the end of %s (%d lines)", r.startLine, res.File, res.TotalLines)
	}
	return r, nil
}

// checkpoint is the last checkpoint at or before where reading starts.
func (r readRange) checkpoint(cps []index.Checkpoint) index.Checkpoint {
	from := index.Checkpoint{Line: 1}
	for _, c := range cps {
		if (r.byteMode && c.Offset > r.startByte) || (!r.byteMode && c.Line > int64(r.startLine)) {
			break
		}
		from = c
	}
	return from
}

// skipTo moves rc to byte off: a seek when it can, else by reading.
func skipTo(rc io.Reader, off int64) error {
	if off <= 0 {
		return nil
	}
	if sk, ok := rc.(io.Seeker); ok {
		_, err := sk.Seek(off, io.SeekStart)
		return err
	}
	_, err := io.CopyN(io.Discard, rc, off)
	return err
}

// collect reads from the checkpoint on and appends the range's lines to res.
func (r readRange) collect(ctx context.Context, rc io.Reader, from index.Checkpoint, maxLine int, res *ReadResult) error {
	lr := lines.NewReader(rc, 0, 0)
	defer lr.Release()
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("read %s: %w", res.File, err)
		}
		blk, err := lr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", res.File, err)
		}
		blk.FirstLine += int(from.Line - 1)
		blk.Offset += from.Offset
		if r.block(blk, maxLine, res) {
			return nil
		}
	}
}

// block appends the range's lines of one block; true means the range is complete.
func (r readRange) block(blk lines.Block, maxLine int, res *ReadResult) bool {
	no := blk.FirstLine
	for pos := 0; pos < len(blk.Data); no++ {
		end := bytes.IndexByte(blk.Data[pos:], '\n')
		next := 0
		if end < 0 {
			end, next = len(blk.Data), len(blk.Data)
		} else {
			end += pos
			next = end + 1
		}
		off := blk.Offset + int64(pos)
		lineEnd := blk.Offset + int64(next)
		if r.byteMode && off >= r.endByte {
			return true
		}
		if (r.byteMode && lineEnd > r.startByte) || (!r.byteMode && no >= r.startLine) {
			text, cut := cutLine(blk.Data[pos:end], maxLine)
			res.Lines = append(res.Lines, Line{No: no, Offset: off, Text: text, Cut: cut || (blk.Cut && next == len(blk.Data))})
			res.EndByte = lineEnd
			if !r.byteMode && len(res.Lines) == r.count {
				return true
			}
		}
		pos = next
	}
	return false
}

// resolveKey finds the file a key names. Keys are the slash paths of the manifest; anything else
// is refused before a path is built from it.
func resolveKey(e *store.Entry, idx *index.Index, key string) (bundle.File, *index.File, error) {
	var ix *index.File
	clean := strings.TrimPrefix(key, "./")
	switch {
	case key == "":
		return bundle.File{}, nil, badf("logKey is empty; give a file path of the bundle such as %q", examplePath(e))
	case path.IsAbs(key) || strings.HasPrefix(key, `\`) || (len(key) > 1 && key[1] == ':'):
		return bundle.File{}, nil, badf("logKey %q is an absolute path; give a path inside the bundle%s", key, similar(e, key))
	case slices.Contains(strings.Split(strings.ReplaceAll(key, `\`, "/"), "/"), ".."):
		return bundle.File{}, nil, badf("logKey %q leaves the bundle (..); give a path inside it%s", key, similar(e, key))
	}
	for _, f := range e.Manifest.Files {
		if f.Path != clean {
			continue
		}
		if f.Binary {
			return bundle.File{}, nil, badf("logKey %q is a binary file; only text files can be read", key)
		}
		for i := range idx.Files {
			if idx.Files[i].Path == f.Path {
				ix = &idx.Files[i]
				break
			}
		}
		return f, ix, nil
	}
	return bundle.File{}, nil, badf("no file %q in bundle %s%s", key, e.Manifest.ID, similar(e, key))
}

func examplePath(e *store.Entry) string {
	for _, f := range e.Manifest.Files {
		if f.Log {
			return f.Path
		}
	}
	return "kubelet/kubelet.log"
}

// similar lists the bundle's text files whose names are closest to key: same file name first,
// then names containing it, then by edit distance.
func similar(e *store.Entry, key string) string {
	base := path.Base(strings.ReplaceAll(key, `\`, "/"))
	type cand struct {
		p     string
		score int
	}
	var cands []cand
	for _, f := range e.Manifest.Files {
		if f.Binary {
			continue
		}
		b := path.Base(f.Path)
		var s int
		switch {
		case strings.EqualFold(b, base):
			s = 0
		case base != "" && base != "." && strings.Contains(strings.ToLower(f.Path), strings.ToLower(base)):
			s = 1
		default:
			s = 2 + editdist.Levenshtein(strings.ToLower(b), strings.ToLower(base))
		}
		cands = append(cands, cand{f.Path, s})
	}
	slices.SortFunc(cands, func(a, b cand) int { return cmp.Or(a.score-b.score, strings.Compare(a.p, b.p)) })
	if len(cands) == 0 {
		return ""
	}
	var names []string
	for _, c := range cands[:min(len(cands), similarKeys)] {
		names = append(names, c.p)
	}
	return "; similar keys: " + strings.Join(names, ", ")
}

// countLines measures a file the index did not read (configs, command output).
func countLines(ctx context.Context, e *store.Entry, f bundle.File) (nLines, nBytes int64, err error) {
	rc, err := bundle.Open(e.Dir, f)
	if err != nil {
		return 0, 0, err
	}
	defer rc.Close()
	lr := lines.NewReader(rc, 0, 0)
	defer lr.Release()
	for {
		if err := ctx.Err(); err != nil {
			return 0, 0, fmt.Errorf("read %s: %w", f.Path, err)
		}
		blk, err := lr.Next()
		if err == io.EOF {
			return lr.Lines, nBytes, nil
		}
		if err != nil {
			return 0, 0, fmt.Errorf("read %s: %w", f.Path, err)
		}
		nBytes = blk.Offset + int64(len(blk.Data))
	}
}
