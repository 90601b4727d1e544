package runbook

import (
	"os"
	"path/filepath"
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
// with their parameters, example calls, cross-references and Output Format exactly.
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
	if diff := cmp.Diff(shapes(seed), shapes(k3)); diff != "" {
		t.Errorf("K3 steps differ from the seed's (-seed +K3):\n%s", diff)
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
	if diff := cmp.Diff(strip(seed.ExampleCalls), strip(k3.ExampleCalls)); diff != "" {
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
