package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/nodediag/nodediag/internal/app"
	"github.com/nodediag/nodediag/internal/cloud"
	"github.com/nodediag/nodediag/internal/collect"
	"github.com/nodediag/nodediag/internal/kube"
	"github.com/nodediag/nodediag/internal/progress"
	"github.com/nodediag/nodediag/internal/store"
)

// nodegroupLister is the part of the AWS side that lists a managed node group's instances.
type nodegroupLister interface {
	NodegroupInstances(ctx context.Context, cluster, nodegroup, region string) ([]cloud.Instance, error)
}

// batchView is what collect prints for many nodes.
type batchView struct {
	*collect.Batch `yaml:",inline"`
	Started        int    `json:"started" yaml:"started"`
	NotStarted     int    `json:"notStarted" yaml:"notStarted"`
	Next           string `json:"nextStep" yaml:"nextStep"`
}

// collectMany starts the SSM collection on every node the flags choose, prints one row per node
// and, with --wait, follows the batch to its end. Exit 3 when some nodes could not be started,
// 1 when none was.
func (g *globals) collectMany(ctx context.Context, st *store.Store, f *collectFlags, bar *progress.Renderer) error {
	aws, err := f.collectAWS(ctx, "each node's bundle")
	if err != nil {
		return err
	}
	var targets []app.CollectTarget
	var source string
	switch {
	case f.nodegroup != "":
		ng, ok := aws.(nodegroupLister)
		if !ok {
			return errors.New("this AWS configuration cannot list node groups")
		}
		source = fmt.Sprintf("node group %s of cluster %s", f.nodegroup, f.cluster)
		if targets, err = app.NodegroupTargets(ctx, ng, f.cluster, f.nodegroup, f.region); err != nil {
			return err
		}
	case f.selector != "":
		cfg, _, err := kube.LoadConfig(f.kubeconfig, f.kubeContext)
		if err != nil {
			return fmt.Errorf("--selector lists nodes through the Kubernetes API: want a kubeconfig that reaches the cluster (--kubeconfig, $KUBECONFIG or ~/.kube/config, and --context): %w", err)
		}
		c, err := kube.NewClientForConfig(cfg)
		if err != nil {
			return err
		}
		source = "nodes matching " + f.selector
		if targets, err = app.SelectorTargets(ctx, c, f.selector); err != nil {
			return err
		}
	default:
		source = "instance ids"
		for _, id := range f.instanceIDs {
			targets = append(targets, app.CollectTarget{InstanceID: id, Region: f.region})
		}
	}
	col, err := collect.New(st, aws, g.log)
	if err != nil {
		return err
	}
	var barMu sync.Mutex // Done runs on every start's goroutine
	b, err := app.CollectMany(ctx, col, app.CollectManyRequest{Targets: targets, Source: source, IdempotencyToken: f.token,
		Concurrency: f.concurrency, Done: func(n collect.BatchNode, done, total int) {
			barMu.Lock()
			defer barMu.Unlock()
			bar.Steps("start", done, total, n.InstanceID)
		}})
	bar.Done()
	if err != nil {
		return err
	}
	v := batchView{Batch: b, Next: "nodediag status --batch " + b.ID + " --wait"}
	v.Started = len(b.StartedExecutions())
	v.NotStarted = len(b.Nodes) - v.Started
	if !f.wait || v.Started == 0 {
		if err := emit(g, &v, func(w io.Writer) {
			fprintf(w, "batch\t%s (%s)\n\n", v.ID, v.Source)
			fprintf(w, "INSTANCE\tNODE\tEXECUTION\tERROR\n")
			for _, n := range v.Nodes {
				fprintf(w, "%s\t%s\t%s\t%s\n", orDash(n.InstanceID), orDash(n.NodeName), orDash(n.ExecutionID), orDash(n.Error))
			}
			fprintf(w, "\n%d started, %d not started\nnext\t%s\n", v.Started, v.NotStarted, v.Next)
		}); err != nil {
			return err
		}
		return startedExit(v.Started, v.NotStarted)
	}
	if g.output == "table" {
		fmt.Fprintf(g.stderr, "batch %s: %d collections started, %d not; waiting up to %s (Ctrl-C leaves them running: `%s`)\n",
			b.ID, v.Started, v.NotStarted, f.timeout, v.Next)
	}
	// Following downloads and imports each node's bundle: as many at once as import would run,
	// not --concurrency, which bounds cheap API calls.
	return g.followBatch(ctx, col, b, app.DefaultImportJobs(), f.pollInterval, f.timeout, true, bar)
}

// startedExit is the exit of a batch start: 3 when some nodes were not started, 1 when none was.
func startedExit(started, notStarted int) error {
	switch {
	case notStarted == 0:
		return nil
	case started == 0:
		return fmt.Errorf("no collection started on any of the %d nodes: see each node's error", notStarted)
	}
	return &exitError{code: ExitPartial, err: fmt.Errorf("%d of %d nodes not started: see their errors; the others are collecting",
		notStarted, started+notStarted)}
}

