package bundle

import (
	"context"
	"errors"
	"io"
	"time"
)

// Errors a caller branches on. Every error Extract returns for these cases wraps one of them
// with the file and the limit involved.
var (
	// ErrLimit: a configured limit (MaxFiles, MaxTotalBytes, MaxRatio, MaxArchiveRatio) stopped
	// the import, or the archive is built like a bomb (zip entries sharing compressed bytes).
	ErrLimit = errors.New("bundle limit exceeded")
	// ErrEmpty: the source held no regular file that could be stored.
	ErrEmpty = errors.New("bundle has no files")
	// ErrUnsupported: the source is neither a folder nor an archive kind we read.
	ErrUnsupported = errors.New("unsupported bundle kind")
	// ErrCorrupt: the archive is damaged before its first member could be read.
	ErrCorrupt = errors.New("corrupt bundle archive")
)

// SupportedKinds lists what Extract accepts, for error messages and help text.
const SupportedKinds = ".tar.gz, .tgz, .tar, .zip, or a folder"

// Defaults for Options fields left zero. They are generous because a real 10-day bundle of a
// busy node reaches several GiB uncompressed; they exist to stop bombs, not big bundles.
const (
	DefaultMaxTotalBytes int64   = 32 << 30
	DefaultMaxFileBytes  int64   = 8 << 30
	DefaultMaxRatio      float64 = 1000
	// DefaultMaxFiles is several times the members of a busy node's bundle (a few thousand: the
	// pod log folders and rotations of 100-250 pods). Each member costs a file created on disk
	// and ~400 bytes of manifest and index that every later command loads: at 200,000 members
	// an import took 30 s and left 77 MB of metadata (errors: 1.6 s); at 20,000, 7 s, 190 MiB
	// of memory and 7.7 MB (errors: 0.1 s).
	DefaultMaxFiles = 20000
	// DefaultMaxArchiveRatio bounds everything decompressed from an archive by its size on
	// disk. Real bundles expand 8x (testdata/example) to 14x (the 4 GiB benchmark bundle);
	// a zip of many 1000:1 members, entries sharing one compressed body, or a bomb in a
	// compressed member expand far more, and no per-stream ratio sees the sum.
	DefaultMaxArchiveRatio float64 = 100
	// ratioFloor is how much a compressed stream may expand before its ratio is judged, so
	// that small, highly repetitive logs (which legitimately compress 1000:1) are never refused.
	ratioFloor int64 = 64 << 20
	// archiveRatioFloor is the same for the archive as a whole: a small bundle of repetitive
	// logs may expand this far whatever its ratio.
	archiveRatioFloor int64 = 256 << 20
)

// Layout names the tool that produced a bundle; it decides which files to expect.
const (
	LayoutCollector = "eks-log-collector"     // eks-log-collector.sh / SSM runbooks: members start with "./"
	LayoutNMA       = "node-monitoring-agent" // EKS node monitoring agent NodeDiagnostic: same dirs, no "./"
	LayoutLogdog    = "bottlerocket-logdog"   // Bottlerocket logdog: flat files under bottlerocket-logs/
	LayoutFolder    = "folder"                // a folder whose producer could not be told
	LayoutUnknown   = "unknown"               // an archive whose producer could not be told
)

