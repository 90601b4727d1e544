package correlate

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nodediag/nodediag/internal/bundle"
	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/store"
)

// Source names checked by Validate.
const (
	SourceKubelet    = "kubelet"
	SourceContainerd = "containerd"
	SourceKernel     = "kernel"
	SourceMessages   = "messages"
	SourcePodLogs    = "pod logs"
	SourceNetworking = "networking"
	SourceStorage    = "storage"
	SourceIPAMD      = "ipamd"
)

// Validation says whether a bundle holds the evidence a crash diagnosis needs.
type Validation struct {
	BundleID   string    `json:"bundleId" yaml:"bundleId"`
	InstanceID string    `json:"instanceId" yaml:"instanceId"`
	Layout     string    `json:"layout" yaml:"layout"`
	Capture    time.Time `json:"capture,omitzero" yaml:"capture,omitempty"`
	Files      int       `json:"files" yaml:"files"`
	Bytes      int64     `json:"bytes" yaml:"bytes"`
	Sources    []Source  `json:"sources" yaml:"sources"`
	Missing    []string  `json:"missing,omitempty" yaml:"missing,omitempty"` // required sources that are absent
	Complete   bool      `json:"complete" yaml:"complete"`
	Reason     string    `json:"reason,omitempty" yaml:"reason,omitempty"` // why not complete
	Warnings   []string  `json:"warnings,omitempty" yaml:"warnings,omitempty"`
}

// Source is one kind of evidence and where the bundle holds it.
type Source struct {
	Name     string    `json:"name" yaml:"name"`
	Present  bool      `json:"present" yaml:"present"`
	Required bool      `json:"required" yaml:"required"`
	Files    int       `json:"files" yaml:"files"`
	Bytes    int64     `json:"bytes" yaml:"bytes"`
	First    time.Time `json:"first,omitzero" yaml:"first,omitempty"`
	Last     time.Time `json:"last,omitzero" yaml:"last,omitempty"`
	Note     string    `json:"note,omitempty" yaml:"note,omitempty"`
}

// sourceOf maps an index file to the sources it provides. A journal dump (logdog) is mixed:
// it carries kubelet, containerd and kernel lines at once, and syslog carries kernel lines.
func sourceOf(f index.File, pod bool) []string {
	if pod {
		return []string{SourcePodLogs}
	}
	switch f.LogType {
	case "kubelet":
		return []string{SourceKubelet}
	case "containerd":
		return []string{SourceContainerd}
	case "dmesg":
		return []string{SourceKernel}
	case "messages":
		return []string{SourceMessages}
	case "journal":
		return []string{SourceKubelet, SourceContainerd, SourceKernel}
	case "pods", "aws-node", "coredns", "kube-proxy":
		return []string{SourcePodLogs}
	case "networking", "cni":
		return []string{SourceNetworking}
	case "storage":
		return []string{SourceStorage}
	case "ipamd":
		return []string{SourceIPAMD}
	}
	return nil
}

// Validate checks a stored bundle against what its producer is expected to collect. Kubelet,
// containerd and a kernel source are required; the rest is reported and warned about.
// The kernel requirement is met by kernel/dmesg.*, by syslog (kernel lines) or by a journal,
// because an AL2023 collector bundle has no var_log/messages by design.
func Validate(e *store.Entry, idx *index.Index) *Validation {
	v := &Validation{}
	var man *bundle.Manifest
	if e != nil {
		man = e.Manifest
	}
	podFile := v.identify(man, idx)
	byName := v.tallySources(idx, podFile)
	v.explainSources(byName)
	reasons := v.incomplete(man, idx)
	v.Complete = len(reasons) == 0
	v.Reason = strings.Join(reasons, "; ")
	return v
}

// identify fills the bundle's identity and size from the manifest and the index; it returns the
// files that are pod logs.
func (v *Validation) identify(man *bundle.Manifest, idx *index.Index) map[string]bool {
	if man != nil {
		v.BundleID, v.InstanceID, v.Layout, v.Capture = man.ID, man.InstanceID, man.Layout, man.CaptureTime
	}
	if idx != nil {
		fillStr(&v.BundleID, idx.BundleID)
		fillStr(&v.InstanceID, idx.InstanceID)
		if v.Capture.IsZero() {
			v.Capture = idx.Time.Capture
		}
	}
	podFile := map[string]bool{}
	if man != nil {
		v.Files = len(man.Files)
		for _, f := range man.Files {
			v.Bytes += f.Size
			if f.Pod != nil {
				podFile[f.Path] = true
			}
		}
	}
	if idx != nil && v.Files == 0 {
		v.Files = len(idx.Files)
		for _, f := range idx.Files {
			v.Bytes += f.Bytes
		}
	}
	return podFile
}

