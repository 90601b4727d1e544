package search

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// tickLog is a kubelet log of n lines, one a second from t0, long enough to span several 1 MiB
// blocks: line i (1-based) says "tick n=<i, 6 digits>".
func tickLog(n int) *text {
	var x text
	for i := 1; i <= n; i++ {
		x.add("%s", klog(t0.Add(time.Duration(i-1)*time.Second), fmt.Sprintf("tick n=%06d %s", i, strings.Repeat("x", 40))))
	}
	return &x
}

func TestSearchContextAcrossBlocks(t *testing.T) {
	x := tickLog(30000)
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%v", gz), func(t *testing.T) {
			e, idx := handBundle(t, []handFile{{path: "kubelet/kubelet.log", logType: "kubelet", log: true, gz: gz, data: x.buf.Bytes()}})
			cps := idx.Files[0].Checkpoints
			if len(cps) < 3 {
				t.Fatalf("%d checkpoints; the file must span several blocks", len(cps))
			}
			// Lines right around every block start, and the first and last lines of the file.
			var want []int
			for _, c := range cps[1:] {
				for d := -2; d <= 1; d++ {
					want = append(want, int(c.Line)+d)
				}
			}
			want = append([]int{1}, append(want, len(x.lines))...)
			var alts []string
			for _, no := range want {
				alts = append(alts, fmt.Sprintf("n=%06d", no))
			}
			const ctxN = 3
			res, err := Search(context.Background(), e, idx, Request{Query: strings.Join(alts, "|"), Context: ctxN})
			if err != nil {
				t.Fatal(err)
			}
			got := flatten(res)
			if len(got) != len(want) {
				t.Fatalf("%d matches, want %d", len(got), len(want))
			}
			for i, m := range got {
				no := want[i]
				if m.Line != no || m.Offset != x.offsets[no-1] || m.Text != x.lines[no-1] {
					t.Errorf("match %d: line %d offset %d %q; want line %d offset %d", i, m.Line, m.Offset, m.Text, no, x.offsets[no-1])
				}
				var wb, wa []ContextLine
				for k := max(1, no-ctxN); k < no; k++ {
					wb = append(wb, ContextLine{Line: k, Offset: x.offsets[k-1], Text: x.lines[k-1]})
				}
				for k := no + 1; k <= min(len(x.lines), no+ctxN); k++ {
					wa = append(wa, ContextLine{Line: k, Offset: x.offsets[k-1], Text: x.lines[k-1]})
				}
				if diff := cmp.Diff(wb, m.Before); diff != "" {
					t.Errorf("line %d before (-want +got):\n%s", no, diff)
				}
				if diff := cmp.Diff(wa, m.After); diff != "" {
					t.Errorf("line %d after (-want +got):\n%s", no, diff)
				}
			}
		})
	}
}

func TestSearchWindowSkipsBlocks(t *testing.T) {
	x := tickLog(80000)
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%v", gz), func(t *testing.T) {
			e, idx := handBundle(t, []handFile{{path: "kubelet/kubelet.log", logType: "kubelet", log: true, gz: gz, data: x.buf.Bytes()}})
			from, to := t0.Add(20000*time.Second), t0.Add(23000*time.Second)
			res, err := Search(context.Background(), e, idx, Request{Query: `n=\d*7 `, From: from, To: to, MaxPerFile: 500})
			if err != nil {
				t.Fatal(err)
			}
			// Line i is at t0+(i-1)s: the window holds lines 20001..23000, a tenth of them end in 7.
			var want []int
			for i := 20001; i <= 23000; i++ {
				if i%10 == 7 {
					want = append(want, i)
				}
			}
			var got []int
			for _, m := range flatten(res) {
				got = append(got, m.Line)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("lines (-want +got):\n%s", diff)
			}
			if size := int64(x.buf.Len()); res.BytesScanned*3 > size {
				t.Errorf("scanned %d of %d bytes for a window of 3000 of 80000 lines: checkpoints were not used", res.BytesScanned, size)
			}
		})
	}
}
