// Command mkscenario writes a scenario bundle with its truth, for tests and demos.
//
//	go run ./internal/scenario/mkscenario -list
//	go run ./internal/scenario/mkscenario -scenario container-oom-v1 -layout al2 -archive -out testdata/example
//	go run ./internal/scenario/mkscenario -scenario segfault -layout al2023 -containerd 1.7.23 -out /tmp/segv
//	go run ./internal/scenario/mkscenario -fleet 20 -noise 200 -out /tmp/fleet   # 20 nodes' archives and fleet.json
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nodediag/nodediag/internal/scenario"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "mkscenario:", err)
		os.Exit(2)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("mkscenario", flag.ContinueOnError)
	name := fs.String("scenario", "", "scenario name (see -list)")
	layout := fs.String("layout", "", "al2, al2023, bottlerocket or nma (default: the scenario's own)")
	out := fs.String("out", ".", "folder to write into")
	archive := fs.Bool("archive", false, "write the producer's .tar.gz instead of an unpacked folder")
	list := fs.Bool("list", false, "list the scenarios and exit")
	seed := fs.Uint64("seed", 0, "random seed")
	noise := fs.Int("noise", scenario.DefaultNoiseLines, "ordinary lines per big log")
	capture := fs.String("capture", "", "capture time, RFC 3339 (default "+scenario.DefaultCapture.Format(time.RFC3339)+")")
	yearTurn := fs.Bool("year-turn", false, "capture on "+scenario.YearTurnCapture.Format("2006-01-02")+", logs starting in December")
	ctrd := fs.String("containerd", "", "containerd `VERSION` the node runs, e.g. "+strings.Join(scenario.ContainerdReleases(), ", ")+" (default: the layout's own)")
	fleet := fs.Int("fleet", 0, "write a simulated fleet of `N` nodes instead: one archive per node under -out/<instance id>/, "+
		"some nodes sharing a crash-looping workload, and -out/fleet.json naming the incidents planted on several nodes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *fleet > 0 {
		return writeFleet(*out, *fleet, *noise, stdout)
	}
	if *list {
		tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tLAYOUT\tROOT CAUSE\tDESCRIPTION")
		for _, s := range scenario.All() {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Name, s.Layout, s.Truth.RootCause, s.Description)
		}
		return tw.Flush()
	}
	s, ok := scenario.Lookup(*name)
	if !ok {
		return fmt.Errorf("unknown scenario %q (use -list)", *name)
	}
	l := s.Layout
	if *layout != "" {
		l = scenario.Layout(*layout)
	}
	opt := scenario.Options{Seed: *seed, NoiseLines: *noise, YearTurn: *yearTurn, Containerd: *ctrd}
	if *capture != "" {
		t, err := time.Parse(time.RFC3339, *capture)
		if err != nil {
			return fmt.Errorf("-capture: %w", err)
		}
		opt.Capture = t
	}
	write := scenario.Write
	if *archive {
		write = scenario.WriteArchive
	}
	p, err := write(*out, s, l, opt)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, p)
	return nil
}

// writeFleet writes the archives of scenario.PlanFleet(n), each in a folder named by its node's
// instance id, and the plan beside them. Archives whose name carries no instance id (logdog's,
// the node monitoring agent's) are imported with --instance <folder>.
func writeFleet(out string, n, noise int, stdout io.Writer) error {
	plan, err := scenario.PlanFleet(n)
	if err != nil {
		return err
	}
	for _, node := range plan.Nodes {
		s, _ := scenario.Lookup(node.Scenario)
		p, err := scenario.WriteArchive(filepath.Join(out, node.InstanceID), s, node.Layout, scenario.Options{NoiseLines: noise, InstanceID: node.InstanceID})
		if err != nil {
			return fmt.Errorf("node %s: %w", node.InstanceID, err)
		}
		fmt.Fprintln(stdout, p)
	}
	data, err := json.MarshalIndent(plan, "", "  ")
	if err != nil {
		return fmt.Errorf("fleet.json: %w", err)
	}
	if err := os.WriteFile(filepath.Join(out, "fleet.json"), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("fleet.json: %w", err)
	}
	return nil
}
