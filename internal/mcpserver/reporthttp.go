package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/nodediag/nodediag/internal/diagnose"
	"github.com/nodediag/nodediag/internal/redact"
	"github.com/nodediag/nodediag/internal/report"
	"github.com/nodediag/nodediag/internal/store"
)

// ReportPath is where the HTTP server serves the HTML report of a bundle's crash loop:
// GET /report/{instance}?pod=NAMESPACE/NAME[&container=C][&bundle=ID], the same page
// `nodediag report` writes, behind the same token as /mcp. Without pod it reports the busiest
// crash loop of the instance's newest bundle (or of bundle ID).
const ReportPath = "/report/"

// reportHandler serves reports of the bundles in st.
func reportHandler(st *store.Store, timeout func(context.Context) (context.Context, context.CancelFunc)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		instance := r.PathValue("instance")
		q := r.URL.Query()
		in := diagnose.Input{Container: q.Get("container")}
		if pod := q.Get("pod"); pod != "" {
			if ns, name, ok := strings.Cut(pod, "/"); ok {
				in.Namespace, in.Pod = ns, name
			} else {
				in.Namespace, in.Pod = q.Get("namespace"), pod
			}
		}
		if in.Container != "" && in.Pod == "" {
			reportError(w, http.StatusBadRequest, "container="+in.Container+" needs pod=NAMESPACE/NAME: a container name alone names no pod")
			return
		}
		ctx, cancel := timeout(r.Context())
		defer cancel()
		e, err := st.Resolve(instance, q.Get("bundle"))
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				reportError(w, http.StatusNotFound, notFound(st, instance, q.Get("bundle")).Error())
				return
			}
			reportError(w, http.StatusInternalServerError, fmt.Sprintf("resolving instance %q: %v", instance, err))
			return
		}
		idx, err := st.Index(ctx, e, false)
		if err != nil {
			reportError(w, http.StatusInternalServerError, fmt.Sprintf("loading the index of bundle %s: %v", e.Manifest.ID, err))
			return
		}
		rep, err := report.Build(ctx, report.Request{Entry: e, Index: idx, Input: in})
		if err != nil {
			status := http.StatusInternalServerError
			if errors.Is(err, diagnose.ErrInput) {
				// Names the pods that do crash-loop in the bundle: the caller picks one of them.
				status = http.StatusNotFound
			}
			reportError(w, status, err.Error())
			return
		}
		page, err := report.Render(rep)
		if err != nil {
			reportError(w, http.StatusInternalServerError, err.Error())
			return
		}
		h := w.Header()
		h.Set("Content-Type", report.ContentType)
		h.Set("Content-Security-Policy", report.ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		// The page quotes a node's logs: no shared cache may keep it.
		h.Set("Cache-Control", "no-store")
		_, _ = w.Write(page)
	})
}

// reportError answers in plain text, redacted: an error may quote a request or a bundle line.
func reportError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(redact.String(msg) + "\n"))
}
