package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/nodediag/nodediag/internal/atomicfile"
	"github.com/nodediag/nodediag/internal/report"
)

func newReportCmd(g *globals) *cobra.Command {
	var pf podFlags
	var out string
	cmd := &cobra.Command{
		Use:   "report [POD] [-n NAMESPACE] (--bundle PATH|ID | --instance ID) [--out FILE]",
		Short: "Write the diagnosis as one self-contained HTML page: Output Format, timeline, memory at each OOM kill, evidence in context",
		Long: `report runs the same diagnosis as diagnose (same flags) and writes it as one HTML file that opens
in any browser without network: the runbook's Output Format, the crash loop on one time axis with a
lane per log source (each mark links to its line), the memory usage against the limit at each OOM
kill, every evidence line with the lines around it, and the gaps and escalations. Bundle text is
redacted as in every other output (unless --no-redact).

The file is --out FILE, or nodediag-report-<namespace>-<pod>.html in the current folder; --out -
writes the page to stdout.`,
		Example: `  nodediag report --bundle testdata/example/eks_i-0a1b2c3d4e5f60718_2026-11-20_1030-UTC_0.7.9.tar.gz --pod payments/ledger-0
  nodediag report ledger-0 -n payments --instance i-0a1b2c3d4e5f60718 --out ledger.html`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sel, err := pf.resolve(cmd, g, args)
			if err != nil {
				return err
			}
			r, err := report.Build(cmd.Context(), report.Request{Entry: sel.entry, Index: sel.idx, Input: sel.in, Gaps: sel.apiGaps, NoRedact: g.noRedact})
			if err != nil {
				return err
			}
			page, err := report.Render(r)
			if err != nil {
				return err
			}
			if out == "-" {
				_, err := g.stdout.Write(page)
				return err
			}
			path := out
			if path == "" {
				path = report.FileName(r)
			}
			if err := atomicfile.Write(path, page, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(g.stderr, "wrote %s (%d bytes)\n", path, len(page))
			return nil
		},
	}
	pf.register(cmd)
	cmd.Flags().StringVar(&out, "out", "", "the HTML `FILE` to write; - for stdout (default nodediag-report-<namespace>-<pod>.html)")
	return cmd
}
