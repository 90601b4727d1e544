package agentcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nodediag/nodediag/internal/buildinfo"
	"github.com/nodediag/nodediag/internal/redact"
	"github.com/nodediag/nodediag/internal/store"
)

// Exit codes, as nodediag's.
const (
	ExitOK    = 0
	ExitError = 1
	ExitUsage = 2
)

// Root returns nodediag-agent's command: the agent command with the three flags it shares with
// nodediag's root (--store, --cache, --log-level) defined on itself. Logs go to stderr, redacted.
func Root(stderr io.Writer) *cobra.Command {
	var storeDir, cacheDir, logLevel string
	log := slog.New(slog.DiscardHandler)
	cmd := New("nodediag-agent", Globals{Store: &storeDir, Cache: &cacheDir, Log: func() *slog.Logger { return log }})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	// The same stamps as nodediag's: a DaemonSet's pods say which release they run.
	cmd.Version = buildinfo.Current().String()
	cmd.SetVersionTemplate("nodediag-agent {{.Version}}\n")
	cmd.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		var lvl slog.Level
		if err := lvl.UnmarshalText([]byte(logLevel)); err != nil {
			return usageError("--log-level %q: want debug, info, warn or error", logLevel)
		}
		// Log lines can quote what the node's files hold: secrets in them are redacted, as
		// nodediag's are unless --no-redact, which the agent does not have.
		log = slog.New(redact.Handler(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}), clean))
		return nil
	}
	f := cmd.Flags()
	f.StringVar(&storeDir, "store", store.DefaultRoot(), "folder holding imported bundles and their indexes, or a bucket: s3://B[/…?prefix=P/], file:///DIR")
	f.StringVar(&cacheDir, "cache", "", "with a bucket --store, the local folder that mirrors it (default: one per bucket under the default store)")
	f.StringVar(&logLevel, "log-level", "warn", "stderr log level: debug, info, warn, error")
	return cmd
}

// Main runs nodediag-agent with args and returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := Root(stderr)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	// An error can quote the node's files or the bucket's answer: redacted, as logs are.
	fmt.Fprintln(stderr, "nodediag-agent:", clean(err.Error()))
	var ue *UsageError
	if errors.As(err, &ue) || isUsage(err) {
		return ExitUsage
	}
	return ExitError
}

// clean redacts secrets and escapes terminal controls, as nodediag does to what it prints.
func clean(s string) string { return redact.Terminal(redact.String(s)) }

// isUsage recognises cobra's own argument and flag errors.
func isUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "invalid argument", "flag needs an argument"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
