// Package indexjob is the entry point of one worker of an indexing Job: it takes its shard of
// the node log archives under a bucket prefix, imports and indexes each one the store does not
// have yet, and publishes it to the store's bucket.
//
// Scheduling across machines is Kubernetes' (an Indexed Job: each pod gets JOB_COMPLETION_INDEX
// of its completions) or Lambda's (one S3 event, one archive), never ours. A worker is
// idempotent and restartable: what it indexed is recorded in the store's bucket, and a worker
// that dies mid-way leaves either nothing visible or a whole published bundle (see package
// remote). Two workers racing on one archive write the same bundle, files and index, and the
// last marker wins with the same content.
package indexjob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/nodediag/nodediag/internal/app"
	"github.com/nodediag/nodediag/internal/remote"
	"github.com/nodediag/nodediag/internal/source"
	"github.com/nodediag/nodediag/internal/store"
)

// Options steer Run.
type Options struct {
	Source string        // bucket URL of the archives, e.g. s3://raw-bundles?prefix=incoming/
	Key    string        // one archive only (a Lambda's S3 event); empty: every archive of the shard
	Store  *remote.Store // the store's bucket and the worker's local cache
	Shard  int           // this worker, 0 ≤ Shard < Shards
	Shards int           // the Job's completions; 1 takes everything
	Jobs   int           // archives imported at once in this worker (default 1)
	Force  bool          // re-import archives the store has already
	Log    *slog.Logger
}

// Status is what happened to one archive.
type Status string

const (
	Indexed Status = "indexed" // imported, indexed and published
	Partial Status = "partial" // imported as far as it could be read, published, and the reason recorded
	Skipped Status = "skipped" // the store has it from this very object
	Failed  Status = "failed"  // not imported; the reason is recorded in the store's bucket
)

// ArchiveResult is one archive's part of a Run.
type ArchiveResult struct {
	Key      string `json:"key" yaml:"key"`
	Status   Status `json:"status" yaml:"status"`
	Instance string `json:"instanceId,omitempty" yaml:"instanceId,omitempty"`
	Bundle   string `json:"bundleId,omitempty" yaml:"bundleId,omitempty"`
	Error    string `json:"error,omitempty" yaml:"error,omitempty"`
}

// Result is a worker's run.
type Result struct {
	Source   string          `json:"source" yaml:"source"`
	Shard    int             `json:"shard" yaml:"shard"`
	Shards   int             `json:"shards" yaml:"shards"`
	Listed   int             `json:"listed" yaml:"listed"` // archives under the prefix, all shards
	Archives []ArchiveResult `json:"archives" yaml:"archives"`
}

// Count returns how many archives ended with status s.
func (r *Result) Count(s Status) int {
	n := 0
	for _, a := range r.Archives {
		if a.Status == s {
			n++
		}
	}
	return n
}

// record is sources/<hash of the source object>.json in the store's bucket: the archive a
// bundle came from, so a rerun skips it, and failures/<hash>.json, so a bad archive is named
// once and not retried by every restart.
type record struct {
	Source   string    `json:"source"`
	Key      string    `json:"key"`
	ETag     string    `json:"etag"`
	Instance string    `json:"instanceId,omitempty"`
	Bundle   string    `json:"bundleId,omitempty"`
	Error    string    `json:"error,omitempty"`
	At       time.Time `json:"at"`
}

// ShardOf is the worker that owns an archive: a hash of its key, so that an archive keeps its
// worker when others are added, whatever order the listing gives.
func ShardOf(key string, shards int) int {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % uint32(shards))
}

