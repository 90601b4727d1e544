package cli

import (
	"errors"
	"io"
	"log/slog"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	"github.com/nodediag/nodediag/internal/mcpserver"
)

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

func newServeCmd(g *globals) *cobra.Command {
	var (
		dir      string
		listen   string
		hopts    mcpserver.HTTPOptions
		maxBody  int64
		insecure bool
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the node-log tools to an AI agent over MCP (stdio, or streamable HTTP with --listen)",
		Long: `serve speaks the Model Context Protocol so that an agent following the K3 runbook can call
errors, search, read, correlate, validate, summarize, quick_triage, list_sops, get_sop and
diagnose_crashloop against the bundles in the store. Every tool is read-only.

Without --listen it speaks over standard input and output (newline-delimited JSON-RPC): stdout
carries only the protocol, logs go to stderr.

With --listen ADDR (e.g. 127.0.0.1:8080) it serves the MCP streamable HTTP transport:
  /mcp      the MCP endpoint (sessions, server-sent events)
  /healthz  200 "ok", without authentication, for liveness probes
  /metrics  Prometheus metrics: nodediag_mcp_tool_calls_total{tool,outcome},
            nodediag_mcp_tool_duration_seconds{tool}, Go and process metrics
/mcp and /metrics require "Authorization: Bearer <token>", the token being the contents of
--auth-token-file (at least 16 bytes; e.g. openssl rand -hex 32 > token && chmod 600 token).
--insecure-no-auth drops the token, and is refused unless ADDR is a loopback address.
Request bodies over --max-body-bytes are refused with 413. SIGINT or SIGTERM shuts the server
down gracefully: calls in flight finish, sessions are closed, within 10 seconds.`,
		Example: `  nodediag serve
  nodediag serve --listen 0.0.0.0:8080 --auth-token-file /etc/nodediag/token
  nodediag serve --listen 127.0.0.1:8080 --insecure-no-auth`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if listen == "" {
				// The HTTP flags without --listen would silently do nothing: say so.
				for _, f := range []string{"auth-token-file", "insecure-no-auth", "max-body-bytes"} {
					if cmd.Flags().Changed(f) {
						return usageError("--%s applies to the HTTP server: give --listen ADDR too", f)
					}
				}
			}
			if maxBody < 0 {
				return usageError("--max-body-bytes %d: want a positive number of bytes", maxBody)
			}
			st, err := g.openStore()
			if err != nil {
				return err
			}
			c, err := loadRunbooks(dir)
			if err != nil {
				return err
			}
			srv := mcpserver.New(mcpserver.Options{Store: st, Runbooks: c, Version: Version})
			if listen == "" {
				return srv.Run(cmd.Context(), &mcp.IOTransport{Reader: io.NopCloser(g.stdin), Writer: nopWriteCloser{g.stdout}})
			}
			hopts.Addr, hopts.InsecureNoAuth, hopts.MaxBodyBytes = listen, insecure, maxBody
			hopts.Logger = g.log
			if !cmd.Flag("log-level").Changed {
				// The default level (warn) would hide the address being served, which is what a
				// user starting a server looks for first (with :0, the only way to learn the port).
				hopts.Logger = slog.New(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
			}
			if err := mcpserver.ServeHTTP(cmd.Context(), srv, hopts); err != nil {
				if errors.Is(err, mcpserver.ErrConfig) {
					return &exitError{code: ExitUsage, err: err}
				}
				return err
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "runbooks", "", "a folder of your own SOP files (*.md) served beside the built-ins")
	f.StringVar(&listen, "listen", "", "serve MCP over streamable HTTP on this host:port instead of stdio")
	f.StringVar(&hopts.TokenFile, "auth-token-file", "", "file holding the bearer token HTTP clients must send")
	f.BoolVar(&insecure, "insecure-no-auth", false, "serve HTTP without a token (loopback --listen only)")
	f.Int64Var(&maxBody, "max-body-bytes", mcpserver.DefaultMaxBodyBytes, "largest HTTP request body accepted")
	return cmd
}
