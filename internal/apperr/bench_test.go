package apperr

import (
	"fmt"
	"strings"
	"testing"
)

// benchLog builds a log of at least size bytes that looks like a busy service's: access lines,
// JSON info lines, handled exceptions of three runtimes logged along the way, and the traceback
// that ended the process at the end. With cri, every line carries a CRI prefix.
func benchLog(size int, cri bool) string {
	var b strings.Builder
	b.Grow(size + 4096)
	line := 0
	write := func(s string) {
		line++
		if cri {
			fmt.Fprintf(&b, "2026-11-20T10:%02d:%02d.%09dZ stdout F ", line/3600%60, line/60%60, line)
		}
		b.WriteString(s)
		b.WriteByte('\n')
	}
	for i := 0; b.Len() < size; i++ {
		write(fmt.Sprintf("10.0.%d.%d - - [20/Nov/2026:10:00:00 +0000] \"GET /api/v1/items/%d HTTP/1.1\" 200 512 \"-\" \"kube-probe/1.31\"", i%250, i%200, i))
		write(fmt.Sprintf(`{"level":"info","ts":"2026-11-20T10:00:00.%06dZ","logger":"api","msg":"request served","path":"/api/v1/items","status":200,"duration_ms":%d}`, i%1000000, i%97))
		write(fmt.Sprintf("2026-11-20 10:00:00,%03d INFO worker: processed batch %d (%d items)", i%1000, i, i%50))
		switch i % 200 {
		case 50:
			for _, l := range pyHandled {
				write(l)
			}
		case 100:
			write("2026-11-20 10:00:00.000 ERROR 1 --- [pool-1] c.e.Sync : sync failed")
			write("java.net.SocketTimeoutException: Read timed out")
			write("\tat java.base/sun.nio.ch.NioSocketImpl.timedRead(NioSocketImpl.java:288)")
			write("\tat com.example.sync.Client.fetch(Client.java:41)")
		case 150:
			write("E1120 10:00:00.000000       1 reflector.go:147] failed to list *v1.Pod: connection refused")
		}
	}
	for _, l := range pyConfigCrash {
		write(l)
	}
	return b.String()
}

// adversarialLog repeats shapes that make a careless parser re-read lines: tracebacks whose
// frames never reach an exception line, frames without an exception above them, and runs of
// blank lines before a frame.
func adversarialLog(size int) string {
	var b strings.Builder
	for b.Len() < size {
		b.WriteString("Traceback (most recent call last):\n")
		for i := 0; i < 2000; i++ {
			fmt.Fprintf(&b, "  File \"/app/m%d.py\", line %d, in f\n    g()\n", i, i)
		}
		b.WriteString("Killed\n")
		for i := 0; i < 2000; i++ {
			b.WriteString("\tat com.example.X.m(X.java:1)\n")
		}
		b.WriteString(strings.Repeat("\n", 2000) + "    at f (/app/x.js:1:1)\n")
	}
	return b.String()
}

func BenchmarkFindAdversarial(b *testing.B) {
	log := adversarialLog(5 << 20)
	b.SetBytes(int64(len(log)))
	for b.Loop() {
		Find(log)
	}
}

func BenchmarkFind(b *testing.B) {
	for _, cri := range []bool{false, true} {
		log := benchLog(5<<20, cri)
		name := "plain"
		if cri {
			name = "cri"
		}
		b.Run(name, func(b *testing.B) {
			if got := Find(log); !strings.HasPrefix(got.Summary, "TypeError: Settings.__init__()") {
				b.Fatalf("benchmark log misread: %+v", got)
			}
			b.SetBytes(int64(len(log)))
			b.ReportAllocs()
			for b.Loop() {
				Find(log)
			}
		})
	}
}
