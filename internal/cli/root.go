// Package cli is nodediag's command line: cobra commands, their flags, and the table, JSON and
// YAML printers. Data goes to stdout; logs and progress go to stderr.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nodediag/nodediag/internal/agentcmd"
	"github.com/nodediag/nodediag/internal/app"
	_ "github.com/nodediag/nodediag/internal/blobdrivers" // --store and import take every bucket gocloud.dev knows
	"github.com/nodediag/nodediag/internal/correlate"
	"github.com/nodediag/nodediag/internal/diagnose"
	"github.com/nodediag/nodediag/internal/kube"
	"github.com/nodediag/nodediag/internal/redact"
	"github.com/nodediag/nodediag/internal/remote"
	"github.com/nodediag/nodediag/internal/search"
	"github.com/nodediag/nodediag/internal/store"
)

// Exit codes, shared by every command.
const (
	ExitOK       = 0
	ExitFindings = 1 // findings at or above --fail-on
	ExitUsage    = 2
	ExitPartial  = 3 // the work was done on part of the input; the output says what is missing
)

// exitError carries an exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

func usageError(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

// globals are the flags every command shares.
type globals struct {
	storeDir string
	output   string
	logLevel string
	noRedact bool // --no-redact: the local user asked to see secrets as the bundle has them
	stdin    io.Reader
	stdout   io.Writer
	stderr   io.Writer
	log      *slog.Logger
	ctx      context.Context // the command's, set before it runs
	cacheDir string          // --cache: the local mirror of a bucket store
	remote   *remote.Store   // the bucket --store names, once opened
	st       *store.Store    // the store --store names, once opened
}

// openStore opens the store --store names: a folder, or a bucket mirrored into a local cache
// (internal/remote).
func (g *globals) openStore() (*store.Store, error) {
	// One command asks for the store in several places (the bundle, the pod's node, the other
	// nodes); opening it once spares a cleanup scan of every bundle folder each time.
	if g.st != nil {
		return g.st, nil
	}
	var err error
	if remote.IsURL(g.storeDir) {
		g.st, err = g.openRemote(g.ctx)
	} else {
		g.st, err = store.Open(g.storeDir, g.log)
	}
	return g.st, err
}

// Main runs nodediag with args and returns the process exit code. `serve` reads MCP requests
// from standard input.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return MainIO(ctx, args, os.Stdin, stdout, stderr)
}

// MainIO is Main with the standard input given, for tests of `serve`.
func MainIO(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	g := &globals{stdin: stdin, stdout: stdout, stderr: stderr}
	root := newRoot(g)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if perr := g.publishRemote(ctx); perr != nil && err == nil {
		err = perr
	}
	if g.remote != nil {
		g.remote.Close()
	}
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, "nodediag:", g.clean(ee.err.Error()))
		}
		return ee.code
	}
	// An error can quote the bundle (a member's name, a line): it is text from outside too.
	fmt.Fprintln(stderr, "nodediag:", g.clean(err.Error()))
	var agentUsage *agentcmd.UsageError
	if isUsage(err) || errors.As(err, &agentUsage) || errors.Is(err, search.ErrBadRequest) || errors.Is(err, app.ErrBadRequest) || errors.Is(err, correlate.ErrInvalidRequest) ||
		errors.Is(err, diagnose.ErrInput) || errors.Is(err, kube.ErrInput) {
		return ExitUsage
	}
	return 1
}

// isUsage recognises cobra's own argument and flag errors.
func isUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires at least", "invalid argument", "flag needs an argument", "required flag"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

func newRoot(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "nodediag",
		Short: "Explain why Kubernetes containers crash-loop, with proof from the worker node's logs",
		Long: `nodediag reads every line of a worker-node log bundle (EKS log collector, node monitoring
agent, Bottlerocket logdog), parses every timestamp, and indexes findings and typed crash facts
(container exits, OOM kills, segfaults, back-offs, exec and config failures) with their file:line.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			var lvl slog.Level
			if err := lvl.UnmarshalText([]byte(g.logLevel)); err != nil {
				return usageError("--log-level %q: want debug, info, warn or error", g.logLevel)
			}
			g.ctx = cmd.Context()
			g.log = slog.New(redact.Handler(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: lvl}), g.cleaner(redact.Terminal)))
			switch g.output {
			case "table", "json", "yaml":
			default:
				return usageError("-o %q: want table, json or yaml", g.output)
			}
			return nil
		},
	}
	root.Version = versionLine()
	if asKubectlPlugin() {
		root.Annotations = map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl nodediag"}
	}
	root.SetVersionTemplate("nodediag {{.Version}}\n")
	pf := root.PersistentFlags()
	pf.StringVar(&g.storeDir, "store", store.DefaultRoot(), "folder holding imported bundles and their indexes, or a bucket: s3://B[/…?prefix=P/], gs://B, azblob://C, file:///DIR")
	pf.StringVar(&g.cacheDir, "cache", "", "with a bucket --store, the local folder that mirrors it (default: one per bucket under the default store)")
	pf.StringVarP(&g.output, "output", "o", "table", "output format: table, json or yaml")
	_ = root.RegisterFlagCompletionFunc("output", completeOutput)
	pf.StringVar(&g.logLevel, "log-level", "warn", "stderr log level: debug, info, warn, error")
	pf.BoolVar(&g.noRedact, "no-redact", false, "print secrets found in bundles (keys, tokens, passwords) as they are instead of [REDACTED:…]")
	root.AddCommand(newImportCmd(g), newIndexCmd(g), newErrorsCmd(g), newFactsCmd(g), newSearchCmd(g), newReadCmd(g), newCorrelateCmd(g), newValidateCmd(g),
		newDiagnoseCmd(g), newReportCmd(g), newTriageCmd(g), newSummarizeCmd(g), newSOPsCmd(g), newSOPCmd(g), newServeCmd(g),
		newBundlesCmd(g), newFleetCmd(g), newCompareNodesCmd(g), newDoctorCmd(g), newRulesCmd(g), newVersionCmd(g), newCollectCmd(g), newStatusCmd(g),
		newClusterHealthCmd(g), newCloudWatchLogsCmd(g), newExportCmd(g), newIndexJobCmd(g), newAgentCmd(g))
	return root
}
