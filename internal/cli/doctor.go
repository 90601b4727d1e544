package cli

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/nodediag/nodediag/internal/remote"
	"github.com/nodediag/nodediag/internal/store"
)

// ExitProblems is doctor's exit code for a store with problems left (after --repair, those it
// could not fix), 1 like a failing check elsewhere.
const ExitProblems = 1

// doctorResult is the output of `nodediag doctor`: the store's health, after repairs when asked.
type doctorResult struct {
	Store    string          `json:"store" yaml:"store"`
	Bundles  int             `json:"bundles" yaml:"bundles"`
	Healthy  bool            `json:"healthy" yaml:"healthy"`
	Problems []store.Problem `json:"problems" yaml:"problems"`
	Repaired []store.Action  `json:"repaired,omitempty" yaml:"repaired,omitempty"`
	InUse    []string        `json:"inUse,omitempty" yaml:"inUse,omitempty"`
}

func newDoctorCmd(g *globals) *cobra.Command {
	var repair bool
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check the store: leftovers of killed runs, bundles not whole, files missing or resized, indexes missing, stale or broken; --repair fixes them",
		Long: `doctor reads every bundle of the store and reports what is wrong: temporary folders of runs
that were killed, bundle folders without a manifest or with one that does not parse, files the
manifest lists that are missing or of another size, and indexes that are missing, stale, do not
load, or are not the bundle's. It changes nothing unless --repair is given; then it removes the
leftovers and the broken bundles, rebuilds the indexes of bundles whose files are intact, and
says what it did. Folders that a running nodediag holds are never touched.
Exit 0: healthy; 1: problems (left); 2: usage.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// Not g.openStore: that cleans up first, and the doctor must see what is wrong before
			// it is fixed, and fix nothing unless asked.
			dir := g.storeDir
			if remote.IsURL(dir) {
				// The bucket has no leftovers to repair: a publish is visible whole or not at
				// all. The local mirror is a store like any other.
				dir = remote.CacheRoot(dir, g.cacheDir)
			}
			st, err := store.OpenNoCleanup(dir, g.log)
			if err != nil {
				return err
			}
			var did []store.Action
			if repair {
				if did, err = st.Repair(cmd.Context()); err != nil {
					return err
				}
			}
			h, err := st.Check(cmd.Context())
			if err != nil {
				return err
			}
			res := doctorResult{Store: h.Store, Bundles: h.Bundles, Healthy: h.Healthy, Problems: h.Problems, Repaired: did, InUse: h.InUse}
			if err := emit(g, &res, func(w io.Writer) { printDoctor(w, res, repair) }); err != nil {
				return err
			}
			if !res.Healthy {
				return &exitError{code: ExitProblems}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&repair, "repair", false, "remove leftovers and broken bundles, rebuild broken indexes of intact bundles")
	return cmd
}

func printDoctor(w io.Writer, res doctorResult, repaired bool) {
	fprintf(w, "store %s: %d bundle folders\n", res.Store, res.Bundles)
	for _, a := range res.Repaired {
		fprintf(w, "repaired\t%s\t%s\n", a.Path, a.Did)
	}
	if repaired && len(res.Repaired) == 0 {
		fprintf(w, "repaired\t(nothing to do)\n")
	}
	for _, p := range res.InUse {
		fprintf(w, "in use\t%s\t(a running nodediag's; left alone)\n", p)
	}
	if res.Healthy {
		fprintf(w, "healthy\n")
		return
	}
	fprintf(w, "\nPROBLEM\tPATH\tBUNDLE\tDETAIL\tREPAIR\n")
	for _, p := range res.Problems {
		id := p.BundleID
		if id == "" {
			id = "-"
		}
		fprintf(w, "%s\t%s\t%s\t%s\t%s\n", p.Kind, p.Path, id, clip(p.Detail, 160), p.Repair)
	}
	if !repaired {
		fprintf(w, "\n%d problems: `nodediag doctor --repair` fixes them\n", len(res.Problems))
	} else {
		fprintf(w, "\n%d problems left\n", len(res.Problems))
	}
}
