package gather

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Defaults shared by both methods. The window and the timeout are the EKS log collector's
// (journalctl --since "10 days ago", timeout 75), so a gathered bundle covers what a collector
// bundle would.
const (
	DefaultMaxFileBytes int64 = 256 << 20
	DefaultWindow             = 10 * 24 * time.Hour
	DefaultTimeout            = 75 * time.Second
	// ManifestName is the file in the bundle's root that records how it was gathered.
	ManifestName = "nodediag-gather.json"
	// MethodAgent is the method of the capture agent's snapshots (internal/agent).
	MethodAgent = "agent"
)

// Result describes a gathered bundle.
type Result struct {
	Dir        string       `json:"dir"`        // the bundle folder, ready for store.Import
	Method     string       `json:"method"`     // "kube" or "local"
	InstanceID string       `json:"instanceId"` // empty when the node is not an EC2 instance
	NodeName   string       `json:"nodeName"`
	Capture    time.Time    `json:"capture"`
	Files      []FileResult `json:"files"`
	Missing    []Missing    `json:"missing"`
	Trigger    *Trigger     `json:"trigger,omitempty"` // set in a capture agent's snapshot
	// JournalReader says what read the journals of a local gathering: "journalctl", or
	// "nodediag" for nodediag's own reader of the journal files (internal/journal), whose
	// output is journalctl's -o short-iso-precise; each file's source says which as well.
	JournalReader string `json:"journalReader,omitempty"`
}

// Trigger says which crash made the capture agent take a snapshot, so that a diagnosis built on
// it can name the restart it was taken after.
type Trigger struct {
	Reason       string    `json:"reason"` // "restart", "CrashLoopBackOff", or "final: <why>" for the last snapshot before the node goes
	Namespace    string    `json:"namespace"`
	Pod          string    `json:"pod"`
	PodUID       string    `json:"podUID"`
	Container    string    `json:"container"`
	RestartCount int32     `json:"restartCount"`
	ExitCode     *int32    `json:"exitCode,omitempty"`
	CrashedAt    time.Time `json:"crashedAt,omitzero"` // lastState.terminated.finishedAt, else when it was seen
}

// FileResult is one file written into the bundle.
type FileResult struct {
	Path      string `json:"path"`   // relative to Dir, slash-separated, in the collector's layout
	Source    string `json:"source"` // what produced it, e.g. "node log query query=kubelet"
	Bytes     int64  `json:"bytes"`
	Lines     int    `json:"lines"`
	Truncated bool   `json:"truncated,omitempty"` // cut at the size cap (also listed in Missing)
}

// Missing is something that could not be gathered, and why.
type Missing struct {
	What string `json:"what"`
	Why  string `json:"why"`
}

// Progress is told of each step as it starts: a short description, and how many steps are done
// out of how many are known so far (the total grows when pods are listed). It may be nil.
type Progress func(step string, done, total int)

// validInstanceID is what internal/bundle accepts as an instance id (system/instance-id.txt and
// the folder name); anything else would be ignored there, so it is not written.
var validInstanceID = regexp.MustCompile(`^m?i-[0-9a-f]{8,32}$`)

// unsafeName keeps a node or host name usable as one path element of the folder name.
var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// builder writes one bundle under a temporary folder and renames it when done.
type builder struct {
	parent   string
	tmp      string
	maxBytes int64
	maxTotal int64 // 0: no cap on the whole bundle
	total    int64
	res      *Result
	progress Progress
	steps    int
	done     int
}

func newBuilder(parent, method string, capture time.Time, maxBytes int64, progress Progress) (*builder, error) {
	if parent == "" {
		return nil, errors.New("gather: empty destination folder (want the folder to write the bundle in)")
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("gather: destination %s: %w", parent, err)
	}
	tmp, err := os.MkdirTemp(parent, ".nodediag-gather-*.partial")
	if err != nil {
		return nil, fmt.Errorf("gather: temporary folder in %s: %w", parent, err)
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxFileBytes
	}
	return &builder{
		parent: parent, tmp: tmp, maxBytes: maxBytes, progress: progress,
		res: &Result{Method: method, Capture: capture.UTC().Truncate(time.Second), Files: []FileResult{}, Missing: []Missing{}},
	}, nil
}

// plan announces n more steps.
func (b *builder) plan(n int) { b.steps += n }

// step reports the start of a step.
func (b *builder) step(what string) {
	if b.progress != nil {
		b.progress(what, b.done, b.steps)
	}
	b.done++
}

func (b *builder) missing(what, why string) {
	b.res.Missing = append(b.res.Missing, Missing{What: what, Why: why})
}

// lineFunc rewrites one line (without its newline) into dst; it may return dst unchanged to drop
// the line.
type lineFunc func(dst, line []byte) []byte