// tallySources counts, for each source a diagnosis reads, the indexed files that hold it and the
// time they cover.
func (v *Validation) tallySources(idx *index.Index, podFile map[string]bool) map[string]*Source {
	names := []string{SourceKubelet, SourceContainerd, SourceKernel, SourceMessages, SourcePodLogs, SourceNetworking, SourceStorage, SourceIPAMD}
	byName := map[string]*Source{}
	v.Sources = make([]Source, len(names))
	for i, n := range names {
		v.Sources[i] = Source{Name: n, Required: n == SourceKubelet || n == SourceContainerd || n == SourceKernel}
		byName[n] = &v.Sources[i]
	}
	if idx == nil {
		return byName
	}
	for _, f := range idx.Files {
		for _, n := range sourceOf(f, podFile[f.Path]) {
			s := byName[n]
			s.Present = true
			s.Files++
			s.Bytes += f.Bytes
			if !f.First.IsZero() && (s.First.IsZero() || f.First.Before(s.First)) {
				s.First = f.First
			}
			if f.Last.After(s.Last) {
				s.Last = f.Last
			}
			if f.LogType == "journal" {
				s.Note = "from the mixed journal (" + f.Path + ")"
			}
		}
	}
	return byName
}

// explainSources says what an absent source means for this layout: a required one is missing,
// an optional one a warning, unless the collector never takes it.
func (v *Validation) explainSources(byName map[string]*Source) {
	kernel, messages := byName[SourceKernel], byName[SourceMessages]
	if !kernel.Present && messages.Present {
		// syslog carries the kernel's lines (OOM kills, segfaults) when no dmesg file was taken.
		kernel.Present, kernel.Note = true, "kernel lines from syslog only (no kernel/dmesg.* file)"
	}
	if !messages.Present && kernel.Present {
		switch {
		case v.Layout == bundle.LayoutLogdog:
			messages.Note = "Bottlerocket has no syslog; its journal holds these lines"
		case byName[SourceKubelet].Files > 0 && v.Layout == bundle.LayoutCollector:
			messages.Note = "no var_log/messages: expected on AL2023 (journald only), kernel evidence comes from kernel/dmesg.*"
		default:
			messages.Note = "no syslog file; kernel evidence comes from kernel/dmesg.*"
		}
	}
	for i := range v.Sources {
		s := &v.Sources[i]
		switch {
		case s.Present, !s.Required && s.Name == SourceMessages:
		case s.Required:
			v.Missing = append(v.Missing, s.Name)
			if s.Note == "" {
				s.Note = "required for crash diagnosis"
			}
		case v.Layout == bundle.LayoutLogdog:
			// logdog collects the journal and a fixed list of files, never pod logs or the
			// collector's networking and storage dumps: their absence says nothing.
			s.Note = "not collected by Bottlerocket logdog"
		default:
			w := fmt.Sprintf("no %s files", s.Name)
			if v.Layout == bundle.LayoutNMA {
				w += " (the node monitoring agent omits collections that timed out)"
			}
			v.Warnings = append(v.Warnings, w)
		}
	}
}

// incomplete lists why the bundle cannot support a full diagnosis (missing sources, no index,
// truncated files, a cut stream) and files the other warnings.
func (v *Validation) incomplete(man *bundle.Manifest, idx *index.Index) []string {
	var reasons []string
	if len(v.Missing) > 0 {
		reasons = append(reasons, "missing required sources: "+strings.Join(v.Missing, ", "))
	}
	if idx == nil {
		reasons = append(reasons, "no index: the bundle's files were not read")
	}
	if man != nil {
		for _, f := range man.Files {
			if f.Truncated {
				reasons = append(reasons, fmt.Sprintf("%s is truncated: %s", f.Path, orDash(f.Problem)))
			}
		}
		v.Warnings = append(v.Warnings, man.Warnings...)
	}
	if idx == nil {
		return reasons
	}
	for _, f := range idx.Files {
		if f.Warning != "" {
			reasons = append(reasons, f.Path+": "+f.Warning)
		}
	}
	for _, w := range idx.Warnings {
		switch {
		case strings.HasPrefix(w, "bundle cut short"):
			reasons = append(reasons, w)
		case man != nil && slices.Contains(man.Warnings, w), isFileWarning(idx, w):
			// already counted above
		default:
			v.Warnings = append(v.Warnings, w)
		}
	}
	return reasons
}

// isFileWarning tells an index warning that only repeats one file's Warning.
func isFileWarning(idx *index.Index, w string) bool {
	for _, f := range idx.Files {
		if f.Warning != "" && w == f.Path+": "+f.Warning {
			return true
		}
	}
	return false
}
