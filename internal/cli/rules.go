package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nodediag/nodediag/internal/detect"
)

type ruleRow struct {
	ID       string   `json:"id" yaml:"id"`
	Severity string   `json:"severity" yaml:"severity"`
	Category string   `json:"category" yaml:"category"`
	LogTypes []string `json:"logTypes,omitempty" yaml:"logTypes,omitempty"`
	SOPs     []string `json:"sops,omitempty" yaml:"sops,omitempty"`
	Extract  string   `json:"extract,omitempty" yaml:"extract,omitempty"`
	Title    string   `json:"title" yaml:"title"`
	Pattern  string   `json:"pattern" yaml:"pattern"`
}

func newRulesCmd(g *globals) *cobra.Command {
	var patterns bool
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List the detection rules of the embedded catalog (docs/rules.md has them in full)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cat, err := detect.Load()
			if err != nil {
				return err
			}
			if patterns {
				// One regex a line, for `rg -f` / `grep -E -f`: the benchmark compares against
				// ripgrep with exactly the catalog's own patterns.
				for _, r := range cat.Rules {
					p := r.Pattern
					if r.CaseInsensitive {
						p = "(?i)" + p
					}
					fmt.Fprintln(g.stdout, p)
				}
				return nil
			}
			rows := make([]ruleRow, 0, len(cat.Rules))
			for _, r := range cat.Rules {
				rows = append(rows, ruleRow{r.ID, string(r.Severity), r.Category, r.LogTypes, r.SOPs, r.Extract, r.Title, r.Pattern})
			}
			return emit(g, &rows, func(w io.Writer) {
				fprintf(w, "catalog %s, %d rules\n\nID\tSEVERITY\tCATEGORY\tLOG TYPES\tSOPS\tTITLE\n", cat.Version, len(rows))
				for _, r := range rows {
					lt := strings.Join(r.LogTypes, ",")
					if lt == "" {
						lt = "all"
					}
					fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Severity, r.Category, lt, strings.Join(r.SOPs, ","), r.Title)
				}
			})
		},
	}
	cmd.Flags().BoolVar(&patterns, "patterns", false, "print only the patterns, one RE2 regex a line (for ripgrep/grep -f)")
	return cmd
}
