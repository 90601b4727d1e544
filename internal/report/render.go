package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"time"
)

//go:embed report.html.tmpl
var pageText string

// page is parsed once: a template error is a bug of this package, found by its first test.
var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"stamp":   func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") },
	"stampMs": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000Z") },
	// Coordinates with one decimal: enough for a drawing, and a fifth of the bytes of %g.
	"num":   func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) },
	"add":   func(a, b float64) float64 { return a + b },
	"sub":   func(a, b float64) float64 { return a - b },
	"deref": func(p *int) int { return *p },
}).Parse(pageText))

// ContentType is the media type of a rendered report.
const ContentType = "text/html; charset=utf-8"

// ContentSecurityPolicy is the policy the page declares in a meta element, and a server sends
// as a header: nothing may be loaded from anywhere, inline styles aside, so even an escaping
// bug could not make the page fetch or run anything.
const ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'"

// Render writes the report as one HTML page. It renders into memory first, so a failure
// midway leaves w untouched rather than holding half a page.
func Render(w io.Writer, r *Report) error {
	var buf bytes.Buffer
	if err := page.Execute(&buf, r); err != nil {
		return fmt.Errorf("report: render: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}