// Run indexes the worker's shard. It returns an error only when it could not do its work —
// the source or the store unreachable — so that the Job retries the pod; a bad archive is a
// row of the result and a record in the bucket, not a reason to retry.
func Run(ctx context.Context, opt Options) (*Result, error) {
	if opt.Shards < 1 || opt.Shard < 0 || opt.Shard >= opt.Shards {
		return nil, fmt.Errorf("shard %d of %d: want 0 ≤ shard < shards", opt.Shard, opt.Shards)
	}
	if opt.Jobs < 1 {
		opt.Jobs = 1
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	res := &Result{Source: opt.Source, Shard: opt.Shard, Shards: opt.Shards}
	src, err := source.Open(ctx, opt.Source)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	var objs []source.Object
	if opt.Key != "" {
		o, err := src.Stat(ctx, opt.Key)
		if err != nil {
			return nil, err
		}
		objs = append(objs, o)
	} else if objs, err = src.List(ctx); err != nil {
		return nil, err
	}
	res.Listed = len(objs)
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opt.Jobs)
	for _, obj := range objs {
		if ShardOf(obj.Key, opt.Shards) != opt.Shard {
			continue
		}
		g.Go(func() error {
			ar, err := one(gctx, src, obj, opt)
			if err != nil {
				return err
			}
			opt.Log.Info("archive", "key", ar.Key, "status", ar.Status, "bundle", ar.Bundle, "err", ar.Error)
			mu.Lock()
			res.Archives = append(res.Archives, ar)
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return res, err
	}
	return res, nil
}

func recordKey(dir, source, key string) string {
	sum := sha256.Sum256([]byte(source + "\x00" + key))
	return dir + "/" + hex.EncodeToString(sum[:16]) + ".json"
}

// one imports one archive. Its error is for infrastructure only (see Run).
func one(ctx context.Context, src *source.Bucket, obj source.Object, opt Options) (ArchiveResult, error) {
	ar := ArchiveResult{Key: obj.Key}
	tag := obj.Tag()
	doneKey := recordKey("sources", opt.Source, obj.Key)
	failKey := recordKey("failures", opt.Source, obj.Key)
	if !opt.Force {
		var rec record
		found, err := opt.Store.GetJSON(ctx, doneKey, &rec)
		if err != nil {
			return ar, err
		}
		if found && rec.ETag == tag {
			ar.Status, ar.Instance, ar.Bundle = Skipped, rec.Instance, rec.Bundle
			return ar, nil
		}
		found, err = opt.Store.GetJSON(ctx, failKey, &rec)
		if err != nil {
			return ar, err
		}
		if found && rec.ETag == tag {
			ar.Status, ar.Error = Failed, rec.Error+" (recorded "+rec.At.Format(time.RFC3339)+"; --force tries again)"
			return ar, nil
		}
	}
	rec := record{Source: opt.Source, Key: obj.Key, ETag: tag, At: time.Now().UTC()}
	imported, err := importObject(ctx, src, obj, opt)
	var infra *infraError
	if errors.As(err, &infra) || ctx.Err() != nil {
		return ar, err
	}
	if err != nil {
		ar.Status, ar.Error = Failed, err.Error()
		rec.Error = err.Error()
		return ar, opt.Store.PutJSON(ctx, failKey, rec)
	}
	ar.Status, ar.Instance, ar.Bundle = Indexed, imported.Entry.Manifest.InstanceID, imported.Entry.Manifest.ID
	rec.Instance, rec.Bundle = ar.Instance, ar.Bundle
	if imported.Partial != nil {
		ar.Status, ar.Error = Partial, imported.Partial.Error()
		rec.Error = ar.Error
	}
	return ar, opt.Store.PutJSON(ctx, doneKey, rec)
}

// importObject downloads one archive to the worker's disk, imports it into the cache,
// publishes it and drops it from the cache, so that a worker's disk holds one archive and one
// bundle per job at a time.
func importObject(ctx context.Context, src *source.Bucket, obj source.Object, opt Options) (*store.ImportResult, error) {
	res, err := app.ImportObject(ctx, opt.Store.Cache, src, obj, store.ImportOptions{Force: opt.Force}, obj.Key)
	if errors.Is(err, app.ErrFetch) {
		return nil, &infraError{err}
	}
	if err != nil {
		return nil, err
	}
	if err := opt.Store.Publish(ctx, res.Entry); err != nil {
		return nil, &infraError{err}
	}
	if err := opt.Store.Cache.Remove(ctx, res.Entry); err != nil {
		opt.Log.Warn("published bundle not removed from the worker's cache", "bundle", res.Entry.Manifest.ID, "err", err)
	}
	return res, nil
}

// infraError is a failure of the buckets, not of the archive: the worker stops and the Job
// retries it, rather than record the archive as bad.
type infraError struct{ error }

func (e *infraError) Unwrap() error { return e.error }

// ErrNoShard is returned when neither a flag nor JOB_COMPLETION_INDEX says which shard to take.
var ErrNoShard = errors.New("no shard: give --shard or run in an Indexed Job (JOB_COMPLETION_INDEX)")
