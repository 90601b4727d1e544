package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/nodediag/nodediag/internal/app"
	"github.com/nodediag/nodediag/internal/correlate"
	"github.com/nodediag/nodediag/internal/search"
)

func newSearchCmd(g *globals) *cobra.Command {
	var bf bundleFlags
	var win window
	var req search.Request
	var logTypes []string
	cmd := &cobra.Command{
		Use:   "search QUERY",
		Short: "Grep every line of every file of the bundle with an RE2 regex (case-insensitive by default)",
		Long: `search runs an RE2 regex over every line of every text file of the bundle, case-insensitive
unless --case-sensitive. Matches come grouped by file, numbered S-001…, with file, line, byte offset
and parsed time. --log-types keeps only files of those log types (in messages and the logdog journal a
line also counts as the program that wrote it). A result cut by --max-per-file or --max-results lists
the incident first — the lines around the newest crash loop (or --incident-time, or the newest lines of
the window), in file and line order — counts healthy starts and exit-0 lines instead of listing them,
says which log types or hours hold most matches, and prints the commands that get the rest.`,
		Example: `  nodediag search 'oom-kill|OOMKilled|Out of memory|Memory cgroup out of memory|oom_score'
  nodediag search 'CrashLoopBackOff|Back-off restarting|exit code' --log-types kubelet --incident-time '2026-11-20 08:20'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, idx, err := bf.open(cmd.Context(), g)
			if err != nil {
				return err
			}
			w, err := win.resolve(idx.Time.Capture)
			if err != nil {
				return err
			}
			req.From, req.To, req.Around = w.From, w.To, w.Incident
			req.Query = args[0]
			req.LogTypes = splitList(logTypes)
			res, err := search.Search(cmd.Context(), e, idx, req)
			if err != nil {
				return app.Rename(err, app.CLISearchNames)
			}
			for i := range res.Next {
				res.Next[i].Call = searchCommand(cmd, args, res.Next[i])
			}
			for i, n := range res.Narrow {
				res.Narrow[i] = cliNarrowWords.Replace(n)
			}
			return emit(g, &res, func(w io.Writer) { printSearch(w, res) })
		},
	}
	bf.register(cmd)
	win.register(cmd)
	f := cmd.Flags()
	f.StringVar(&req.Exclude, "exclude", "", "drop lines matching this RE2 regex")
	f.BoolVar(&req.CaseSensitive, "case-sensitive", false, "match case exactly")
	f.StringSliceVar(&logTypes, "log-types", nil, "only these log types, comma-separated (kubelet, containerd, dmesg, messages, …)")
	f.IntVar(&req.MaxPerFile, "max-per-file", search.DefaultMaxPerFile, fmt.Sprintf("matches listed per file (cap %d)", search.CapMaxPerFile))
	f.IntVar(&req.MaxTotal, "max-results", search.DefaultMaxTotal, fmt.Sprintf("matches listed in all (cap %d)", search.CapMaxTotal))
	f.IntVarP(&req.Context, "context", "C", 0, fmt.Sprintf("lines of context before and after each match (cap %d)", search.CapContext))
	f.IntVar(&req.Offset, "offset", 0, "skip this many matches of a cut result's incident-first order (its next offset)")
	f.BoolVar(&req.ListRoutine, "list-routine", false, "list healthy starts and exit-0 lines instead of counting them")
	f.BoolVar(&req.ExactTotal, "exact-total", false, "read every block the query can match in for exact counts, instead of stopping once the listed page is certain")
	f.BoolVar(&req.CountOnly, "count", false, "list no matches: print the exact number of matching lines of each file, as rg -c does")
	return cmd
}

// cliNarrowWords spells search's narrowing hints as this command's flags.
var cliNarrowWords = strings.NewReplacer("logTypes=", "--log-types ", "from=", "--start ", " to=", " --end ")

// readCommand writes the command that reads the next page.
func readCommand(cmd *cobra.Command, args []string, next search.NextRange) string {
	set := map[string]string{"start-line": "", "start-byte": "", "end-byte": ""}
	if next.EndByte > 0 {
		set["start-byte"], set["end-byte"] = fmt.Sprint(next.StartByte), fmt.Sprint(next.EndByte)
	} else {
		set["start-line"] = fmt.Sprint(next.StartLine)
	}
	return commandLine(cmd, args, set)
}

// searchCommand writes the command line that gets what a cut result did not list: this one,
// with the offset, window or --list-routine the search proposes.
func searchCommand(cmd *cobra.Command, args []string, n search.Next) string {
	set := map[string]string{"offset": ""}
	if n.Offset > 0 {
		set["offset"] = fmt.Sprint(n.Offset)
	}
	if n.Window {
		set["incident-time"], set["last"], set["start"], set["end"] = "", "", whenFlag(n.From), whenFlag(n.To)
	}
	if n.ListRoutine {
		set["list-routine"] = "true"
	}
	return commandLine(cmd, args, set)
}

func whenFlag(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// commandLine rewrites the command as it was run: its arguments and the flags the user set,
// with the flags in set replaced (an empty value drops the flag).
func commandLine(cmd *cobra.Command, args []string, set map[string]string) string {
	parts := []string{cmd.CommandPath()}
	for _, a := range args {
		parts = append(parts, shellQuote(a))
	}
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if _, replaced := set[f.Name]; replaced || !f.Changed {
			return
		}
		v := f.Value.String()
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			v = strings.Join(sv.GetSlice(), ",")
		}
		parts = append(parts, "--"+f.Name+"="+shellQuote(v))
	})
	names := make([]string, 0, len(set))
	for name := range set {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if v := set[name]; v != "" {
			parts = append(parts, "--"+name+"="+shellQuote(v))
		}
	}
	return strings.Join(parts, " ")
}

// shellQuote quotes a word for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:,=+@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func splitList(v []string) []string {
	var out []string
	for _, s := range v {
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func printSearch(w io.Writer, res *search.Result) {
	total, read := fmt.Sprintf("%d matches", res.Total), ""
	if !res.TotalExact {
		total, read = fmt.Sprintf("at least %d matches", res.Total), " read"
		if res.TotalAtMost >= 0 {
			total = fmt.Sprintf("%d to %d matches", res.Total, res.TotalAtMost)
		}
	}
	fprintf(w, "query %q: %s in %d files (%d files searched in full, %.1f MiB read)\n", res.Query, total, len(res.Files), res.Searched, float64(res.BytesScanned)/(1<<20))
	for _, fm := range res.Files {
		more := ""
		if fm.Truncated {
			more = fmt.Sprintf(", %d listed", len(fm.Matches))
		}
		fprintf(w, "\n== %s (%s): %d matches%s%s\n", fm.File, fm.LogType, fm.Total, read, more)
		for _, m := range fm.Matches {
			for _, c := range m.Before {
				fprintf(w, "\t%d-\t\t%s\n", c.Line, c.Text)
			}
			fprintf(w, "%s\t%d:\t%s\t%s\n", m.ID, m.Line, stampPrecise(m.Time), m.Text)
			for _, c := range m.After {
				fprintf(w, "\t%d-\t\t%s\n", c.Line, c.Text)
			}
		}
	}
	if res.Truncated {
		fprintf(w, "\nresult truncated: %d of %s listed\n", res.Returned, total)
	}
	if f := res.Focus; f != nil {
		fprintf(w, "incident first: %s; listed %d of %d inside, %d of %d before, %d of %d after, %d of %d untimed\n", f.Why,
			f.Inside.Listed, f.Inside.Matches, f.Before.Listed, f.Before.Matches, f.After.Listed, f.After.Matches, f.Untimed.Listed, f.Untimed.Matches)
	}
	for _, c := range res.Collapsed {
		fprintf(w, "collapsed: %s\n", c.Summary)
	}
	for _, n := range res.Next {
		fprintf(w, "more: %s:\n  %s\n", n.What, n.Call)
	}
	for _, n := range res.Narrow {
		fprintf(w, "narrow: %s\n", n)
	}
	for _, s := range res.Skipped {
		fprintf(w, "skipped: %s (%s): %s\n", s.File, s.LogType, s.Reason)
	}
	for _, n := range res.Notes {
		fprintf(w, "note: %s\n", n)
	}
}

func newReadCmd(g *globals) *cobra.Command {
	var bf bundleFlags
	var req search.ReadRequest
	cmd := &cobra.Command{
		Use:   "read LOGKEY",
		Short: "Print lines of one file of the bundle by line number (negative counts from the end) or byte range",
		Example: `  nodediag read kubelet/kubelet.log --start-line 1790 --line-count 20
  nodediag read var_log/messages --start-line -50
  nodediag read containerd/containerd-log.txt --start-byte 158951578 --end-byte 158952578`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, idx, err := bf.open(cmd.Context(), g)
			if err != nil {
				return err
			}
			req.LogKey = args[0]
			res, err := search.Read(cmd.Context(), e, idx, req)
			if err != nil {
				return app.Rename(err, app.CLIReadNames)
			}
			if res.NextRange != nil {
				res.Next = readCommand(cmd, args, *res.NextRange)
			}
			return emit(g, &res, func(w io.Writer) {
				fprintf(w, "%s (%s): lines %d–%d of %d, bytes %d–%d of %d\n", res.File, res.LogType, res.StartLine, res.EndLine, res.TotalLines, res.StartByte, res.EndByte, res.TotalBytes)
				for _, l := range res.Lines {
					fprintf(w, "%d\t%s\n", l.No, l.Text)
				}
				if res.More {
					fprintf(w, "more:\n  %s\n", res.Next)
				}
			})
		},
	}
	bf.register(cmd)
	f := cmd.Flags()
	f.IntVar(&req.StartLine, "start-line", 1, "first line (1-based); negative counts from the end: -200 is the last 200 lines")
	f.IntVar(&req.LineCount, "line-count", 200, "lines to print (cap 10000)")
	f.Int64Var(&req.StartByte, "start-byte", 0, "byte mode: first byte (widened to a line start)")
	f.Int64Var(&req.EndByte, "end-byte", 0, "byte mode: end byte (at most 1 MiB after --start-byte; widened to a line end)")
	return cmd
}

func newCorrelateCmd(g *globals) *cobra.Command {
	var bf bundleFlags
	var req correlate.Request
	var seconds int
	var pod string
	var components []string
	cmd := &cobra.Command{
		Use:   "correlate",
		Short: "Time-ordered crash timeline around a pivot event, with causal chains, crash frequency and gaps",
		Long: `correlate builds a time-ordered timeline of crash facts and findings around each occurrence of a
pivot: a finding id (F-007), a crash-fact kind (OOMKill, BackOff, ContainerExit, …) or a regex; the
default is CrashLoopBackOff. It joins each container death into a causal chain — kernel OOM kill →
containerd exit → kubelet exit code → back-off — by container ID, pod UID and PID only, citing the line
of every link and saying which link is unproven; counts restarts and the back-off ladder; and lists
gaps: absent sources, events without time, clocks that disagree.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if seconds <= 0 {
				return usageError("--time-window %d: want seconds > 0 (at most %d)", seconds, int(correlate.MaxWindow.Seconds()))
			}
			req.Window = time.Duration(seconds) * time.Second
			req.Components = splitList(components)
			if pod != "" {
				if i := strings.IndexByte(pod, '/'); i >= 0 {
					req.Namespace, req.Pod = pod[:i], pod[i+1:]
				} else {
					req.Pod = pod
				}
			}
			_, idx, err := bf.open(cmd.Context(), g)
			if err != nil {
				return err
			}
			res, err := correlate.Correlate(cmd.Context(), idx, req)
			if err != nil {
				return err
			}
			for i := range res.Next {
				n := res.Next[i]
				set := map[string]string{"offset": ""}
				if n.Offset > 0 {
					set["offset"] = fmt.Sprint(n.Offset)
				}
				if n.ListRoutine {
					set["list-routine"] = "true"
				}
				res.Next[i].Call = commandLine(cmd, args, set)
			}
			return emit(g, &res, func(w io.Writer) { printCorrelate(w, res) })
		},
	}
	bf.register(cmd)
	f := cmd.Flags()
	f.StringVar(&req.Pivot, "pivot", "CrashLoopBackOff", "finding id (F-007), crash-fact kind (OOMKill, BackOff, ContainerExit, …) or regex")
	f.IntVar(&seconds, "time-window", int(correlate.DefaultWindow.Seconds()), "seconds before and after each pivot occurrence")
	f.StringSliceVar(&components, "components", nil, "only events from these log types (kubelet, containerd, dmesg, messages, …)")
	f.StringVar(&pod, "pod", "", "only this pod: NAMESPACE/NAME or NAME")
	f.StringVar(&req.Container, "container", "", "only this container name")
	f.IntVar(&req.MaxEvents, "max-events", correlate.DefaultMaxEvents, "timeline events listed")
	f.IntVar(&req.Offset, "offset", 0, "skip this many events of a cut timeline's order (its next offset)")
	f.BoolVar(&req.ListRoutine, "list-routine", false, "list routine (low and info) finding lines instead of counting them")
	return cmd
}

