package cli

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/nodediag/nodediag/internal/export"
)

func newExportCmd(g *globals) *cobra.Command {
	var opt export.Options
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write every stored bundle's facts, findings and bundle row as Parquet tables for DuckDB, Athena or Trino",
		Long: `export writes three tables — bundles, facts, findings — as one Parquet file per bundle and
table under --dir (default <store>/export), laid out as <table>/instance_id=<id>/<bundle>.parquet,
the Hive partitioning that DuckDB, Athena and Trino read (docs/sql.md has the queries). Each file is
written beside its place and renamed into it, so a query running meanwhile reads whole files. A
bundle whose files already describe its index is skipped, and the files of bundles that left the
store are removed, so running it after every import costs only what changed. Strings are
redacted whatever --no-redact says: the files are meant to leave this machine.
Exit 0: done; 3: some bundles were not exported (the output says which, and why).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := g.openStore()
			if err != nil {
				return err
			}
			opt.Log = g.log
			res, runErr := export.Run(cmd.Context(), st, opt)
			if res == nil {
				return runErr
			}
			if g.remote != nil && opt.Dir == "" {
				// A bucket store's engines read the tables from the bucket, beside the bundles.
				w, d, err := g.remote.PushDir(cmd.Context(), res.Dir, "export/")
				if err != nil {
					return fmt.Errorf("publish the export to %s: %w (the tables are in %s)", g.remote.URL, err, res.Dir)
				}
				res.Published = &export.Published{URL: g.remote.URL + " export/", Wrote: w, Deleted: d}
			}
			if err := emit(g, res, func(w io.Writer) { printExport(w, res) }); err != nil {
				return err
			}
			if errors.Is(runErr, export.ErrSomeFailed) {
				return &exitError{code: ExitPartial, err: runErr}
			}
			return runErr
		},
	}
	cmd.Flags().StringVar(&opt.Dir, "dir", "", "folder of the tables (default <store>/export)")
	cmd.Flags().BoolVar(&opt.Force, "force", false, "rewrite the files of bundles whose files are current")
	return cmd
}

func printExport(w io.Writer, res *export.Result) {
	fprintf(w, "INSTANCE\tBUNDLE\tSTATUS\tFACTS\tFINDINGS\tERROR\n")
	for _, b := range res.Bundles {
		facts, findings := "-", "-"
		if b.Status == export.Written {
			facts, findings = strconv.Itoa(b.Facts), strconv.Itoa(b.Findings)
		}
		fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", b.InstanceID, b.BundleID, b.Status, facts, findings, b.Error)
	}
	fprintf(w, "%s: %d written, %d current, %d removed, %d failed\n", res.Dir,
		res.Count(export.Written), res.Count(export.Current), res.Count(export.Removed), res.Count(export.Failed))
	if p := res.Published; p != nil {
		fprintf(w, "published to %s: %d objects written, %d deleted\n", p.URL, p.Wrote, p.Deleted)
	}
}
