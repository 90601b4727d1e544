package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
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

// Render returns the report as one HTML page, whole: a failure midway gives no half page to
// write or serve.
func Render(r *Report) ([]byte, error) {
	var buf bytes.Buffer
	if err := page.Execute(&buf, r); err != nil {
		return nil, fmt.Errorf("report: render: %w", err)
	}
	return buf.Bytes(), nil
}
