// Package formats holds nodediag's format matrix: for every producer that writes to a node's
// logs (containerd, runc, the kubelet, the kernel, systemd, the VPC CNI, …), the exact wording
// of each line nodediag detects or extracts — and of the benign look-alikes it must stay quiet
// on — at each release line in production, with the upstream file and version it comes from.
//
// The matrix is data (matrix/*.yaml, embedded). docs/formats.md is generated from it; the tests
// run every row's example line through the real indexer and require the rules and extractor the
// row names, and every example line of the rule catalog names the row it covers. A wording that
// changes upstream is a new row, so the engine cannot silently lose a version.
package formats

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

//go:embed matrix/*.yaml
var matrixFS embed.FS

// Producer is one file of the matrix: a program and the wordings it writes.
type Producer struct {
	Producer string   `yaml:"producer"`
	Repo     string   `yaml:"repo"`
	Versions []string `yaml:"versions"`
	Notes    string   `yaml:"notes,omitempty"`
	Rows     []Row    `yaml:"rows"`

	File string `yaml:"-"` // matrix/<name>.yaml
}

// Row is one wording of one event at one range of versions.
type Row struct {
	ID       string `yaml:"id"`
	Event    string `yaml:"event"`
	Versions string `yaml:"versions"`
	Level    string `yaml:"level,omitempty"`
	// Wording is the format string or literal as the upstream source writes it.
	Wording string `yaml:"wording"`
	// Upstream is path@tag#Lline in the producer's repository (or repo:path@tag#Lline); for a
	// version whose source could not be read, the https URL where that wording was published.
	Upstream string `yaml:"upstream"`
	// Example is one whole line as a bundle holds it, prefix included.
	Example string `yaml:"example"`
	// ExampleSource is "format" (built from Wording) or the URL where the line was published.
	ExampleSource string `yaml:"exampleSource"`
	LogType       string `yaml:"logType"`
	// Rules must all fire on Example; an empty list means none is expected to.
	Rules []string `yaml:"rules"`
	// Extract, when set, must yield a fact from Example.
	Extract string `yaml:"extract,omitempty"`
	// Benign rows must raise no crash fact and no high or critical finding.
	Benign bool   `yaml:"benign,omitempty"`
	Notes  string `yaml:"notes,omitempty"`

	Producer *Producer `yaml:"-"`
}

// Matrix is every producer's rows, in file-name order.
type Matrix struct {
	Producers []*Producer
	byID      map[string]*Row
}

// Row returns the row with the given id, or nil.
func (m *Matrix) Row(id string) *Row { return m.byID[id] }

// Rows returns every row in matrix order.
func (m *Matrix) Rows() []*Row {
	var out []*Row
	for _, p := range m.Producers {
		for i := range p.Rows {
			out = append(out, &p.Rows[i])
		}
	}
	return out
}

// Load returns the embedded matrix, parsed and validated once per process.
var Load = sync.OnceValues(func() (*Matrix, error) { return Parse(matrixFS, "matrix") })

// Parse reads every *.yaml file of dir in fsys and validates the schema: known fields only,
// required fields present, ids unique across files.
func Parse(fsys fs.FS, dir string) (*Matrix, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	m := &Matrix{byID: map[string]*Row{}}
	var errs []error
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		p, err := parseProducer(data)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		p.File = path.Join("matrix", path.Base(name))
		for i := range p.Rows {
			r := &p.Rows[i]
			r.Producer = p
			if prev, dup := m.byID[r.ID]; dup {
				errs = append(errs, fmt.Errorf("%s: row %s: id also used in %s", name, r.ID, prev.Producer.File))
				continue
			}
			m.byID[r.ID] = r
		}
		m.Producers = append(m.Producers, p)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(m.byID) == 0 {
		return nil, fmt.Errorf("%s: no rows", dir)
	}
	return m, nil
}

var rowIDRE = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

func parseProducer(data []byte) (*Producer, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var p Producer
	if err := dec.Decode(&p); err != nil {
		return nil, err
	}
	var errs []error
	if p.Producer == "" || p.Repo == "" || len(p.Versions) == 0 {
		errs = append(errs, errors.New("producer, repo and versions are required"))
	}
	for i := range p.Rows {
		r := &p.Rows[i]
		name := r.ID
		if name == "" {
			name = fmt.Sprintf("#%d", i+1)
		}
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("row %s: %s", name, fmt.Sprintf(format, args...)))
		}
		if !rowIDRE.MatchString(r.ID) {
			bad("id %q is not kebab-case", r.ID)
		}
		for field, v := range map[string]string{"event": r.Event, "versions": r.Versions, "wording": r.Wording,
			"upstream": r.Upstream, "example": r.Example, "exampleSource": r.ExampleSource, "logType": r.LogType} {
			if strings.TrimSpace(v) == "" {
				bad("%s is missing", field)
			}
		}
		if strings.ContainsAny(r.Example, "\n") {
			bad("example spans lines")
		}
		if r.ExampleSource != "format" && !strings.HasPrefix(r.ExampleSource, "https://") {
			bad("exampleSource %q is neither \"format\" nor an https URL", r.ExampleSource)
		}
		if !strings.Contains(r.Upstream, "@") && !strings.HasPrefix(r.Upstream, "https://") {
			bad("upstream %q names neither a version (path@tag) nor a published line (https URL)", r.Upstream)
		}
	}
	return &p, errors.Join(errs...)
}