// Options tunes Extract. The zero value is valid and uses the defaults above.
type Options struct {
	InstanceID string // overrides what the bundle says

	// MaxTotalBytes caps what the import produces in all, counted as it is produced: bytes
	// written to disk (nested archives' members included) plus the decompressed content of
	// compressed members, which only OnFile and later reads see (default 32 GiB).
	MaxTotalBytes int64
	MaxFileBytes  int64 // one member's cap, on disk and decompressed for OnFile (default 8 GiB)
	MaxFiles      int   // member count cap, directories and skipped members included (default 20000)
	// MaxRatio refuses one compressed stream (the archive's gzip, a zip entry, a nested
	// archive, a compressed member) whose output exceeds this many times the compressed bytes
	// actually read for it, once past 64 MiB out (default 1000). A member's own ratio cuts
	// that member; the others end the import.
	MaxRatio float64
	// MaxArchiveRatio ends the import once everything decompressed from the archive (every
	// stream above, whatever the archive is named) exceeds this many times the archive's size
	// on disk, once past 256 MiB out (default 100). It is what bounds a bomb spread over many
	// members or over zip entries that share compressed bytes.
	MaxArchiveRatio float64

	// OnFile, when set, is called for each text (non-binary) regular file as it is written, with
	// a reader of its *decompressed* content, so the caller can index while extracting (one pass
	// over the bytes). f.Log tells a log with per-line events from command output or config.
	// Whatever OnFile leaves unread is still written to disk. Called sequentially, in archive
	// order. The reader ends with io.EOF where the data ends, even when the data ends early
	// (truncated or corrupt stream, file cap): f.Truncated and f.Problem say so, and f.Size is
	// set, once OnFile returns. f stays valid after OnFile returns; in the rare case that a top-level folder
	// guessed from a streamed archive's first member turns out not to be shared by all members,
	// Extract rewrites f.Path in place (and says so in Manifest.Warnings). An error returned by
	// OnFile aborts the import.
	OnFile func(ctx context.Context, f *File, r io.Reader) error
	// Progress, when set, is told how many bytes of a tar or tar.gz archive have been read, of
	// total, as they are read (from the decompressor's goroutine): the import of a gigabyte
	// archive takes seconds, and a terminal can show them.
	Progress func(read, total int64)

	// ratioFloor and archiveFloor replace ratioFloor and archiveRatioFloor when set: tests
	// build bombs of a few MiB instead of hundreds.
	ratioFloor, archiveFloor int64
}

// Manifest describes an imported bundle. The caller stores it as bundle.json.
type Manifest struct {
	ID         string `json:"id"`
	InstanceID string `json:"instanceId"`
	NodeName   string `json:"nodeName,omitempty"`
	Source     string `json:"source"` // "file"
	Origin     string `json:"origin"` // absolute path imported from
	// OriginSize and OriginModTime identify an archive imported from a file, so that naming the
	// same unchanged archive again (--bundle PATH) reuses the import instead of unpacking it.
	OriginSize        int64     `json:"originSize,omitempty"`
	OriginModTime     time.Time `json:"originModTime,omitzero"`
	Layout            string    `json:"layout"`
	TopFolder         string    `json:"topFolder,omitempty"` // common top-level folder stripped from member paths
	CaptureTime       time.Time `json:"captureTime,omitzero"`
	CaptureTimeSource string    `json:"captureTimeSource"` // "archive-name", "newest-member-mtime", "none"
	Files             []File    `json:"files"`
	Skipped           []Skipped `json:"skipped,omitempty"`
	Warnings          []string  `json:"warnings,omitempty"`
}

// File is one stored file of a bundle.
type File struct {
	Path       string      `json:"path"`    // slash path inside the bundle, e.g. "kubelet/kubelet.log"
	LogType    string      `json:"logType"` // see Classify
	Size       int64       `json:"size"`    // bytes on disk
	Compressed bool        `json:"compressed,omitempty"`
	Binary     bool        `json:"binary,omitempty"`
	Log        bool        `json:"log"`                 // a log with per-line events
	Truncated  bool        `json:"truncated,omitempty"` // content ends early (cap, truncated or corrupt data)
	Problem    string      `json:"problem,omitempty"`   // why it is truncated or unreadable
	ModTime    time.Time   `json:"modTime,omitzero"`    // as recorded in the archive
	Pod        *PodLogInfo `json:"pod,omitempty"`       // set for CRI pod log files
	// PlainCut is set for a compressed file whose decompressed content a limit cut: the
	// decompressed bytes kept. Open ends there, so search and read see what the index saw
	// and a bomb is not decompressed again by every later command.
	PlainCut *int64 `json:"plainCut,omitempty"`
}

// Skipped is a member that was not stored.
type Skipped struct {
	Path   string `json:"path"` // the member name as the archive spells it
	Reason string `json:"reason"`
}

func (o Options) withDefaults() Options {
	if o.MaxTotalBytes <= 0 {
		o.MaxTotalBytes = DefaultMaxTotalBytes
	}
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = DefaultMaxFileBytes
	}
	if o.MaxFiles <= 0 {
		o.MaxFiles = DefaultMaxFiles
	}
	if o.MaxRatio <= 0 {
		o.MaxRatio = DefaultMaxRatio
	}
	if o.MaxArchiveRatio <= 0 {
		o.MaxArchiveRatio = DefaultMaxArchiveRatio
	}
	if o.ratioFloor <= 0 {
		o.ratioFloor = ratioFloor
	}
	if o.archiveFloor <= 0 {
		o.archiveFloor = archiveRatioFloor
	}
	return o
}
