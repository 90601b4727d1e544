package cli

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/nodediag/nodediag/internal/app"
	"github.com/nodediag/nodediag/internal/buildinfo"
	"github.com/nodediag/nodediag/internal/bundle"
	"github.com/nodediag/nodediag/internal/detect"
	"github.com/nodediag/nodediag/internal/facts"
	"github.com/nodediag/nodediag/internal/index"
	"github.com/nodediag/nodediag/internal/source"
	"github.com/nodediag/nodediag/internal/store"
)

// summary is what import and index print: the bundle and what its index holds.
type summary struct {
	BundleID   string            `json:"bundleId" yaml:"bundleId"`
	InstanceID string            `json:"instanceId" yaml:"instanceId"`
	NodeName   string            `json:"nodeName,omitempty" yaml:"nodeName,omitempty"`
	Layout     string            `json:"layout" yaml:"layout"`
	Dir        string            `json:"dir" yaml:"dir"`
	Existing   bool              `json:"alreadyImported,omitempty" yaml:"alreadyImported,omitempty"`
	Time       index.TimeContext `json:"time" yaml:"time"`
	Files      int               `json:"files" yaml:"files"`
	LogFiles   int               `json:"logFiles" yaml:"logFiles"`
	Bytes      int64             `json:"bytes" yaml:"bytes"`
	Lines      int64             `json:"lines" yaml:"lines"`
	Findings   map[string]int    `json:"findingsBySeverity" yaml:"findingsBySeverity"`
	Facts      map[string]int    `json:"factsByKind" yaml:"factsByKind"`
	Skipped    []bundle.Skipped  `json:"skipped,omitempty" yaml:"skipped,omitempty"`
	Warnings   []string          `json:"warnings,omitempty" yaml:"warnings,omitempty"`
	Took       string            `json:"took" yaml:"took"`
	Next       string            `json:"next" yaml:"next"`
}

func summarize(e *store.Entry, idx *index.Index, existing bool) summary {
	m := e.Manifest
	s := summary{BundleID: m.ID, InstanceID: m.InstanceID, NodeName: m.NodeName, Layout: m.Layout, Dir: e.Dir,
		Existing: existing, Time: idx.Time, Files: len(m.Files), LogFiles: idx.Stats.Files, Bytes: idx.Stats.Bytes,
		Lines: idx.Stats.Lines, Findings: map[string]int{}, Facts: map[string]int{}, Skipped: m.Skipped,
		Warnings: idx.Warnings, Took: idx.Stats.Duration.String()}
	for _, f := range idx.Findings {
		s.Findings[f.Severity]++
	}
	for _, f := range idx.Facts {
		s.Facts[string(f.Kind)]++
	}
	s.Next = fmt.Sprintf("nodediag errors --bundle %s   # then: nodediag facts --bundle %s", m.ID, m.ID)
	return s
}

func (g *globals) printSummary(s summary) error {
	return emit(g, &s, func(w io.Writer) {
		fprintf(w, "bundle\t%s\n", s.BundleID)
		fprintf(w, "instance\t%s\n", s.InstanceID)
		if s.NodeName != "" {
			fprintf(w, "node\t%s\n", s.NodeName)
		}
		fprintf(w, "layout\t%s\n", s.Layout)
		fprintf(w, "stored in\t%s\n", s.Dir)
		fprintf(w, "captured\t%s UTC (%s)\n", stamp(s.Time.Capture), s.Time.CaptureSource)
		if !s.Time.Boot.IsZero() {
			fprintf(w, "booted\t%s UTC (%s)\n", stamp(s.Time.Boot), s.Time.BootSource)
		}
		fprintf(w, "time zone\t%s\n", s.Time.Zone)
		fprintf(w, "files\t%d (%d logs indexed: %d lines, %.1f MiB)\n", s.Files, s.LogFiles, s.Lines, float64(s.Bytes)/(1<<20))
		fprintf(w, "findings\t%s\n", countLine(s.Findings, []string{"critical", "high", "medium", "low", "info"}))
		fprintf(w, "crash facts\t%s\n", countLine(s.Facts, nil))
		if s.Existing {
			fprintf(w, "note\talready in the store; nothing was written (use --force to replace)\n")
		}
		for _, sk := range s.Skipped {
			fprintf(w, "skipped\t%s: %s\n", sk.Path, sk.Reason)
		}
		for _, wn := range s.Warnings {
			fprintf(w, "warning\t%s\n", wn)
		}
		fprintf(w, "next\t%s\n", s.Next)
	})
}

