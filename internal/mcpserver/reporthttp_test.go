package mcpserver

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/nodediag/nodediag/internal/diagnose"
)

// get fetches u with client c and returns the status, content type and body.
func get(t *testing.T, c *http.Client, u string) (int, string, string) {
	t.Helper()
	code, h, body := getHeader(t, c, u)
	return code, h.Get("Content-Type"), body
}

func getHeader(t *testing.T, c *http.Client, u string) (int, http.Header, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(body)
}

// TestHTTPReport serves the HTML report over loopback: behind the token, as HTML, with the
// diagnosis the library gives; an unknown pod or instance answers an error naming what exists.
func TestHTTPReport(t *testing.T) {
	b := importScenario(t, "container-oom-v2")
	ts, _ := serveTest(t, nil, HTTPOptions{Token: []byte(testToken), Reports: b.store})
	instance := b.entry.Manifest.InstanceID
	pod := b.truth.Namespace + "/" + b.truth.Pod
	u := ts.URL + ReportPath + instance + "?pod=" + url.QueryEscape(pod)

	if code, _, _ := get(t, http.DefaultClient, u); code != http.StatusUnauthorized {
		t.Errorf("no token: status %d, want 401", code)
	}
	if code, _, _ := get(t, tokenClient("not-the-token-of-this-server"), u); code != http.StatusUnauthorized {
		t.Errorf("wrong token: status %d, want 401", code)
	}

	code, hdr, body := getHeader(t, tokenClient(testToken), u)
	if code != http.StatusOK {
		t.Fatalf("with the token: status %d, body %.300s", code, body)
	}
	ctype := hdr.Get("Content-Type")
	// The page quotes a node's logs: it must load nothing and stay out of shared caches.
	if csp := hdr.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy %q does not forbid loading", csp)
	}
	if cc := hdr.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	if !strings.HasPrefix(ctype, "text/html") {
		t.Errorf("content type %q, want text/html", ctype)
	}
	d, err := diagnose.Diagnose(context.Background(), b.idx, diagnose.Input{Namespace: b.truth.Namespace, Pod: b.truth.Pod, Entry: b.entry})
	if err != nil {
		t.Fatal(err)
	}
	if d.RootCause == "" || !strings.Contains(body, htmlText(d.RootCause)) {
		t.Errorf("the page does not state the diagnosis's root cause %q", d.RootCause)
	}
	if !strings.Contains(body, `id="memory-chart"`) {
		t.Error("an OOM crash loop's page has no memory chart")
	}

	// An unknown pod: 404, naming the pod that does crash-loop here.
	code, ctype, body = get(t, tokenClient(testToken), ts.URL+ReportPath+instance+"?pod=nowhere/ghost-0")
	if code != http.StatusNotFound || !strings.HasPrefix(ctype, "text/plain") {
		t.Errorf("unknown pod: status %d, type %q; want 404 text/plain", code, ctype)
	}
	if !strings.Contains(body, "ghost-0") || !strings.Contains(body, pod) {
		t.Errorf("unknown pod: the error must name the pod asked for and %s, which crash-loops here: %s", pod, body)
	}

	// An unknown instance: 404, naming the stored instance.
	code, _, body = get(t, tokenClient(testToken), ts.URL+ReportPath+"i-0000000000000000f?pod="+url.QueryEscape(pod))
	if code != http.StatusNotFound || !strings.Contains(body, instance) {
		t.Errorf("unknown instance: status %d, body %q; want 404 naming %s", code, body, instance)
	}
}

// TestHTTPReportNotServedWithoutStore: a server not given a store has no /report route at all.
func TestHTTPReportNotServedWithoutStore(t *testing.T) {
	ts, _ := serveTest(t, nil, HTTPOptions{Token: []byte(testToken)})
	if code, _, _ := get(t, tokenClient(testToken), ts.URL+ReportPath+"i-0a1b2c3d4e5f60718"); code != http.StatusNotFound {
		t.Errorf("status %d, want 404", code)
	}
}

// htmlText escapes s as html/template escapes text, for finding text in a page.
func htmlText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}
