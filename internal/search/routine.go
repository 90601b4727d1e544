package search

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/nodediag/nodediag/internal/detect"
	"github.com/nodediag/nodediag/internal/facts"
	"github.com/nodediag/nodediag/internal/index"
)

// Routine lines are the healthy repetitions of a node's life: containers that start and
// containers that finish with exit code 0. A ten-day bundle holds hundreds of them (a CronJob's
// every run, every pod's start after the boot), and a search for lifecycle or exit lines finds
// them all; when an answer must be cut they are counted, one example each, instead of filling
// the page. They are told apart by the index's own rules, not by a list kept here: a rule is
// routine when the catalog rates it info and every example line it carries yields, through its
// fact extractor, a fact that says "started" or "exited 0":
//
//   - SandboxCreated (RunPodSandbox … returns sandbox id), ContainerCreated (CreateContainer …
//     returns container id) and ContainerStarted (PLEG): a start says nothing of a crash;
//   - ContainerExit with exit code 0 (PLEG "container finished" exitCode=0, containerd's exit
//     event without exit_status): a clean finish, the index's CleanExits, not a crash fact.
//
// A routine line of a pod that is in trouble (a pod any crash fact of the index names) is not
// routine: the restarts of a crash-looping container are its timeline, so it is listed.
//
// One wording has no rule because no fact needs it: containerd's "StartContainer for %q returns
// successfully" (format matrix row ctrd-startcontainer-ok, benign; containerd
// internal/cri/instrument/instrumented_service.go@v2.2.0#L202, 1.6:
// pkg/cri/server/instrumented_service.go@v1.6.39#L475). It is the reply to the start request,
// sent for every healthy start; startOK reads it.

// startOKRule names the wording by its format-matrix row.
const startOKRule = "ctrd-startcontainer-ok"

var (
	startOKHead = []byte("StartContainer for ")
	startOKTail = []byte(" returns successfully")
)

// routineCatalog is the part of the rule catalog whose hits are routine, compiled once.
type routineCatalog struct {
	m    *detect.Matcher
	what map[string]string // rule id → what its lines are, for the collapsed count
}

var loadRoutine = sync.OnceValues(func() (*routineCatalog, error) {
	cat, err := detect.Load()
	if err != nil {
		return nil, fmt.Errorf("routine rules: %w", err)
	}
	return newRoutineCatalog(cat)
})

func newRoutineCatalog(cat *detect.Catalog) (*routineCatalog, error) {
	rc := &routineCatalog{what: map[string]string{startOKRule: "routine starts (StartContainer … returns successfully)"}}
	var rules []detect.Rule
	for _, r := range cat.Rules {
		if what, ok := routineRule(&r); ok {
			rules = append(rules, r)
			rc.what[r.ID] = what
		}
	}
	if len(rules) == 0 {
		return rc, nil
	}
	m, err := (&detect.Catalog{Version: cat.Version, Rules: rules}).Compile()
	if err != nil {
		return nil, fmt.Errorf("routine rules: %w", err)
	}
	rc.m = m
	return rc, nil
}

// routineRule says whether a rule's hits are routine and, if so, what they are.
func routineRule(r *detect.Rule) (string, bool) {
	if r.Severity != detect.Info || r.Extract == "" || len(r.Examples) == 0 {
		return "", false
	}
	what := ""
	for _, ex := range r.Examples {
		f, ok := facts.Extract(r.Extract, []byte(ex))
		if !ok {
			return "", false
		}
		w := healthyWhat(f)
		if w == "" || (what != "" && w != what) {
			return "", false
		}
		what = w
	}
	return what, true
}

// healthyWhat names a fact that says a container started or exited 0, or "".
func healthyWhat(f facts.Fact) string {
	switch f.Kind {
	case facts.SandboxCreated:
		return "routine sandbox starts (RunPodSandbox … returns sandbox id)"
	case facts.ContainerCreated:
		return "routine container creations (CreateContainer … returns container id)"
	case facts.ContainerStarted:
		return "routine starts (PLEG ContainerStarted)"
	case facts.ContainerExit:
		if f.ExitCode != nil && *f.ExitCode == 0 {
			return "healthy exit-0 lines"
		}
	}
	return ""
}

// troubled is what the index's facts name: pods in trouble and their containers and sandboxes.
type troubled struct {
	pods map[string]bool // "uid:<uid>" and "pod:<ns>/<name>"
	ids  map[string]bool // container and sandbox IDs
}

func troubledOf(idx *index.Index) troubled {
	t := troubled{pods: map[string]bool{}, ids: map[string]bool{}}
	for i := range idx.Facts {
		f := &idx.Facts[i]
		// The index keeps a clean exit only for a pod in trouble, so every fact it holds names one.
		for _, k := range podKeys(f.PodUID, f.Namespace, f.Pod) {
			t.pods[k] = true
		}
		t.addID(f.ContainerID)
		t.addID(f.SandboxID)
	}
	for _, c := range idx.Containers {
		for _, k := range podKeys(c.PodUID, c.Namespace, c.Pod) {
			if t.pods[k] {
				t.addID(c.ContainerID)
				t.addID(c.SandboxID)
			}
		}
	}
	return t
}

func (t troubled) addID(id string) {
	if id != "" {
		t.ids[id] = true
	}
}

func podKeys(uid, ns, pod string) []string {
	var k []string
	if uid != "" {
		k = append(k, "uid:"+uid)
	}
	if pod != "" {
		k = append(k, "pod:"+ns+"/"+pod)
	}
	return k
}

func (t troubled) has(f facts.Fact) bool {
	for _, k := range podKeys(f.PodUID, f.Namespace, f.Pod) {
		if t.pods[k] {
			return true
		}
	}
	return t.ids[f.ContainerID] || t.ids[f.SandboxID]
}

// routineOf returns the rule (or matrix row) that makes a line routine, or "".
func (rc *routineCatalog) routineOf(line []byte, logType string, tr troubled) string {
	rule := ""
	if rc.m != nil {
		rc.m.Scan(line, logType, func(r *detect.Rule, _, _, _ int) {
			if rule != "" {
				return
			}
			if f, ok := facts.Extract(r.Extract, line); ok && (healthyWhat(f) == "" || tr.has(f)) {
				return // not a healthy statement after all, or one about a pod in trouble
			}
			// A line the extractor cannot attribute (an exec's clean exit) is routine by its rule.
			rule = r.ID
		})
	}
	if rule == "" {
		if id, ok := startOK(line); ok && !tr.ids[id] {
			rule = startOKRule
		}
	}
	return rule
}

// startOK reads the container ID of containerd's "StartContainer for "ID" returns successfully"
// (the ID quoted by %q, so in a logfmt msg its quotes are escaped).
func startOK(line []byte) (string, bool) {
	i := bytes.Index(line, startOKHead)
	if i < 0 {
		return "", false
	}
	rest := line[i+len(startOKHead):]
	j := bytes.Index(rest, startOKTail)
	if j < 0 {
		return "", false
	}
	id := bytes.Trim(rest[:j], `\"`)
	if len(id) == 0 || bytes.ContainsAny(id, ` "\`) {
		return "", false
	}
	return string(id), true
}
