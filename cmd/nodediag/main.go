// Command nodediag explains why Kubernetes containers crash-loop, with proof from the worker
// node's own logs. See the README for the commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/nodediag/nodediag/internal/cli"
)

// gcPercent and memoryLimit trade a little memory for less collecting: a search that loads the
// rule catalog and the index and returns a page spent a third of its 60 ms in the collector at
// the default GOGC=100 (docs/performance.md). The soft limit bounds what that costs where the
// live heap grows with the bundle: importing the 4 GiB benchmark bundle peaks at 160 MiB RSS
// under it, 240 MiB at GOGC=100 with no limit, in the same time. GOGC and GOMEMLIMIT still win
// when set.
const (
	gcPercent   = 400
	memoryLimit = 128 << 20
)

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
