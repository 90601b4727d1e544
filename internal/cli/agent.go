package cli

import (
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/nodediag/nodediag/internal/agentcmd"
)

// newAgentCmd is `nodediag agent`: the command nodediag-agent runs (internal/agentcmd), under
// nodediag's root and its --store, --cache and --log-level.
func newAgentCmd(g *globals) *cobra.Command {
	return agentcmd.New("nodediag agent", agentcmd.Globals{Store: &g.storeDir, Cache: &g.cacheDir, Log: func() *slog.Logger { return g.log }})
}