// followBatch advances every node of the batch (poll, download, import), jobs nodes at a time,
// once or, with wait, until all have ended or timeout passes, then prints one row per node.
// Exit 3 when nodes failed or never started while others succeeded, 1 when none succeeded.
func (g *globals) followBatch(ctx context.Context, col *collect.Collector, b *collect.Batch, jobs int, every, timeout time.Duration, wait bool, bar *progress.Renderer) error {
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	defer scaleMemoryLimit(jobs)()
	var s *app.BatchStatus
	for {
		s = app.FollowMany(wctx, col, b.Nodes, jobs)
		s.BatchID, s.Source = b.ID, b.Source
		if !wait || s.Finished() {
			break
		}
		bar.Steps("batch", len(s.Nodes)-s.Counts[collect.StateRunning]-s.Counts[app.StateUnknown], len(s.Nodes),
			fmt.Sprintf("%d indexed", s.Indexed))
		t := time.NewTimer(every)
		select {
		case <-wctx.Done():
			t.Stop()
		case <-t.C:
		}
		if wctx.Err() != nil {
			break
		}
	}
	bar.Done()
	if err := g.printBatchStatus(s); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("stopped following the batch (the collections go on; `nodediag status --batch %s`): %w", b.ID, err)
	}
	if !s.Finished() {
		if wait {
			return fmt.Errorf("%d of %d nodes are still collecting after --timeout %s; they go on without nodediag: `nodediag status --batch %s --wait`",
				s.Counts[collect.StateRunning]+s.Counts[app.StateUnknown], len(s.Nodes), timeout, b.ID)
		}
		return nil
	}
	ok := s.Counts[collect.StateCompleted]
	switch bad := len(s.Nodes) - ok; {
	case bad == 0:
		return nil
	case ok == 0 && b.ID == "":
		return fmt.Errorf("none of the %d executions was collected: see each one's reason", len(s.Nodes))
	case ok == 0:
		return fmt.Errorf("no node of batch %s was collected: see each node's reason", b.ID)
	default:
		return &exitError{code: ExitPartial, err: fmt.Errorf("%d of %d nodes were not collected: see their reasons; the bundles of the others are indexed", bad, len(s.Nodes))}
	}
}

func (g *globals) printBatchStatus(s *app.BatchStatus) error {
	return emit(g, s, func(w io.Writer) {
		if s.BatchID != "" {
			fprintf(w, "batch\t%s (%s)\n\n", s.BatchID, s.Source)
		}
		fprintf(w, "INSTANCE\tEXECUTION\tSTATE\tPHASE/STEP\tBUNDLE\tREASON\n")
		for _, n := range s.Nodes {
			who := n.InstanceID
			if who == "" {
				who = n.NodeName
			}
			fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", orDash(who), orDash(n.ExecutionID), n.State,
				orDash(phaseText(n.Phase, n.Step, n.StepsDone, n.StepsTotal)), orDash(n.BundleID), orDash(n.Reason))
		}
		fprintf(w, "\n%d completed (%d indexed), %d running, %d failed, %d cancelled, %d not started, %d not found\n",
			s.Counts[collect.StateCompleted], s.Indexed, s.Counts[collect.StateRunning]+s.Counts[app.StateUnknown],
			s.Counts[collect.StateFailed], s.Counts[collect.StateCancelled], s.Counts[app.StateNotStarted], s.Counts[app.StateNotFound])
	})
}

// statusMany follows a recorded batch, or the executions given, as one batch.
func (g *globals) statusMany(ctx context.Context, st *store.Store, batchID string, ids []string, bucket string, jobs int,
	every, timeout time.Duration, wait bool) error {
	c, err := collect.New(st, nil, g.log)
	if err != nil {
		return err
	}
	b := &collect.Batch{Source: "execution ids"}
	if batchID != "" {
		if b, err = c.LoadBatch(batchID); err != nil {
			return err
		}
	} else {
		for _, id := range ids {
			b.Nodes = append(b.Nodes, collect.BatchNode{ExecutionID: id})
		}
	}
	c, cfgErr, err := g.statusCollectorOf(ctx, st, b.StartedExecutions(), bucket)
	if err != nil {
		return err
	}
	if cfgErr != nil {
		// Rows of the SSM nodes still under way will say they need AWS; say why it is missing.
		g.log.Warn("no AWS configuration: collections under way cannot be followed", "err", cfgErr)
	}
	return g.followBatch(ctx, c, b, jobs, every, timeout, wait, newRenderer(g))
}

// batchRow is one batch as `status --batches` lists it.
type batchRow struct {
	ID         string    `json:"id" yaml:"id"`
	Created    time.Time `json:"created" yaml:"created"`
	Source     string    `json:"source" yaml:"source"`
	Nodes      int       `json:"nodes" yaml:"nodes"`
	NotStarted int       `json:"notStarted" yaml:"notStarted"`
}

// listBatches prints the recorded batches, newest first.
func (g *globals) listBatches(c *collect.Collector) error {
	bs, err := c.Batches()
	if err != nil {
		return err
	}
	rows := make([]batchRow, 0, len(bs))
	for _, b := range bs {
		r := batchRow{ID: b.ID, Created: b.Created, Source: b.Source, Nodes: len(b.Nodes)}
		r.NotStarted = len(b.Nodes) - len(b.StartedExecutions())
		rows = append(rows, r)
	}
	return emit(g, &rows, func(w io.Writer) {
		if len(rows) == 0 {
			fprintf(w, "no batches recorded in this store; collect from many nodes with `nodediag collect ID ID …`, --nodegroup or --selector\n")
			return
		}
		fprintf(w, "BATCH\tCREATED (UTC)\tNODES\tNOT STARTED\tSOURCE\n")
		for _, r := range rows {
			fprintf(w, "%s\t%s\t%d\t%d\t%s\n", r.ID, stamp(r.Created), r.Nodes, r.NotStarted, r.Source)
		}
	})
}
