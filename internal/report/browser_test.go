package report

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/nodediag/nodediag/internal/diagnose"
	"github.com/nodediag/nodediag/internal/redact"
	"github.com/nodediag/nodediag/internal/store"
)

const exampleArchive = "../../testdata/example/eks_i-0a1b2c3d4e5f60718_2026-11-20_1030-UTC_0.7.9.tar.gz"

// chromium finds the browser, or fails the test where CI demands one
// (NODEDIAG_REQUIRE_CHROMIUM=1) and skips it elsewhere: a developer without Chromium still runs
// every other test.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("NODEDIAG_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("NODEDIAG_REQUIRE_CHROMIUM") == "1" {
		t.Fatal("no Chromium on the PATH and NODEDIAG_REQUIRE_CHROMIUM=1: install it (apt-get install chromium) or set NODEDIAG_CHROMIUM")
	}
	t.Skip("no Chromium on the PATH (apt-get install chromium, or NODEDIAG_CHROMIUM=/path): the browser test of the HTML report is skipped")
	return ""
}

// TestReportInChromium opens the example bundle's report from a file:// URL in headless
// Chromium, with the network closed to it, and checks what a reader sees: the diagnosis's root
// cause, one timeline mark per crash fact, every mark's link landing on a line of the page, the
// memory chart, and a screenshot that is not blank.
func TestReportInChromium(t *testing.T) {
	exe := chromium(t)
	ctx := context.Background()
	st, err := store.Open(filepath.Join(t.TempDir(), "store"), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.Import(ctx, exampleArchive, store.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	idx := res.Index
	if idx == nil {
		if idx, err = st.Index(ctx, res.Entry, false); err != nil {
			t.Fatal(err)
		}
	}
	in := diagnose.Input{Namespace: "payments", Pod: "ledger-0", Entry: res.Entry}
	d, err := diagnose.Diagnose(ctx, idx, in)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Build(ctx, Request{Entry: res.Entry, Index: idx, Input: in})
	if err != nil {
		t.Fatal(err)
	}
	data, err := Render(r)
	if err != nil {
		t.Fatal(err)
	}
	page := bytes.NewBuffer(data)
	dir := t.TempDir()
	file := filepath.Join(dir, FileName(r))
	if err := os.WriteFile(file, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// The page is meant to be mailed and attached to tickets: it must stay small.
	const maxBytes = 1 << 20
	if page.Len() > maxBytes {
		t.Errorf("the report is %d bytes: over the %d target", page.Len(), maxBytes)
	}

	actx, cancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(exe),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.UserDataDir(filepath.Join(dir, "chromium-profile")),
		chromedp.WindowSize(1200, 900),
	)
	defer cancel()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	bctx, cancel = context.WithTimeout(bctx, 90*time.Second)
	defer cancel()

	start := time.Now()
	if err := chromedp.Do(bctx, chromedp.Navigate("file://"+file)); err != nil {
		t.Fatalf("loading the report in Chromium: %v", err)
	}
	wall := time.Since(start)
	loadMs, err := chromedp.Run(bctx, chromedp.Evaluate[float64](
		`(() => { const n = performance.getEntriesByType("navigation")[0]; return n.loadEventEnd - n.startTime; })()`))
	if err != nil {
		t.Fatal(err)
	}
	// Speed is measured, not asserted here (see docs/performance.md): a shared CI machine is no clock.
	t.Logf("report: %d bytes; navigation to load event %.0f ms in Chromium (%v wall, the first navigation included)", page.Len(), loadMs, wall.Round(time.Millisecond))

	eval := func(expr string, out any) {
		t.Helper()
		var err error
		switch p := out.(type) {
		case *string:
			*p, err = chromedp.Run(bctx, chromedp.Evaluate[string](expr))
		case *int:
			*p, err = chromedp.Run(bctx, chromedp.Evaluate[int](expr))
		case *[]string:
			*p, err = chromedp.Run(bctx, chromedp.Evaluate[[]string](expr))
		}
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
	}
	var rootCause string
	eval(`document.getElementById("root-cause").textContent.trim()`, &rootCause)
	if want := redact.String(d.RootCause); rootCause != want || want == "" {
		t.Errorf("root cause on the page %q, want the diagnosis's %q", rootCause, want)
	}
	var marks int
	eval(`document.querySelectorAll("#timeline-chart a.mark.fact").length`, &marks)
	if want := crashFactCount(idx, d); marks != want || want == 0 {
		t.Errorf("%d timeline marks on the page, want one per crash fact of the container: %d", marks, want)
	}
	var dangling []string
	eval(`Array.from(document.querySelectorAll("a[href]")).map(a => a.getAttribute("href"))
		.filter(h => !h.startsWith("#") || !document.getElementById(decodeURIComponent(h.slice(1))))`, &dangling)
	if len(dangling) > 0 {
		t.Errorf("links that land on nothing in the page: %q", dangling)
	}
	var linked int
	eval(`Array.from(document.querySelectorAll("#timeline-chart a.mark.fact")).filter(a => {
		const li = document.getElementById(a.getAttribute("href").slice(1));
		return li && li.tagName === "LI" && li.classList.contains("marked");
	}).length`, &linked)
	if linked != marks {
		t.Errorf("%d of %d marks link to their own marked evidence line", linked, marks)
	}
	var bars int
	eval(`(() => { const c = document.getElementById("memory-chart"); if (!c || c.getBoundingClientRect().height < 50) return -1;
		return c.querySelectorAll("rect.anon").length; })()`, &bars)
	if want := len(r.Memory.Kills); bars != want {
		t.Errorf("memory chart: %d kill bars drawn (-1: no chart or not visible), want %d", bars, want)
	}

	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	colours, inked := inkOf(img)
	b := img.Bounds()
	t.Logf("screenshot %dx%d: %d colours, %.1f%% not white", b.Dx(), b.Dy(), colours, 100*inked)
	if colours < 16 || inked < 0.02 {
		t.Errorf("the screenshot looks blank: %d colours, %.2f%% not white", colours, 100*inked)
	}
	out := filepath.Join(dir, "report.png")
	if p := os.Getenv("NODEDIAG_REPORT_SHOT"); p != "" {
		out = p // keep it for a person to look at
	}
	if err := os.WriteFile(out, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot written to %s", out)
}

// inkOf counts an image's distinct colours and the share of its pixels that are not white.
func inkOf(img image.Image) (colours int, inked float64) {
	seen := map[uint32]bool{}
	b := img.Bounds()
	var n, ink int
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[(r>>8)<<16|(g>>8)<<8|bl>>8] = true
			if r < 0xf000 || g < 0xf000 || bl < 0xf000 {
				ink++
			}
			n++
		}
	}
	return len(seen), float64(ink) / float64(n)
}