func countLine(m map[string]int, order []string) string {
	if len(m) == 0 {
		return "none"
	}
	if order == nil {
		for k := range m {
			order = append(order, k)
		}
		sort.Strings(order)
	}
	var parts []string
	for _, k := range order {
		if n := m[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
	}
	return strings.Join(parts, ", ")
}

func newImportCmd(g *globals) *cobra.Command {
	var instance string
	var force bool
	var jobs int
	var lim bundle.Options
	cmd := &cobra.Command{
		Use:   "import PATH|URL...",
		Short: "Unpack node log bundles (.tar.gz, .tgz, .tar, .zip, folders, a folder of them, or a bucket prefix) into the store and index them",
		Long: `import unpacks a node log bundle into the store and indexes it. Given several paths, a folder
of bundles, or a bucket prefix (s3://B?prefix=P/, gs://, azblob://, file:///DIR: every archive
under it, each downloaded in turn, its instance from its name or an i-… folder of its key), it
imports each of them, --jobs at a time, and prints one row per archive: imported,
partial (what could not be read is named), skipped (already indexed; --force imports it again) or
failed (with the reason). One bad archive does not stop the others; the exit code is 3 when some
failed or were cut short, 1 when none could be imported.

A folder is one bundle when it has a bundle's layout (kubelet/, var_log/, … or logdog's
journalctl.log, at its top or under one folder) or holds no bundle; otherwise it is a folder of
bundles: every .tar.gz, .tgz, .tar and .zip file and every bundle folder directly inside it, and
the archives inside folders named after an instance (i-…/, whose name then gives the instance of
an archive named after its host), not deeper (a bundle's own nested archives are part of it). Other entries are listed as ignored.`,
		Example: `  nodediag import eks_i-0a1b2c3d4e5f60718_2026-11-20_1030-UTC_0.7.9.tar.gz
  nodediag import ~/incident-42/            # every bundle in the folder, 2 at a time on 2 cores
  nodediag import a.tar.gz b.zip c/ --jobs 4 -o json
  nodediag import 's3://my-eks-logs?prefix=incident-42/'   # skips the objects imported before`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if jobs < 0 {
				return usageError("--jobs %d: want 1 or more (0: min(cores, 4))", jobs)
			}
			// A path that names nothing is the caller's to fix, as under --bundle: exit 2.
			sources, ignored, batch, err := app.ImportSources(cmd.Context(), args)
			if err != nil {
				return &exitError{code: ExitUsage, err: err}
			}
			if batch {
				if instance != "" {
					return usageError("--instance names the node of one bundle; a batch reads each archive's own (from its name or system/instance-id.txt): import that bundle alone")
				}
				return g.importMany(cmd.Context(), sources, ignored, force, jobs, lim)
			}
			st, err := g.openStore()
			if err != nil {
				return err
			}
			bar := newRenderer(g)
			lim.Progress = importProgress(bar)
			if instance == "" {
				// An archive named after its host, kept under its instance's folder.
				instance = source.InstanceOfKey(filepath.ToSlash(sources[0]))
			}
			res, err := st.Import(cmd.Context(), sources[0], store.ImportOptions{InstanceID: instance, Force: force, Limits: lim})
			bar.Done()
			if err != nil {
				return err
			}
			idx := res.Index
			if idx == nil {
				if idx, err = st.Index(cmd.Context(), res.Entry, false); err != nil {
					return err
				}
			}
			if err := g.printSummary(summarize(res.Entry, idx, res.Existing)); err != nil {
				return err
			}
			if res.Partial != nil {
				return &exitError{code: ExitPartial, err: fmt.Errorf("imported only part of %s: %w", sources[0], res.Partial)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&instance, "instance", "", "instance id of the node (default: read from the archive name or system/instance-id.txt); one bundle only")
	cmd.Flags().BoolVar(&force, "force", false, "replace a bundle with the same id already in the store (a batch: import every archive again)")
	cmd.Flags().IntVar(&jobs, "jobs", 0, "archives imported at once in a batch (0: min(cores, 4); each import peaks at 70-170 MiB)")
	cmd.Flags().Int64Var(&lim.MaxTotalBytes, "max-total-bytes", 0, "stop once this many bytes are unpacked in all, compressed members' content included (0: 32 GiB)")
	cmd.Flags().Int64Var(&lim.MaxFileBytes, "max-file-bytes", 0, "cut any one file at this many bytes (0: 8 GiB)")
	cmd.Flags().IntVar(&lim.MaxFiles, "max-files", 0, "stop after this many members (0: 20000)")
	cmd.Flags().Float64Var(&lim.MaxArchiveRatio, "max-archive-ratio", 0, "stop once everything decompressed exceeds this many times the archive's size, past 256 MiB (0: 100)")
	return cmd
}

// importBatchView is what a batch import prints.
type importBatchView struct {
	*app.ImportManyResult `yaml:",inline"`
	Ignored               []bundle.Ignored `json:"ignored,omitempty" yaml:"ignored,omitempty"`
}

// importMany imports a batch, drawing one bar over the archives, prints a row per archive and
// turns failures into the exit code: 3 when some archives failed or were cut short and others
// were imported, 1 when none was.
func (g *globals) importMany(ctx context.Context, sources []string, ignored []bundle.Ignored, force bool, jobs int, lim bundle.Options) error {
	st, err := g.openStore()
	if err != nil {
		return err
	}
	if jobs == 0 {
		jobs = app.DefaultImportJobs()
	}
	restore := scaleMemoryLimit(jobs)
	defer restore()
	bar := newRenderer(g)
	var barMu sync.Mutex // Done runs on every job's goroutine
	res, err := app.ImportMany(ctx, st, app.ImportManyRequest{Sources: sources, Force: force, Jobs: jobs, Limits: lim,
		Done: func(row app.ImportRow, done, total int) {
			barMu.Lock()
			defer barMu.Unlock()
			bar.Steps("import", done, total, filepath.Base(row.Path)+" "+row.Status)
			g.log.Info("archive done", "path", row.Path, "status", row.Status, "reason", row.Reason, "took", row.Took)
		}})
	bar.Done()
	if err != nil {
		return err
	}
	v := importBatchView{ImportManyResult: res, Ignored: ignored}
	if err := emit(g, &v, func(w io.Writer) {
		fprintf(w, "ARCHIVE\tSTATUS\tBUNDLE\tTOOK\tREASON\n")
		for _, r := range v.Archives {
			fprintf(w, "%s\t%s\t%s\t%s\t%s\n", r.Path, r.Status, orDash(r.BundleID), orDash(r.Took), orDash(r.Reason))
		}
		for _, ig := range v.Ignored {
			fprintf(w, "%s\tignored\t-\t-\t%s\n", ig.Path, ig.Why)
		}
		fprintf(w, "\n%d imported, %d partial, %d skipped, %d failed (%d at a time)\n", v.Imported, v.Partial, v.Skipped, v.Failed, v.Jobs)
	}); err != nil {
		return err
	}
	bad := res.Failed + res.Partial
	switch {
	case bad == 0:
		return nil
	case res.Failed == len(res.Archives):
		return fmt.Errorf("none of the %d archives could be imported: see each row's reason", len(res.Archives))
	}
	return &exitError{code: ExitPartial, err: fmt.Errorf("%d of %d archives not wholly imported (%d failed, %d in part): see their rows; the others are indexed",
		bad, len(res.Archives), res.Failed, res.Partial)}
}

func newIndexCmd(g *globals) *cobra.Command {
	var bf bundleFlags
	var force bool
	cmd := &cobra.Command{
		Use:   "index",
		Short: "Build (or load) the index of a stored bundle; rebuilds a stale one",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := g.openStore()
			if err != nil {
				return err
			}
			e, err := st.Resolve(bf.instance, bf.bundle)
			if err != nil {
				return err
			}
			idx, err := st.Index(cmd.Context(), e, force)
			if err != nil {
				return err
			}
			return g.printSummary(summarize(e, idx, false))
		},
	}
	bf.register(cmd)
	cmd.Flags().BoolVar(&force, "force", false, "rebuild even when the index is current")
	return cmd
}

// errorsResult is the output of `nodediag errors`.
type errorsResult struct {
	BundleID    string          `json:"bundleId" yaml:"bundleId"`
	InstanceID  string          `json:"instanceId" yaml:"instanceId"`
	Capture     time.Time       `json:"captureTime" yaml:"captureTime"`
	Window      *timeWindow     `json:"window,omitempty" yaml:"window,omitempty"`
	MinSeverity string          `json:"minSeverity" yaml:"minSeverity"`
	Total       int             `json:"totalFindings" yaml:"totalFindings"`
	Shown       int             `json:"shown" yaml:"shown"`
	Findings    []index.Finding `json:"findings" yaml:"findings"`
	Notes       []string        `json:"notes,omitempty" yaml:"notes,omitempty"`
}

type timeWindow struct {
	Start time.Time `json:"start,omitzero" yaml:"start,omitempty"`
	End   time.Time `json:"end,omitzero" yaml:"end,omitempty"`
}

func newErrorsCmd(g *globals) *cobra.Command {
	var bf bundleFlags
	var win window
	var sev, failOn string
	cmd := &cobra.Command{
		Use:   "errors",
		Short: "List the bundle's findings: rule hits grouped by rule, most severe first, with samples and file:line",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			min, err := app.NormalizeSeverity("--severity", sev)
			if err != nil {
				return err
			}
			var fail string
			if failOn != "" {
				if fail, err = app.NormalizeSeverity("--fail-on", failOn); err != nil {
					return err
				}
			}
			if err := win.spec().Check(); err != nil {
				return err // a bad flag is reported before any import
			}
			e, idx, err := bf.open(cmd.Context(), g)
			if err != nil {
				return err
			}
			w, err := win.resolve(idx.Time.Capture)
			if err != nil {
				return err
			}
			found := app.Errors(idx, app.ErrorsRequest{MinSeverity: min, Window: w})
			res := errorsResult{BundleID: e.Manifest.ID, InstanceID: e.Manifest.InstanceID, Capture: idx.Time.Capture,
				MinSeverity: min, Total: found.Total, Shown: len(found.Findings), Findings: found.Findings, Notes: found.Notes}
			if !w.Open() {
				res.Window = &timeWindow{Start: w.From, End: w.To}
			}
			if err := emit(g, &res, func(w io.Writer) { printFindings(w, res) }); err != nil {
				return err
			}
			if fail != "" {
				for _, f := range res.Findings {
					if index.SeverityRank(f.Severity) <= index.SeverityRank(fail) {
						return &exitError{code: ExitFindings}
					}
				}
			}
			return nil
		},
	}
	bf.register(cmd)
	win.register(cmd)
	cmd.Flags().StringVar(&sev, "severity", "low", "lowest severity to list: critical, high, medium (or warning), low, info")
	cmd.Flags().StringVar(&failOn, "fail-on", "", "exit 1 when a listed finding is at or above this severity")
	_ = cmd.RegisterFlagCompletionFunc("severity", completeSeverity)
	_ = cmd.RegisterFlagCompletionFunc("fail-on", completeSeverity)
	return cmd
}

func printFindings(w io.Writer, res errorsResult) {
	fprintf(w, "bundle %s  instance %s  captured %s UTC\n", res.BundleID, res.InstanceID, stamp(res.Capture))
	if res.Window != nil {
		fprintf(w, "window %s – %s UTC\n", stamp(res.Window.Start), stamp(res.Window.End))
	}
	fprintf(w, "\nID\tSEVERITY\tCOUNT\tFIRST (UTC)\tLAST (UTC)\tRULE\tEXAMPLE\n")
	for _, f := range res.Findings {
		ex := "-"
		if len(f.Samples) > 0 {
			ex = f.Samples[0].String()
		}
		fprintf(w, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", f.ID, f.Severity, f.Count, stamp(f.First), stamp(f.Last), f.Rule, ex)
	}
	if len(res.Findings) == 0 {
		fprintf(w, "(no findings)\n")
	}
	for _, n := range res.Notes {
		fprintf(w, "\nnote: %s\n", n)
	}
}

// factsResult is the output of `nodediag facts`.
type factsResult struct {
	BundleID   string       `json:"bundleId" yaml:"bundleId"`
	InstanceID string       `json:"instanceId" yaml:"instanceId"`
	Total      int          `json:"totalFacts" yaml:"totalFacts"`
	CleanExits int          `json:"cleanExits" yaml:"cleanExits"`
	Facts      []facts.Fact `json:"facts" yaml:"facts"`
}

func newFactsCmd(g *globals) *cobra.Command {
	var bf bundleFlags
	var win window
	var kinds []string
	var pod, container string
	cmd := &cobra.Command{
		Use:   "facts",
		Short: "List typed crash facts (exits, OOM kills, segfaults, back-offs, …) in time order, joined to pods and containers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, k := range kinds {
				if !slices.Contains(factKinds, facts.Kind(k)) {
					return usageError("--kind %q: want one of %s", k, kindList())
				}
			}
			ns, name := "", pod
			if i := strings.IndexByte(pod, '/'); i >= 0 {
				ns, name = pod[:i], pod[i+1:]
			}
			if err := win.spec().Check(); err != nil {
				return err
			}
			e, idx, err := bf.open(cmd.Context(), g)
			if err != nil {
				return err
			}
			w, err := win.resolve(idx.Time.Capture)
			if err != nil {
				return err
			}
			res := factsResult{BundleID: e.Manifest.ID, InstanceID: e.Manifest.InstanceID, Total: len(idx.Facts), CleanExits: idx.CleanExits}
			for _, f := range idx.Facts {
				if len(kinds) > 0 && !slices.Contains(kinds, string(f.Kind)) {
					continue
				}
				if name != "" && (f.Pod != name || (ns != "" && f.Namespace != ns)) {
					continue
				}
				if container != "" && f.Container != container {
					continue
				}
				if !w.Holds(f.Ref.Time) {
					continue
				}
				res.Facts = append(res.Facts, f)
			}
			return emit(g, &res, func(w io.Writer) { printFacts(w, res) })
		},
	}
	bf.register(cmd)
	win.register(cmd)
	cmd.Flags().StringSliceVar(&kinds, "kind", nil, "only these kinds: "+kindList())
	cmd.Flags().StringVar(&pod, "pod", "", "only facts of this pod: NAMESPACE/NAME or NAME")
	cmd.Flags().StringVar(&container, "container", "", "only facts of this container name")
	return cmd
}

