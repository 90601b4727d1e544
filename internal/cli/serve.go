package cli

import (
	"io"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	"github.com/nodediag/nodediag/internal/mcpserver"
)

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

func newServeCmd(g *globals) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the node-log tools to an AI agent over MCP on standard input/output",
		Long: `serve speaks the Model Context Protocol over standard input and output (newline-delimited
JSON-RPC), so an agent following the K3 runbook can call errors, search, read, correlate, validate,
summarize, quick_triage, list_sops, get_sop and diagnose_crashloop against the bundles in the store.
Every tool is read-only. Logs go to stderr; stdout carries only the protocol.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := g.openStore()
			if err != nil {
				return err
			}
			c, err := loadRunbooks(dir)
			if err != nil {
				return err
			}
			srv := mcpserver.New(mcpserver.Options{Store: st, Runbooks: c, Version: Version})
			return srv.Run(cmd.Context(), &mcp.IOTransport{Reader: io.NopCloser(g.stdin), Writer: nopWriteCloser{g.stdout}})
		},
	}
	cmd.Flags().StringVar(&dir, "runbooks", "", "a folder of your own SOP files (*.md) served beside the built-ins")
	return cmd
}