// write copies r into rel line by line, through conv when not nil, stopping at the size cap. It
// returns the file's record; a file with no lines at all is not kept (ok false), so that an empty
// reply is reported as missing rather than shipped as an empty log.
func (b *builder) write(ctx context.Context, rel, source string, r io.Reader, conv lineFunc) (fr FileResult, ok bool, err error) {
	p := filepath.Join(b.tmp, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fr, false, fmt.Errorf("gather: %s: %w", rel, err)
	}
	f, err := os.Create(p)
	if err != nil {
		return fr, false, fmt.Errorf("gather: %s: %w", rel, err)
	}
	fr = FileResult{Path: rel, Source: source}
	w := bufio.NewWriterSize(f, 256<<10)
	br := bufio.NewReaderSize(r, 256<<10)
	var out []byte
	var readErr error
	for {
		if err := ctx.Err(); err != nil {
			readErr = err
			break
		}
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: take the rest of it whole.
			rest, err2 := br.ReadBytes('\n')
			line = append(append([]byte(nil), line...), rest...)
			err = err2
		}
		if len(line) > 0 {
			body := bytes.TrimSuffix(line, []byte("\n"))
			out = out[:0]
			if conv != nil {
				out = conv(out, body)
			} else {
				out = append(out, body...)
			}
			if len(out) > 0 {
				out = append(out, '\n')
				if fr.Bytes+int64(len(out)) > b.maxBytes {
					fr.Truncated = true
					b.missing(rel, fmt.Sprintf("cut at the size cap of %d bytes after %d lines: later lines were not gathered", b.maxBytes, fr.Lines))
					break
				}
				if b.maxTotal > 0 && b.total+int64(len(out)) > b.maxTotal {
					fr.Truncated = true
					b.missing(rel, fmt.Sprintf("cut at the bundle's byte budget of %d bytes after %d lines: later lines were not gathered", b.maxTotal, fr.Lines))
					break
				}
				if _, err := w.Write(out); err != nil {
					f.Close()
					return fr, false, fmt.Errorf("gather: write %s: %w", rel, err)
				}
				fr.Bytes += int64(len(out))
				b.total += int64(len(out))
				fr.Lines++
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				readErr = err
			}
			break
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fr, false, fmt.Errorf("gather: write %s: %w", rel, err)
	}
	if err := f.Close(); err != nil {
		return fr, false, fmt.Errorf("gather: close %s: %w", rel, err)
	}
	if readErr != nil && ctx.Err() != nil {
		return fr, false, fmt.Errorf("gather: %s: %w", rel, ctx.Err())
	}
	if readErr != nil {
		// Keep what arrived: a stream cut by the network or a command killed at its timeout
		// still holds the older lines, and the loss is recorded.
		b.missing(rel, fmt.Sprintf("reading %s stopped after %d lines: %v", source, fr.Lines, readErr))
	}
	if fr.Lines == 0 {
		os.Remove(p)
		return fr, false, nil
	}
	b.res.Files = append(b.res.Files, fr)
	return fr, true, nil
}

// writeText writes a small file whose content is known (instance id, hostname).
func (b *builder) writeText(ctx context.Context, rel, source, text string) error {
	_, _, err := b.write(ctx, rel, source, strings.NewReader(text+"\n"), nil)
	return err
}

// finish writes the manifest, stamps every file with the capture time (internal/bundle falls
// back to the newest member's time when the folder name does not carry one) and renames the
// temporary folder to its final name, which it returns in Result.Dir.
func (b *builder) finish(idOrNode string) (*Result, error) {
	name := idOrNode
	if name == "" {
		name = "unknown"
	}
	name = unsafeName.ReplaceAllString(name, "-")
	base := fmt.Sprintf("eks_%s_%s-UTC_nodediag-%s", name, b.res.Capture.Format("2006-01-02_1504"), b.res.Method)
	final := filepath.Join(b.parent, base)
	for i := 2; ; i++ {
		if _, err := os.Lstat(final); errors.Is(err, os.ErrNotExist) {
			break
		}
		final = filepath.Join(b.parent, fmt.Sprintf("%s-%d", base, i))
	}
	b.res.Dir = final
	man, err := json.MarshalIndent(b.res, "", "  ")
	if err != nil {
		return nil, b.abort(fmt.Errorf("gather: manifest: %w", err))
	}
	if err := os.WriteFile(filepath.Join(b.tmp, ManifestName), append(man, '\n'), 0o644); err != nil {
		return nil, b.abort(fmt.Errorf("gather: manifest: %w", err))
	}
	err = filepath.WalkDir(b.tmp, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(p, b.res.Capture, b.res.Capture)
	})
	if err != nil {
		return nil, b.abort(fmt.Errorf("gather: stamp files: %w", err))
	}
	if err := os.Rename(b.tmp, final); err != nil {
		return nil, b.abort(fmt.Errorf("gather: move bundle into place at %s: %w", final, err))
	}
	return b.res, nil
}

// abort removes the temporary folder and returns err.
func (b *builder) abort(err error) error {
	os.RemoveAll(b.tmp)
	return err
}

// journalEntries counts the lines of a journalctl reply that are entries, not the "-- No
// entries --", "-- Logs begin at …" or "-- Reboot --" markers.
func journalEntry(line []byte) bool {
	t := bytes.TrimSpace(line)
	return len(t) > 0 && !bytes.HasPrefix(t, []byte("-- "))
}

// drop removes a file written by write, for a reply that turned out to hold no log.
func (b *builder) drop(rel string) {
	os.Remove(filepath.Join(b.tmp, filepath.FromSlash(rel)))
	for i, f := range b.res.Files {
		if f.Path == rel {
			b.total -= f.Bytes
			b.res.Files = append(b.res.Files[:i], b.res.Files[i+1:]...)
			break
		}
	}
}

// countEntries is a lineFunc that keeps every line and counts journal entries into n.
func countEntries(n *int) lineFunc {
	return func(dst, line []byte) []byte {
		if journalEntry(line) {
			*n++
		}
		return append(dst, line...)
	}
}
