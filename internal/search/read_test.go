package search

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// wantLines renders lines first..last of x as Read returns them.
func wantLines(x *text, first, last int) []Line {
	var out []Line
	for no := first; no <= last; no++ {
		out = append(out, Line{No: no, Offset: x.offsets[no-1], Text: x.lines[no-1]})
	}
	return out
}

func TestRead(t *testing.T) {
	x := tickLog(30000)
	n := len(x.lines)
	size := int64(x.buf.Len())
	end := func(no int) int64 { // offset just past line no
		if no == n {
			return size
		}
		return x.offsets[no]
	}
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%v", gz), func(t *testing.T) {
			e, idx := handBundle(t, []handFile{{path: "kubelet/kubelet.log", logType: "kubelet", log: true, gz: gz, data: x.buf.Bytes()}})
			cps := idx.Files[0].Checkpoints
			if len(cps) < 3 {
				t.Fatalf("%d checkpoints; the file must span several blocks", len(cps))
			}
			b1 := int(cps[1].Line) // first line of the second block
			capEnd := 0            // last line starting before offsets[1000]+1 MiB
			for no := 1001; no <= n && x.offsets[no-1] < x.offsets[1000]+CapReadBytes; no++ {
				capEnd = no
			}
			tests := []struct {
				name        string
				req         ReadRequest
				first, last int
				next        string
			}{
				{"default page", ReadRequest{}, 1, DefaultLineCount, "startLine=201"},
				{"across a block start", ReadRequest{StartLine: b1 - 5, LineCount: 10}, b1 - 5, b1 + 4, fmt.Sprintf("startLine=%d", b1+5)},
				{"from a checkpoint line", ReadRequest{StartLine: int(cps[2].Line), LineCount: 3}, int(cps[2].Line), int(cps[2].Line) + 2, fmt.Sprintf("startLine=%d", cps[2].Line+3)},
				{"last lines", ReadRequest{StartLine: -200}, n - 199, n, ""},
				{"more than the file from the end", ReadRequest{StartLine: -2 * n, LineCount: 5}, 1, 5, "startLine=6"},
				{"count runs past the end", ReadRequest{StartLine: n - 2, LineCount: 10}, n - 2, n, ""},
				{"bytes snap to lines", ReadRequest{StartByte: x.offsets[99] + 5, EndByte: x.offsets[109] + 1}, 100, 110,
					fmt.Sprintf("startByte=%d endByte=%d", end(110), end(110)+(x.offsets[109]+1-(x.offsets[99]+5)))},
				{"bytes across a block start", ReadRequest{StartByte: cps[1].Offset - 3, EndByte: cps[1].Offset + 1}, b1 - 1, b1,
					fmt.Sprintf("startByte=%d endByte=%d", end(b1), end(b1)+4)},
				{"bytes capped at 1 MiB", ReadRequest{StartByte: x.offsets[1000], EndByte: x.offsets[1000] + 3*CapReadBytes}, 1001, capEnd,
					fmt.Sprintf("startByte=%d endByte=%d", end(capEnd), end(capEnd)+CapReadBytes)},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					res, err := Read(context.Background(), e, idx, ReadRequest{LogKey: "kubelet/kubelet.log", StartLine: tt.req.StartLine,
						LineCount: tt.req.LineCount, StartByte: tt.req.StartByte, EndByte: tt.req.EndByte})
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(wantLines(x, tt.first, tt.last), res.Lines); diff != "" {
						t.Errorf("lines (-want +got):\n%s", diff[:min(len(diff), 2000)])
					}
					if res.StartLine != tt.first || res.EndLine != tt.last || res.StartByte != x.offsets[tt.first-1] || res.EndByte != end(tt.last) {
						t.Errorf("range lines %d-%d bytes %d-%d; want %d-%d, %d-%d", res.StartLine, res.EndLine, res.StartByte, res.EndByte,
							tt.first, tt.last, x.offsets[tt.first-1], end(tt.last))
					}
					if res.TotalLines != int64(n) || res.TotalBytes != size || res.LogType != "kubelet" {
						t.Errorf("totals %d lines %d bytes type %q; want %d, %d, kubelet", res.TotalLines, res.TotalBytes, res.LogType, n, size)
					}
					if res.Next != tt.next || res.More != (tt.next != "") {
						t.Errorf("next %q more %v; want %q", res.Next, res.More, tt.next)
					}
				})
			}
		})
	}
}

func TestReadUnindexedFile(t *testing.T) {
	var x text
	x.add("[Service]")
	x.add("ExecStart=/usr/bin/kubelet")
	x.add("Restart=always")
	e, idx := handBundle(t, []handFile{{path: "kubelet/kubelet-service.conf", logType: "config", data: x.buf.Bytes()}})
	res, err := Read(context.Background(), e, idx, ReadRequest{LogKey: "./kubelet/kubelet-service.conf", StartLine: 2})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantLines(&x, 2, 3), res.Lines); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
	if res.TotalLines != 3 || res.TotalBytes != int64(x.buf.Len()) || res.More {
		t.Errorf("totals %d lines %d bytes more %v; want 3, %d, false", res.TotalLines, res.TotalBytes, res.More, x.buf.Len())
	}
}

func TestReadBadRequests(t *testing.T) {
	x := tickLog(10)
	e, idx := handBundle(t, []handFile{
		{path: "kubelet/kubelet.log", logType: "kubelet", log: true, data: x.buf.Bytes()},
		{path: "containerd/containerd-log.txt", logType: "containerd", log: true, data: []byte(logfmt(t0, "hello") + "\n")},
		{path: "bin/tool", logType: "other", binary: true, data: []byte{0, 1, 2}},
	})
	tests := []struct {
		name string
		req  ReadRequest
		says []string
	}{
		{"parent", ReadRequest{LogKey: "../kubelet.log"}, []string{"leaves the bundle", "similar keys: kubelet/kubelet.log"}},
		{"parent inside", ReadRequest{LogKey: "kubelet/../../x"}, []string{"leaves the bundle"}},
		{"absolute", ReadRequest{LogKey: "/var/log/kubelet.log"}, []string{"absolute", "similar keys: kubelet/kubelet.log"}},
		{"unknown", ReadRequest{LogKey: "kubelet/kublet.log"}, []string{`no file "kubelet/kublet.log"`, "similar keys: kubelet/kubelet.log, containerd/containerd-log.txt"}},
		{"empty", ReadRequest{}, []string{"logKey is empty", "kubelet/kubelet.log"}},
		{"binary", ReadRequest{LogKey: "bin/tool"}, []string{"binary"}},
		{"past the end", ReadRequest{LogKey: "kubelet/kubelet.log", StartLine: 11}, []string{"past the end", "10 lines"}},
		{"too many lines", ReadRequest{LogKey: "kubelet/kubelet.log", LineCount: CapLineCount + 1}, []string{"10001", "1 to 10000"}},
		{"empty byte range", ReadRequest{LogKey: "kubelet/kubelet.log", StartByte: 50, EndByte: 50}, []string{"empty"}},
		{"bytes past the end", ReadRequest{LogKey: "kubelet/kubelet.log", StartByte: int64(x.buf.Len()), EndByte: int64(x.buf.Len()) + 10}, []string{"past the end"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(context.Background(), e, idx, tt.req)
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("error %v does not wrap ErrBadRequest", err)
			}
			for _, s := range tt.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
		})
	}
}
