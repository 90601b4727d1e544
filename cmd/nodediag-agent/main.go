// Command nodediag-agent is the capture agent alone, `nodediag agent` in a binary of its own for
// the DaemonSet (charts/nodediag, agent.enabled): it links the agent, its store and the s3:// and
// file:// bucket drivers, not nodediag's other commands, so that idle on a node of 110 pods it
// stays within its memory budget (docs/performance.md, the capture agent).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/nodediag/nodediag/internal/agentcmd"
)

// main keeps the Go runtime's default GOGC, unlike nodediag's 400: nodediag trades memory for less
// collecting on big imports, and the agent's budget is memory, its heap small and steady.
func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := agentcmd.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
