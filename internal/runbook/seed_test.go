package runbook

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// seedPath is the K3 SOP the project is built against; it lives outside the repository, so the
// tests that read it skip when it is absent.
var seedPath = filepath.Join("..", "..", "..", "shared", "seeds", "000_fe8744aa464611e1.txt")

func readSeed(t *testing.T) *Runbook {
	t.Helper()
	data, err := os.ReadFile(seedPath)
	if os.IsNotExist(err) {
		t.Skipf("seed SOP %s is not here", seedPath)
	}
	if err != nil {
		t.Fatal(err)
	}
	rb, err := Parse(seedPath, data)
	if err != nil {
		t.Fatalf("seed does not parse: %v", err)
	}
	return rb
}

// TestSeedParses reads the seed K3 SOP and checks that it is complete and that every tool call it
// makes, in its steps and its examples, names a known tool and parameters that tool takes.
func TestSeedParses(t *testing.T) {
	rb := readSeed(t)
	if rb.ID != "K3" {
		t.Errorf("seed id = %q, want K3 (from its title %q)", rb.ID, rb.Title)
	}
	for _, p := range Check(rb) {
		t.Errorf("seed: %v", p)
	}
	calls := AllCalls(rb)
	if len(calls) == 0 {
		t.Fatal("no tool call found in the seed")
	}
	for _, call := range calls {
		tool, ok := KnownTools[call.Tool]
		if !ok {
			t.Errorf("seed line %d calls %q, not in KnownTools", call.Line, call.Tool)
			continue
		}
		for _, p := range call.Params {
			if !tool.Accepts(p.Name) {
				t.Errorf("seed line %d: %s(%s): parameter not in KnownTools", call.Line, call.Tool, p.Name)
			}
		}
	}
}

// stepShape is what K3.md must keep from the seed: where each step is, how binding it is and
// which tools it calls with which parameters. The prose is ours.
type stepShape struct {
	Phase   int
	Section string
	Level   Level
	Calls   []callShape
}

type callShape struct {
	Tool   string
	Params []Param
}

func shapes(rb *Runbook) []stepShape {
	var out []stepShape
	for _, p := range rb.Phases {
		for _, s := range p.Steps {
			sh := stepShape{Phase: p.Number, Section: s.Section, Level: s.Level}
			for _, c := range s.ToolCalls {
				sh.Calls = append(sh.Calls, callShape{Tool: c.Tool, Params: c.Params})
			}
			out = append(out, sh)
		}
	}
	return out
}

// TestBuiltinK3KeepsSeed checks that our K3 keeps the seed's phases, steps, levels, tool calls
// with their parameters, example calls, cross-references and Output Format exactly; it may add
// marked SHOULD/MAY steps and later examples of its own.
func TestBuiltinK3KeepsSeed(t *testing.T) {
	seed := readSeed(t)
	c, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	k3, ok := c.Get("K3")
	if !ok {
		t.Fatal("no built-in K3")
	}
	// Every seed step, in order, exactly; steps of our own in between only as SHOULD or MAY, and
	// marked "(extra", so an agent can tell the contract from our additions.
	want := shapes(seed)
	next := 0
	for _, p := range k3.Phases {
		for _, st := range p.Steps {
			sh := stepShape{Phase: p.Number, Section: st.Section, Level: st.Level}
			for _, c := range st.ToolCalls {
				sh.Calls = append(sh.Calls, callShape{Tool: c.Tool, Params: c.Params})
			}
			if next < len(want) && cmp.Equal(want[next], sh) {
				next++
				continue
			}
			if (st.Level != Should && st.Level != May) || !strings.HasPrefix(st.Text, "(extra") {
				t.Errorf("K3 line %d: a %s step the seed does not have (next seed step: %+v); our own steps must be SHOULD or MAY and start with \"(extra\"",
					st.Line, st.Level, want[min(next, len(want)-1)])
			}
		}
	}
	if next < len(want) {
		t.Errorf("K3 lacks the seed's steps from %+v on", want[next])
	}
	var seedPhases, k3Phases []string
	for _, p := range seed.Phases {
		seedPhases = append(seedPhases, p.Title)
	}
	for _, p := range k3.Phases {
		k3Phases = append(k3Phases, p.Title)
	}
	if diff := cmp.Diff(seedPhases, k3Phases); diff != "" {
		t.Errorf("phase titles (-seed +K3):\n%s", diff)
	}
	strip := func(cs []ToolCall) []callShape {
		var out []callShape
		for _, c := range cs {
			out = append(out, callShape{c.Tool, c.Params})
		}
		return out
	}
	// The seed's example calls come first and unchanged; ours may follow.
	k3Examples := strip(k3.ExampleCalls)
	if len(k3Examples) > len(seed.ExampleCalls) {
		k3Examples = k3Examples[:len(seed.ExampleCalls)]
	}
	if diff := cmp.Diff(strip(seed.ExampleCalls), k3Examples); diff != "" {
		t.Errorf("example calls (-seed +K3):\n%s", diff)
	}
	if seed.OutputFormat != k3.OutputFormat {
		t.Errorf("Output Format differs from the seed's:\n%s\n--- want ---\n%s", k3.OutputFormat, seed.OutputFormat)
	}
	if diff := cmp.Diff(seed.Triggers, k3.Triggers); diff != "" {
		t.Errorf("triggers (-seed +K3):\n%s", diff)
	}
	if diff := cmp.Diff(seed.CrossRefs, k3.CrossRefs); diff != "" {
		t.Errorf("cross-references (-seed +K3):\n%s", diff)
	}
	if seed.Severity != k3.Severity || seed.Status != k3.Status || seed.Owner != k3.Owner {
		t.Errorf("severity/status/owner = %s/%s/%s, seed has %s/%s/%s", k3.Severity, k3.Status, k3.Owner, seed.Severity, seed.Status, seed.Owner)
	}
}
