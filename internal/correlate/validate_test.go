package correlate

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/nodediag/nodediag/internal/bundle"
	"github.com/nodediag/nodediag/internal/facts"
	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/scenario"
	"github.com/nodediag/nodediag/internal/store"
)

// TestValidateHealthyLayouts: every producer's healthy bundle holds kubelet, containerd and a
// kernel source, and is complete.
func TestValidateHealthyLayouts(t *testing.T) {
	for _, layout := range scenario.Layouts() {
		t.Run(string(layout), func(t *testing.T) {
			im := importScenario(t, "healthy", layout)
			v := Validate(im.entry, im.idx)
			if !v.Complete {
				t.Errorf("healthy %s bundle incomplete: %s (missing %v)", layout, v.Reason, v.Missing)
			}
			if v.Files != len(im.entry.Manifest.Files) || v.BundleID != im.entry.Manifest.ID || v.Layout != im.entry.Manifest.Layout {
				t.Errorf("header %d files, id %q, layout %q; manifest has %d, %q, %q", v.Files, v.BundleID, v.Layout,
					len(im.entry.Manifest.Files), im.entry.Manifest.ID, im.entry.Manifest.Layout)
			}
			for _, s := range v.Sources {
				if s.Required && (!s.Present || s.Files == 0 || s.Bytes == 0) {
					t.Errorf("required source %s: present=%v files=%d bytes=%d", s.Name, s.Present, s.Files, s.Bytes)
				}
			}
		})
	}
}

// TestValidateAL2023WithoutMessages: the AL2023 collector takes no var_log/messages, and kernel
// evidence from kernel/dmesg.* is enough.
func TestValidateAL2023WithoutMessages(t *testing.T) {
	im := importScenario(t, "healthy", scenario.AL2023)
	for _, f := range im.idx.Files {
		if f.LogType == "messages" {
			t.Fatalf("the AL2023 scenario has %s; this test needs a bundle without syslog", f.Path)
		}
	}
	v := Validate(im.entry, im.idx)
	if !v.Complete {
		t.Fatalf("AL2023 without messages is incomplete: %s", v.Reason)
	}
	for _, s := range v.Sources {
		if s.Name == SourceMessages && (s.Present || !strings.Contains(s.Note, "AL2023")) {
			t.Errorf("messages source %+v: want absent with a note about AL2023", s)
		}
	}
}

// withoutFiles copies an index and manifest without the files whose path starts with prefix.
func withoutFiles(e *store.Entry, idx *index.Index, prefix string) (*store.Entry, *index.Index) {
	ni := *idx
	ni.Files = slices.DeleteFunc(slices.Clone(idx.Files), func(f index.File) bool { return strings.HasPrefix(f.Path, prefix) })
	man := *e.Manifest
	man.Files = slices.DeleteFunc(slices.Clone(man.Files), func(f bundle.File) bool { return strings.HasPrefix(f.Path, prefix) })
	return &store.Entry{Dir: e.Dir, Manifest: &man}, &ni
}

// TestValidateIncomplete: a missing required source or a truncated file makes a bundle
// incomplete, and the reason names it.
func TestValidateIncomplete(t *testing.T) {
	im := importScenario(t, "healthy", scenario.AL2023)
	noKubelet, noKubeletIdx := withoutFiles(im.entry, im.idx, "kubelet/")
	noKernel, noKernelIdx := withoutFiles(im.entry, im.idx, "kernel/")
	truncEntry := &store.Entry{Dir: im.entry.Dir, Manifest: func() *bundle.Manifest {
		m := *im.entry.Manifest
		m.Files = slices.Clone(m.Files)
		m.Files[0].Truncated, m.Files[0].Problem = true, "unexpected EOF"
		return &m
	}()}
	tests := []struct {
		name    string
		e       *store.Entry
		idx     *index.Index
		missing []string
		reason  string
	}{
		{"no kubelet dir", noKubelet, noKubeletIdx, []string{SourceKubelet}, "missing required sources: kubelet"},
		{"no kernel dir", noKernel, noKernelIdx, []string{SourceKernel}, "missing required sources: kernel"},
		{"truncated file", truncEntry, im.idx, nil, im.entry.Manifest.Files[0].Path + " is truncated: unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Validate(tt.e, tt.idx)
			if v.Complete {
				t.Fatal("complete, want incomplete")
			}
			if !slices.Equal(v.Missing, tt.missing) {
				t.Errorf("missing %v, want %v", v.Missing, tt.missing)
			}
			if !strings.Contains(v.Reason, tt.reason) {
				t.Errorf("reason %q lacks %q", v.Reason, tt.reason)
			}
		})
	}
}

// TestConfigMissingChain: a missing ConfigMap is its own chain (the container never starts), and
// it is joined to a back-off only by pod UID + container name.
func TestConfigMissingChain(t *testing.T) {
	im := importScenario(t, "missing-configmap", "")
	var cms []facts.Fact
	for _, f := range im.idx.Facts {
		if f.Kind == facts.ConfigMissing {
			cms = append(cms, f)
		}
	}
	if len(cms) == 0 {
		t.Fatal("scenario has no ConfigMissing fact")
	}
	res, err := Correlate(context.Background(), im.idx, Request{Pivot: "ConfigMissing"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Occurrences != len(cms) {
		t.Errorf("occurrences %d, want %d", res.Occurrences, len(cms))
	}
	n := 0
	for _, c := range res.Chains {
		if c.Cause != "config-missing" {
			continue
		}
		n++
		l := linkOf(c, StepConfigMissing)
		if l == nil || l.Status != Proven || !slices.ContainsFunc(cms, func(f facts.Fact) bool { return f.Ref == *l.Ref }) {
			t.Errorf("config-missing chain does not cite a ConfigMissing line: %+v", c.Links)
		}
		// The container never starts, so no crash-loop back-off is owed: the link is joined by
		// pod UID + container name when one exists and never left Missing.
		if b := linkOf(c, StepBackOff); b == nil || b.Status == Missing || (b.Status == Proven && b.JoinedBy != "pod UID + container name") {
			t.Errorf("back-off link %+v", b)
		}
		if !c.Complete {
			t.Errorf("config-missing chain incomplete: %v", c.Unproven)
		}
	}
	if n != len(cms) {
		t.Errorf("%d config-missing chains, want %d", n, len(cms))
	}
}
