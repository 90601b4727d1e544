package app

import (
	"context"
	"sync"
)

// eachBounded calls do(i) for every i in [0, n), at most jobs at a time, starting them in
// order, and starts no more once ctx is done. It returns how many it started, so that the caller
// can say of the rest that they were not started — a batch of a thousand nodes or archives
// interrupted halfway reports every one.
func eachBounded(ctx context.Context, n, jobs int, do func(i int)) (started int) {
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(max(jobs, 1), n) {
		wg.Go(func() {
			for i := range work {
				do(i)
			}
		})
	}
feed:
	for ; started < n; started++ {
		select {
		case work <- started:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	return started
}