func printCorrelate(w io.Writer, res *correlate.Result) {
	fprintf(w, "pivot %s: %d occurrences, window ±%s\n", res.Pivot, res.Occurrences, res.Window)
	for _, win := range res.Windows {
		fprintf(w, "  window %s – %s UTC (%d occurrences)\n", stamp(win.Start), stamp(win.End), win.Occurrences)
	}
	if len(res.Timeline) > 0 {
		fprintf(w, "\nTIME (UTC)\tCOMPONENT\tEVENT\tPOD/CONTAINER\tSUMMARY\tSOURCE\n")
		for _, ev := range res.Timeline {
			what := string(ev.FactKind)
			if ev.Kind == "finding" {
				what = ev.FindingID + " " + ev.Rule
			}
			who := ev.Container
			if ev.Pod != "" {
				who = ev.Namespace + "/" + ev.Pod + "/" + ev.Container
			}
			if who == "" {
				who = "-"
			}
			mark := ""
			if ev.Pivot {
				mark = " ◀"
			}
			fprintf(w, "%s\t%s\t%s%s\t%s\t%s\t%s\n", stampPrecise(ev.Time), ev.Component, what, mark, who, clip(ev.Summary, 80), ev.Ref.String())
		}
	}
	if len(res.Chains) > 0 {
		fprintf(w, "\nCAUSAL CHAINS\n")
		for _, c := range res.Chains {
			state := "complete"
			if !c.Complete {
				state = "unproven: " + strings.Join(c.Unproven, ", ")
			}
			fprintf(w, "%s  %s  %s/%s/%s (%s)\n", stamp(c.Time), c.Cause, c.Namespace, c.Pod, c.Container, state)
			for _, l := range c.Links {
				src := l.Why
				if l.Ref != nil {
					src = l.Ref.String()
				}
				fprintf(w, "\t%s\t%s\t%s\t%s\n", l.Step, l.Status, clip(l.Summary, 70), src)
			}
		}
	}
	if len(res.Frequency) > 0 {
		fprintf(w, "\nCRASH FREQUENCY\n")
		for _, f := range res.Frequency {
			fprintf(w, "%s/%s/%s\t%d restarts %s – %s\tmax %d per 10 min, %d per hour\tback-offs %s\texit codes %v\n",
				f.Namespace, f.Pod, f.Container, f.Restarts, stamp(f.First), stamp(f.Last), f.PerTenMinutes, f.PerHour, strings.Join(f.BackOffs, " → "), f.ExitCodes)
		}
	}
	for _, c := range res.Collapsed {
		fprintf(w, "collapsed: %s\n", c.Summary)
	}
	for _, n := range res.Next {
		fprintf(w, "more: %s:\n  %s\n", n.What, n.Call)
	}
	for _, gp := range res.Gaps {
		fprintf(w, "gap: %s\n", gp)
	}
	for _, n := range res.Notes {
		fprintf(w, "note: %s\n", n)
	}
}

