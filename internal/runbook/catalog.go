package runbook

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/nodediag/nodediag/runbooks"
)

// CatchAll is the id of the general runbook: Match ranks it after every runbook with a more
// specific trigger, because its triggers match almost any error line.
const CatchAll = "Z1"

// Catalog is a set of runbooks by id: the built-ins, then a team's own, which replace built-ins
// with the same id.
type Catalog struct {
	byID     map[string]*Runbook
	triggers map[string][]trigger
}

// trigger is a compiled front-matter trigger with the literals one of which a text must contain
// to match it (nil: no such literals, always run the regex).
type trigger struct {
	src  string
	re   *regexp.Regexp
	lits []string
}

// NewCatalog returns an empty catalog.
func NewCatalog() *Catalog {
	return &Catalog{byID: map[string]*Runbook{}, triggers: map[string][]trigger{}}
}

// Builtin returns the catalog of the runbooks embedded from runbooks/*.md. It fails when one of
// them does not parse or is incomplete: that is a bug in nodediag, caught by the tests.
func Builtin() (*Catalog, error) {
	c := NewCatalog()
	if err := c.loadFS(runbooks.FS, ".", "builtin:"); err != nil {
		return nil, fmt.Errorf("built-in runbooks: %w", err)
	}
	return c, nil
}

// LoadDir adds every *.md runbook in dir (not its subfolders) to the catalog; a runbook replaces
// the one with the same id already there. Either every file is added or none: a file that does not
// parse, has incomplete front matter or a trigger that does not compile, or shares its id with
// another file of dir, fails the whole load with an error naming the file and the field.
func (c *Catalog) LoadDir(dir string) error {
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("runbook folder: %w", err)
	}
	if !info.IsDir() {
		return fmt.Errorf("runbook folder %s: not a folder (want a folder of *.md runbooks)", dir)
	}
	return c.loadFS(os.DirFS(dir), dir, "")
}

func (c *Catalog) loadFS(fsys fs.FS, dir, prefix string) error {
	names, err := fs.Glob(fsys, "*.md")
	if err != nil {
		return fmt.Errorf("listing %s: %w", dir, err)
	}
	if len(names) == 0 {
		return fmt.Errorf("%s holds no *.md runbook", dir)
	}
	var (
		errs   []error
		loaded []*Runbook
		from   = map[string]string{}
	)
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		source := prefix + name
		if prefix == "" {
			source = filepath.Join(dir, name)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("reading runbook %s: %w", source, err))
			continue
		}
		rb, err := Parse(source, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if other, dup := from[rb.ID]; dup {
			errs = append(errs, fmt.Errorf("runbook %s: id %s is also the id of %s (one file per id)", source, rb.ID, other))
			continue
		}
		from[rb.ID] = source
		for _, p := range Check(rb) {
			errs = append(errs, p)
		}
		loaded = append(loaded, rb)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	for _, rb := range loaded {
		c.Add(rb)
	}
	return nil
}

// Add puts rb in the catalog, replacing the runbook with the same id. Triggers that do not
// compile are left out of matching; Check and Lint report them.
func (c *Catalog) Add(rb *Runbook) {
	c.byID[rb.ID] = rb
	ts := make([]trigger, 0, len(rb.Triggers))
	for _, t := range rb.Triggers {
		if re, err := compileTrigger(t); err == nil {
			ts = append(ts, trigger{src: t, re: re, lits: requiredLiterals(t)})
		}
	}
	c.triggers[rb.ID] = ts
}

// compileTrigger compiles a front-matter trigger. Triggers match case-insensitively: the SOPs
// write "oom-kill" and "OOMKilled" for lines that spell them in either case.
func compileTrigger(t string) (*regexp.Regexp, error) {
	return regexp.Compile("(?i)" + t)
}

// Get returns the runbook with that id; ids are matched case-insensitively ("k3" finds K3).
func (c *Catalog) Get(id string) (*Runbook, bool) {
	rb, ok := c.byID[strings.ToUpper(strings.TrimSpace(id))]
	return rb, ok
}

// List returns the runbooks sorted by id.
func (c *Catalog) List() []*Runbook {
	out := make([]*Runbook, 0, len(c.byID))
	for _, rb := range c.byID {
		out = append(out, rb)
	}
	slices.SortFunc(out, func(a, b *Runbook) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// IDs returns the catalog's ids, sorted.
func (c *Catalog) IDs() []string {
	ids := make([]string, 0, len(c.byID))
	for id := range c.byID {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
