package cli

import (
	"io"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/nodediag/nodediag/internal/indexjob"
	"github.com/nodediag/nodediag/internal/remote"
)

func newIndexJobCmd(g *globals) *cobra.Command {
	var opt indexjob.Options
	shard := -1
	cmd := &cobra.Command{
		Use:   "index-job --source URL --store URL",
		Short: "One worker of an indexing Job: import, index and publish its shard of the archives under a bucket prefix",
		Long: `index-job is the entry point of a Kubernetes Indexed Job (charts/nodediag: indexJob) that
indexes many nodes' log archives: each pod lists the archives under --source (a bucket URL;
?prefix=… narrows it), takes those whose key hashes to its shard (JOB_COMPLETION_INDEX of
--shards, the Job's completions), and for each one the store's bucket does not have yet from
that very object: downloads it, imports and indexes it on the pod's disk, publishes it to
--store (a bucket URL) and drops it locally. It is safe to restart and safe to run twice: what
is done is recorded in the store's bucket (sources/, failures/), and two workers on one archive
publish the same bundle. A corrupt archive is recorded in failures/ with the reason and not
retried (--force retries); the rest of the shard goes on. With --key it takes that one object
only, as a function triggered by the object's upload would.
Exit 0: the shard is done (see the rows for archives that failed); 1: a bucket could not be
read or written, so the Job should retry the pod; 2: usage.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opt.Source == "" {
				return usageError("--source: give the bucket URL of the archives, e.g. s3://raw-bundles?prefix=incoming/")
			}
			if !remote.IsURL(g.storeDir) {
				return usageError("--store %q: index-job publishes to a bucket; give its URL, e.g. s3://nodediag-store", g.storeDir)
			}
			if shard < 0 {
				v, ok := os.LookupEnv("JOB_COMPLETION_INDEX")
				n, err := strconv.Atoi(v)
				switch {
				case ok && err == nil:
					shard = n
				case opt.Shards == 1: // one worker takes everything; there is no other shard
					shard = 0
				default:
					return usageError("%v", indexjob.ErrNoShard)
				}
			}
			st, err := g.openRemoteOnly()
			if err != nil {
				return err
			}
			opt.Store, opt.Shard, opt.Log = st, shard, g.log
			res, runErr := indexjob.Run(cmd.Context(), opt)
			if res == nil {
				return runErr
			}
			if err := emit(g, res, func(w io.Writer) { printIndexJob(w, res) }); err != nil {
				return err
			}
			return runErr
		},
	}
	f := cmd.Flags()
	f.StringVar(&opt.Source, "source", "", "bucket URL of the archives (s3://B?prefix=P/, gs://…, azblob://…, file:///DIR)")
	f.StringVar(&opt.Key, "key", "", "one archive only: its key in --source")
	f.IntVar(&shard, "shard", -1, "this worker's shard (default: JOB_COMPLETION_INDEX)")
	f.IntVar(&opt.Shards, "shards", 1, "the number of shards: the Indexed Job's completions")
	f.IntVar(&opt.Jobs, "jobs", 1, "archives imported at once in this worker (each one peaks at about 70–170 MiB)")
	f.BoolVar(&opt.Force, "force", false, "import archives again that the store has, or that failed before")
	return cmd
}

func printIndexJob(w io.Writer, res *indexjob.Result) {
	fprintf(w, "KEY\tSTATUS\tINSTANCE\tBUNDLE\tERROR\n")
	for _, a := range res.Archives {
		fprintf(w, "%s\t%s\t%s\t%s\t%s\n", a.Key, a.Status, a.Instance, a.Bundle, a.Error)
	}
	fprintf(w, "shard %d of %d: %d of %d archives listed; %d indexed, %d partial, %d skipped, %d failed\n",
		res.Shard, res.Shards, len(res.Archives), res.Listed, res.Count(indexjob.Indexed), res.Count(indexjob.Partial),
		res.Count(indexjob.Skipped), res.Count(indexjob.Failed))
}
