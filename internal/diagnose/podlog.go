package diagnose

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/nodediag/nodediag/internal/apperr"
	"github.com/nodediag/nodediag/internal/search"
)

// podLogTail is how much of a container's own log is read for its last words: the error that
// ended a process is printed at its end, and a traceback or a Caused-by chain fits.
const podLogTail = 400

// previousFromBundle reads the target container's own log from the bundle when the caller gave
// no previous log. Bundles copy the CRI logs of system pods (aws-node, kube-proxy, CoreDNS, the CSI
// drivers) as <ns>_<pod>_<uid>/<container>/<restart>.log; the file of the newest failing
// instance is what `kubectl logs --previous` would return.
func (c *crash) previousFromBundle(ctx context.Context, in Input) ([]Line, apperr.Report, error) {
	file := c.podLogFile()
	if file == "" {
		return nil, apperr.Report{}, nil
	}
	res, err := search.Read(ctx, in.Entry, c.idx, search.ReadRequest{LogKey: file, StartLine: -podLogTail, LineCount: podLogTail, MaxLineBytes: maxQuotedBytes})
	if err != nil {
		return nil, apperr.Report{}, fmt.Errorf("diagnose: read the container's own log %s: %w", file, err)
	}
	if len(res.Lines) == 0 {
		return nil, apperr.Report{}, nil
	}
	var b strings.Builder
	for _, l := range res.Lines {
		b.WriteString(l.Text)
		b.WriteByte('\n')
	}
	first := res.Lines[0].No
	lines, app := previousErrorsAt(b.String(), func(i int) string { return fmt.Sprintf("%s:%d", file, first+i-1) })
	return lines, app, nil
}

// podLogFile finds the log file of the target's newest failing instance: the directory copy
// numbered with that instance's restart attempt, else the highest-numbered one (a container in
// back-off has no newer instance), else the flat copy named with its container ID.
func (c *crash) podLogFile() string {
	if c.t.pod == "" || c.t.container == "" {
		return ""
	}
	var cid string
	attempt := -1
	if e := c.newestExit(); e != nil {
		cid = e.ContainerID
		for _, ci := range c.idx.Containers {
			if ci.ContainerID == cid && ci.Attempt != nil {
				attempt = *ci.Attempt
			}
		}
	}
	dir := c.t.ns + "_" + c.t.pod + "_"
	best, bestN, flat := "", -1, ""
	for _, f := range c.idx.Files {
		p := f.Path
		base := path.Base(p)
		if cid != "" && strings.HasSuffix(base, "_"+c.t.container+"-"+cid+".log") {
			flat = p
			continue
		}
		parent := path.Base(path.Dir(p))
		grand := path.Base(path.Dir(path.Dir(p)))
		if parent != c.t.container || !strings.HasPrefix(grand, dir) || !strings.HasSuffix(base, ".log") {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSuffix(base, ".log"))
		if err != nil {
			continue
		}
		if n == attempt {
			return p
		}
		if n > bestN {
			best, bestN = p, n
		}
	}
	if flat != "" && attempt < 0 {
		return flat
	}
	return best
}