func newValidateCmd(g *globals) *cobra.Command {
	var bf bundleFlags
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Say whether a bundle holds the evidence a crash diagnosis needs: sources, their time spans, what is missing",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			e, idx, err := bf.open(cmd.Context(), g)
			if err != nil {
				return err
			}
			v := correlate.Validate(e, idx)
			if err := emit(g, &v, func(w io.Writer) {
				verdict := "complete"
				if !v.Complete {
					verdict = "INCOMPLETE: " + v.Reason
				}
				fprintf(w, "bundle %s  instance %s  layout %s  captured %s UTC  %d files, %.1f MiB\n%s\n\n", v.BundleID, v.InstanceID, v.Layout, stamp(v.Capture), v.Files, float64(v.Bytes)/(1<<20), verdict)
				fprintf(w, "SOURCE\tPRESENT\tREQUIRED\tFILES\tMIB\tFIRST (UTC)\tLAST (UTC)\tNOTE\n")
				for _, s := range v.Sources {
					fprintf(w, "%s\t%v\t%v\t%d\t%.1f\t%s\t%s\t%s\n", s.Name, s.Present, s.Required, s.Files, float64(s.Bytes)/(1<<20), stamp(s.First), stamp(s.Last), s.Note)
				}
				for _, wn := range v.Warnings {
					fprintf(w, "warning: %s\n", wn)
				}
			}); err != nil {
				return err
			}
			if !v.Complete {
				return &exitError{code: ExitPartial}
			}
			return nil
		},
	}
	bf.register(cmd)
	return cmd
}
