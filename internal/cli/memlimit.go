package cli

import (
	"math"
	"os"
	"runtime/debug"
)

// scaleMemoryLimit raises the soft memory limit main sets for one import (128 MiB) to jobs times
// it while a batch imports jobs archives at once, and returns what puts it back. Without it the
// collector runs almost without pause once the jobs' live heaps together pass one import's limit:
// at 4 jobs on 40 bundles the batch took 3x longer (docs/performance.md). A GOMEMLIMIT the
// user set is theirs and is kept, as is no limit at all (tests, a library caller).
func scaleMemoryLimit(jobs int) (restore func()) {
	if _, set := os.LookupEnv("GOMEMLIMIT"); set || jobs <= 1 {
		return func() {}
	}
	cur := debug.SetMemoryLimit(-1)
	if cur == math.MaxInt64 || cur > math.MaxInt64/int64(jobs) {
		return func() {}
	}
	debug.SetMemoryLimit(cur * int64(jobs))
	return func() { debug.SetMemoryLimit(cur) }
}
