package report

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/nodediag/nodediag/internal/diagnose"
	"github.com/nodediag/nodediag/internal/facts"
	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/scenario"
	"github.com/nodediag/nodediag/internal/scenario/scenariotest"
	"github.com/nodediag/nodediag/internal/store"
)

// hostile is planted in a bundle before every back-off line, so it is context of a quoted line.
// The password is one the secret-assignment rule redacts.
const (
	hostileScript = `<script>alert("pwned")</script><img src=x onerror=alert(1)>`
	hostileSecret = "Hunter2Sup3rS3cretValue"
	hostileLine   = hostileScript + " db password=" + hostileSecret
)

func lookup(t *testing.T, name string) scenario.Scenario {
	t.Helper()
	s, ok := scenario.Lookup(name)
	if !ok {
		t.Fatalf("no scenario %q", name)
	}
	return s
}

// importHostile writes the scenario's bundle folder, plants hostileLine before every line that
// says back-off, and imports the folder.
func importHostile(t *testing.T, s scenario.Scenario) (*store.Entry, *index.Index, scenario.Truth) {
	t.Helper()
	dir := t.TempDir()
	root, err := scenario.Write(filepath.Join(dir, "src"), s, s.Layout, scenario.Options{})
	if err != nil {
		t.Fatal(err)
	}
	planted := 0
	err = filepath.WalkDir(root, func(p string, de os.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(data, []byte("back-off")) {
			return err
		}
		var out []string
		for _, l := range strings.SplitAfter(string(data), "\n") {
			if strings.Contains(l, "back-off") {
				out = append(out, hostileLine+"\n")
				planted++
			}
			out = append(out, l)
		}
		return os.WriteFile(p, []byte(strings.Join(out, "")), 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	if planted == 0 {
		t.Fatal("no back-off line to plant the hostile line before")
	}
	truth, err := scenario.ReadTruth(filepath.Join(dir, "src", "truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "store"), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.Import(context.Background(), root, store.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	idx := res.Index
	if idx == nil {
		if idx, err = st.Index(context.Background(), res.Entry, false); err != nil {
			t.Fatal(err)
		}
	}
	return res.Entry, idx, truth
}

// crashFactCount counts, straight from the index, the timed crash facts of the container: what
// the timeline must show one mark each for.
func crashFactCount(idx *index.Index, d *diagnose.Diagnosis) int {
	n := 0
	for _, f := range idx.Facts {
		switch f.Kind {
		case facts.ContainerExit, facts.BackOff, facts.OOMKill, facts.TaskOOM, facts.Segfault, facts.ExecFailure,
			facts.ConfigMissing, facts.ProbeFailure, facts.ImagePull, facts.Killing:
		default:
			continue
		}
		if f.Namespace == d.Namespace && f.Pod == d.Pod && f.Container == d.Container && !f.Ref.Time.IsZero() {
			n++
		}
	}
	return n
}

// outside lists what in a page would make a browser fetch, navigate or run something: every
// element that loads or runs, every attribute that names a URL other than a #fragment, and
// every event handler. It tokenizes the page as a browser does, so escaped text is text.
func outside(page string) []string {
	var bad []string
	z := html.NewTokenizer(strings.NewReader(page))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return bad
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		switch tok.Data {
		case "script", "link", "iframe", "img", "object", "embed", "frame", "image", "use", "base", "form", "video", "audio", "source":
			bad = append(bad, "<"+tok.Data+">")
		}
		for _, a := range tok.Attr {
			switch k := strings.ToLower(a.Key); {
			case k == "href" || k == "xlink:href":
				if !strings.HasPrefix(a.Val, "#") {
					bad = append(bad, k+"="+a.Val)
				}
			case k == "src" || k == "srcset" || k == "action" || k == "formaction" || k == "poster" || k == "data" || strings.HasPrefix(k, "on"):
				bad = append(bad, k+"="+a.Val)
			case k == "style" && strings.Contains(a.Val, "url("):
				bad = append(bad, k+"="+a.Val)
			}
		}
	}
}

func TestBuild(t *testing.T) {
	for _, tc := range []struct {
		name    string
		scen    string
		hostile bool
		memory  bool // an OOM class: the memory chart must be there
	}{
		{name: "oom", scen: "container-oom-v2", memory: true},
		{name: "segfault", scen: "segfault", memory: false},
		{name: "missing-config", scen: "missing-configmap", memory: false},
		{name: "hostile-oom", scen: "container-oom-v1", hostile: true, memory: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := lookup(t, tc.scen)
			var (
				e     *store.Entry
				idx   *index.Index
				truth scenario.Truth
			)
			if tc.hostile {
				e, idx, truth = importHostile(t, s)
			} else {
				e, idx, truth = scenariotest.Import(t, "", s, s.Layout)
			}
			in := diagnose.Input{Namespace: truth.Namespace, Pod: truth.Pod}
			r, err := Build(context.Background(), Request{Entry: e, Index: idx, Input: in, Gaps: []string{"a gap the face adds"}})
			if err != nil {
				t.Fatal(err)
			}
			in.Entry = e
			d, err := diagnose.Diagnose(context.Background(), idx, in)
			if err != nil {
				t.Fatal(err)
			}
			if r.Diagnosis.RootCause != d.RootCause || d.RootCause == "" {
				t.Errorf("root cause %q, want the diagnosis's %q", r.Diagnosis.RootCause, d.RootCause)
			}
			if !slices.Contains(r.Diagnosis.Gaps, "a gap the face adds") {
				t.Errorf("gaps %q lack the face's", r.Diagnosis.Gaps)
			}
			if (r.Memory != nil) != tc.memory {
				t.Errorf("memory chart present = %v, want %v (class %s)", r.Memory != nil, tc.memory, d.Class)
			}
			if r.Memory != nil {
				for _, k := range r.Memory.Kills {
					if k.LimitKB <= 0 || k.UsageKB <= 0 {
						t.Errorf("kill at %s: usage %d kB, limit %d kB; a container OOM states both", k.Ref, k.UsageKB, k.LimitKB)
					}
				}
			}
			marks := 0
			for _, m := range r.Timeline.Marks {
				if !m.Fact {
					continue
				}
				marks++
				if m.Anchor == "" {
					t.Errorf("mark %s %s links to no quoted line", m.Kind, m.Ref)
				}
				if m.X < r.Timeline.Left || m.X > r.Timeline.Right {
					t.Errorf("mark %s at x=%.1f is off the axis [%.0f, %.0f]", m.Ref, m.X, r.Timeline.Left, r.Timeline.Right)
				}
			}
			if want := crashFactCount(idx, d); marks != want || want == 0 {
				t.Errorf("%d timeline marks, want one per crash fact of the container: %d", marks, want)
			}

			data, err := Render(r)
			if err != nil {
				t.Fatal(err)
			}
			buf := bytes.NewBuffer(data)
			page := buf.String()
			if bad := outside(page); len(bad) > 0 {
				t.Errorf("the page loads, runs or links outside itself: %q", bad)
			}
			style := page[strings.Index(page, "<style>"):strings.Index(page, "</style>")]
			for _, bad := range []string{"url(", "@import"} {
				if strings.Contains(style, bad) {
					t.Errorf("the style sheet holds %q", bad)
				}
			}
			if tc.hostile {
				if strings.Contains(page, hostileSecret) {
					t.Error("the planted password is in the page unredacted")
				}
				if !strings.Contains(page, "password=[REDACTED:") {
					t.Error("the planted password's line is not in the page, redacted")
				}
				if !strings.Contains(page, "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;") {
					t.Error("the planted script is not shown as escaped text")
				}
			}
		})
	}
}

// TestBuildUnknownPod: a pod the bundle does not know is an input error naming the pods it has.
func TestBuildUnknownPod(t *testing.T) {
	s := lookup(t, "segfault")
	e, idx, truth := scenariotest.Import(t, "", s, s.Layout)
	_, err := Build(context.Background(), Request{Entry: e, Index: idx, Input: diagnose.Input{Namespace: "nowhere", Pod: "ghost-0"}})
	if err == nil || !strings.Contains(err.Error(), truth.Pod) {
		t.Fatalf("error %v; want one naming %s", err, truth.Pod)
	}
}

func TestFileName(t *testing.T) {
	for _, tc := range []struct{ ns, pod, instance, want string }{
		{"payments", "ledger-0", "i-1", "nodediag-report-payments-ledger-0.html"},
		{"../..", "a/b", "i-1", "nodediag-report-.._..-a_b.html"},
		{"", "", "i-0a1b", "nodediag-report-i-0a1b.html"},
	} {
		r := &Report{Diagnosis: diagnose.Diagnosis{Namespace: tc.ns, Pod: tc.pod}, Bundle: Bundle{Instance: tc.instance}}
		if got := FileName(r); got != tc.want {
			t.Errorf("FileName(%q, %q) = %q, want %q", tc.ns, tc.pod, got, tc.want)
		}
		if strings.ContainsAny(FileName(r), `/\`) {
			t.Errorf("FileName(%q, %q) leaves the folder", tc.ns, tc.pod)
		}
	}
}

// TestBuildHealthy: a bundle without a crash loop still gives a page, saying no root cause was
// found, with no timeline marks and no memory chart.
func TestBuildHealthy(t *testing.T) {
	s := lookup(t, "healthy")
	e, idx, _ := scenariotest.Import(t, "", s, s.Layout)
	r, err := Build(context.Background(), Request{Entry: e, Index: idx})
	if err != nil {
		t.Fatal(err)
	}
	data, err := Render(r)
	if err != nil {
		t.Fatal(err)
	}
	buf := bytes.NewBuffer(data)
	if r.Diagnosis.RootCause != "" || len(r.Timeline.Marks) != 0 || r.Memory != nil {
		t.Errorf("healthy bundle: root cause %q, %d marks, memory chart %v", r.Diagnosis.RootCause, len(r.Timeline.Marks), r.Memory != nil)
	}
	if !strings.Contains(buf.String(), "no root cause found") {
		t.Error("the page does not say that no root cause was found")
	}
}