var factKinds = []facts.Kind{facts.ContainerExit, facts.BackOff, facts.OOMKill, facts.TaskOOM, facts.Segfault,
	facts.ExecFailure, facts.ConfigMissing, facts.ProbeFailure, facts.ImagePull, facts.Killing}

func kindList() string {
	var s []string
	for _, k := range factKinds {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}

func printFacts(w io.Writer, res factsResult) {
	fprintf(w, "bundle %s  instance %s  (%d crash facts, %d clean exits not listed)\n\n", res.BundleID, res.InstanceID, res.Total, res.CleanExits)
	fprintf(w, "TIME (UTC)\tKIND\tPOD\tCONTAINER\tDETAIL\tSOURCE\n")
	for _, f := range res.Facts {
		pod := f.Pod
		if f.Namespace != "" {
			pod = f.Namespace + "/" + f.Pod
		}
		if pod == "" {
			pod = "-"
		}
		ctr := f.Container
		if ctr == "" {
			ctr = "-"
			if f.ContainerID != "" {
				ctr = f.ContainerID[:min(12, len(f.ContainerID))]
			}
		}
		fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", stampPrecise(f.Ref.Time), f.Kind, pod, ctr, clip(describe(f), 90), f.Ref.String())
	}
	if len(res.Facts) == 0 {
		fprintf(w, "(no crash facts)\n")
	}
}

// describe says in a few words what a fact proves.
func describe(f facts.Fact) string {
	var p []string
	add := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	switch f.Kind {
	case facts.ContainerExit:
		if f.ExitCode != nil {
			add("exit %d", *f.ExitCode)
		}
		if f.Signal > 0 {
			add("(signal %d)", f.Signal)
		}
		if f.Reason != "" {
			add("%s", f.Reason)
		}
	case facts.OOMKill:
		add("%s killed %s pid %d", f.Scope, f.Process, f.PID)
		if f.LimitKB > 0 {
			add("limit %s", facts.KiB(f.LimitKB))
		}
		if f.AnonRSSKB > 0 {
			add("anon-rss %s", facts.KiB(f.AnonRSSKB))
		}
	case facts.BackOff:
		add("back-off %s", f.Delay)
	case facts.Segfault:
		add("%s[%d] at %s ip %s in %s", f.Process, f.PID, f.Addr, f.IP, f.Object)
	case facts.ExecFailure, facts.ConfigMissing, facts.ProbeFailure:
		add("%s %s", f.FailureKind, firstNonEmpty(f.Path, f.Name))
	case facts.ImagePull:
		add("%s", f.Image)
	case facts.Killing:
		if f.GracePeriod != nil {
			add("grace %ds", *f.GracePeriod)
		}
	}
	if f.Repeats > 0 && f.LastRef != nil {
		add("(+%d more until %s)", f.Repeats, f.LastRef.Time.UTC().Format("15:04:05"))
	}
	if f.Message != "" {
		add("— %s", f.Message)
	}
	return strings.TrimSpace(strings.Join(p, " "))
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// bundlesResult lists the store.
type bundleRow struct {
	BundleID   string    `json:"bundleId" yaml:"bundleId"`
	InstanceID string    `json:"instanceId" yaml:"instanceId"`
	Layout     string    `json:"layout" yaml:"layout"`
	Capture    time.Time `json:"captureTime" yaml:"captureTime"`
	Files      int       `json:"files" yaml:"files"`
	Origin     string    `json:"origin" yaml:"origin"`
}

func newBundlesCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "bundles",
		Short: "List the bundles in the store, newest capture first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := g.openStore()
			if err != nil {
				return err
			}
			all, err := st.List()
			if err != nil {
				return err
			}
			rows := []bundleRow{}
			for _, e := range all {
				m := e.Manifest
				rows = append(rows, bundleRow{m.ID, m.InstanceID, m.Layout, m.CaptureTime, len(m.Files), m.Origin})
			}
			return emit(g, &rows, func(w io.Writer) {
				fprintf(w, "BUNDLE\tINSTANCE\tLAYOUT\tCAPTURED (UTC)\tFILES\tORIGIN\n")
				for _, r := range rows {
					fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\n", r.BundleID, r.InstanceID, r.Layout, stamp(r.Capture), r.Files, r.Origin)
				}
				if len(rows) == 0 {
					fprintf(w, "(store %s is empty: nodediag import PATH)\n", st.Root)
				}
			})
		},
	}
}

func newVersionCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print nodediag's version, commit and build date, and its rule catalog's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cat, err := detect.Load()
			if err != nil {
				return err
			}
			b := buildinfo.Current()
			v := map[string]any{"version": b.Version, "commit": b.Commit, "date": b.Date, "modified": b.Modified,
				"catalogVersion": cat.Version, "rules": len(cat.Rules), "indexSchema": index.SchemaVersion}
			return emit(g, &v, func(w io.Writer) {
				fprintf(w, "nodediag %s (rule catalog %s, %d rules, index schema %d)\n", b, cat.Version, len(cat.Rules), index.SchemaVersion)
			})
		},
	}
}
