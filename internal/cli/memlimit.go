package cli

import (
	"math"
	"os"
	"runtime/debug"
)

// scaleMemoryLimit raises the soft memory limit main sets for one import (128 MiB) to jobs times
// it while a batch imports jobs archives at once, and returns what puts it back, so that the
// batch's peak is predictable from --jobs (128 MiB each and the binary's own) and the collector
// does not run against one import's limit with several imports' heaps live. On 40 bundles at
// --jobs 4 the fixed limit was 10% slower for 126 MiB less (docs/performance.md): the scaled
// one trades that memory for time, and GOMEMLIMIT, which is kept when set, takes the other
// side. No limit at all (tests, a library caller) stays none.
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
