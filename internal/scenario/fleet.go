package scenario

import (
	"fmt"
	"hash/fnv"
)

// FleetNode is one node of a simulated fleet: its EC2 instance and the incident its bundle
// holds, in a layout.
type FleetNode struct {
	InstanceID string
	Scenario   string
	Layout     Layout
}

// Fleet is a simulated fleet: nodes whose bundles hold one incident each, some of them the
// same crash-looping workload on several nodes — as a bad image or config rolled out to a
// Deployment or DaemonSet crash-loops on every node it lands on.
type Fleet struct {
	Nodes []FleetNode
	// Shared are the incidents planted on more than one node: what a question across nodes
	// must find, and only these.
	Shared []SharedIncident
}

// SharedIncident is one scenario planted on several nodes.
type SharedIncident struct {
	Scenario  string
	Truth     Truth // the scenario's truth: namespace, pod, container, root cause
	Instances []string
}

// fleetShared are the incidents planted on several nodes, with how many nodes each takes at
// most, and fleetSingles those planted on one node each (then "healthy" nodes). Each scenario
// here crash-loops a workload no other scenario has, and its root cause from the node's logs
// alone is one of diagnose's classes, so the signatures a fleet holds are exactly the planted
// ones.
var (
	fleetShared = []struct {
		scenario string
		nodes    int
	}{
		{"container-oom-v2", 5},   // a Deployment whose memory limit is too low everywhere
		{"aws-node-crashloop", 3}, // a DaemonSet's bad rollout
		{"segfault", 2},
	}
	fleetSingles = []string{"app-error", "exec-not-found", "missing-configmap", "container-oom-v1", "java-app-error", "go-nil-panic"}
)

// PlanFleet plans a fleet of n nodes: the shared incidents first (each on as many nodes as
// n leaves room for, at least two, else not planted), then one single incident per node,
// then healthy nodes. Layouts rotate, so one incident appears in several layouts. Instance
// ids are drawn from the node's position: the same n gives the same fleet.
func PlanFleet(n int) (Fleet, error) {
	var f Fleet
	add := func(name string) (FleetNode, error) {
		if _, ok := Lookup(name); !ok {
			return FleetNode{}, fmt.Errorf("plan fleet: no scenario %q", name)
		}
		i := len(f.Nodes)
		node := FleetNode{InstanceID: fleetInstance(i), Scenario: name, Layout: Layouts()[i%len(Layouts())]}
		f.Nodes = append(f.Nodes, node)
		return node, nil
	}
	for _, sh := range fleetShared {
		k := min(sh.nodes, n-len(f.Nodes))
		if k < 2 {
			break
		}
		s, _ := Lookup(sh.scenario)
		inc := SharedIncident{Scenario: sh.scenario, Truth: s.Truth}
		for range k {
			node, err := add(sh.scenario)
			if err != nil {
				return f, err
			}
			inc.Instances = append(inc.Instances, node.InstanceID)
		}
		f.Shared = append(f.Shared, inc)
	}
	for _, name := range fleetSingles {
		if len(f.Nodes) == n {
			break
		}
		if _, err := add(name); err != nil {
			return f, err
		}
	}
	for len(f.Nodes) < n {
		if _, err := add("healthy"); err != nil {
			return f, err
		}
	}
	return f, nil
}

// fleetInstance is the i-th node's instance id: 17 hex digits, as EC2's (a leading 0 and 64 bits).
func fleetInstance(i int) string {
	h := fnv.New64a()
	fmt.Fprintf(h, "fleet node %d", i)
	return fmt.Sprintf("i-0%016x", h.Sum64())
}
