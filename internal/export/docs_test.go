package export

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nodediag/nodediag/internal/facts"
	"github.com/nodediag/nodediag/internal/index"
)

var update = flag.Bool("update", false, "rewrite docs/sql.md's Athena statements from the row types")

const sqlDoc = "../../docs/sql.md"

// docBlock returns the ```sql block that follows the marker comment in docs/sql.md.
func docBlock(doc []byte, marker string) (start, end int, ok bool) {
	i := bytes.Index(doc, []byte("<!-- "+marker+" -->\n```sql\n"))
	if i < 0 {
		return 0, 0, false
	}
	start = i + len("<!-- "+marker+" -->\n```sql\n")
	n := bytes.Index(doc[start:], []byte("```\n"))
	if n < 0 {
		return 0, 0, false
	}
	return start, start + n, true
}

func TestAthenaDDL(t *testing.T) {
	doc, err := os.ReadFile(sqlDoc)
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for _, table := range Tables {
		want.WriteString(AthenaDDL(table, "s3://BUCKET/export/"))
	}
	start, end, ok := docBlock(doc, "athena-ddl")
	if !ok {
		t.Fatal("docs/sql.md has no <!-- athena-ddl --> block")
	}
	if string(doc[start:end]) == want.String() {
		return
	}
	if !*update {
		t.Fatalf("docs/sql.md's Athena statements are not the row types' (go test ./internal/export -run TestAthenaDDL -update); want:\n%s", want.String())
	}
	out := slices.Concat(doc[:start], []byte(want.String()), doc[end:])
	if err := os.WriteFile(sqlDoc, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// duckdbDir is a folder whose node_modules holds @duckdb/node-api (`npm install
// @duckdb/node-api` there); .ci/run makes one. Without it the documented queries are not run,
// unless NODEDIAG_REQUIRE_DUCKDB says they must be.
func duckdbDir(t *testing.T) string {
	dir := os.Getenv("NODEDIAG_DUCKDB")
	_, err := os.Stat(filepath.Join(dir, "node_modules", "@duckdb", "node-api"))
	if dir != "" && err == nil {
		if _, err := exec.LookPath("node"); err == nil {
			return dir
		}
	}
	if os.Getenv("NODEDIAG_REQUIRE_DUCKDB") != "" {
		t.Fatalf("NODEDIAG_REQUIRE_DUCKDB is set but NODEDIAG_DUCKDB=%q has no node_modules/@duckdb/node-api or node is missing", dir)
	}
	t.Skip("set NODEDIAG_DUCKDB to a folder with `npm install @duckdb/node-api` to run docs/sql.md's queries in DuckDB")
	return ""
}

var markerRE = regexp.MustCompile("<!-- duckdb: ([a-z_]+) -->\n```sql\n")

// TestDocumentedQueries runs every DuckDB query of docs/sql.md on an export of five bundles of
// four nodes and checks each answer against what the indexes say.
func TestDocumentedQueries(t *testing.T) {
	dir := duckdbDir(t)
	st, idx := fleetStore(t)
	res, err := Run(context.Background(), st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(sqlDoc)
	if err != nil {
		t.Fatal(err)
	}
	var setup []string
	queries := map[string]string{}
	for _, m := range markerRE.FindAllSubmatch(doc, -1) {
		name := string(m[1])
		start, end, _ := docBlock(doc, "duckdb: "+name)
		sql := strings.ReplaceAll(string(doc[start:end]), "'export/", "'"+filepath.ToSlash(res.Dir)+"/")
		if name == "setup" || strings.HasPrefix(strings.TrimSpace(sql), "CREATE VIEW") {
			for _, stmt := range strings.Split(sql, ";") {
				if strings.TrimSpace(stmt) != "" {
					setup = append(setup, stmt)
				}
			}
			continue
		}
		queries[name] = sql
	}
	got := runDuckDB(t, dir, setup, queries)

	newest := newestBundles(idx)
	checks := map[string]func([]map[string]any) error{
		"oom_by_container": func(rows []map[string]any) error {
			return sameTotal(rows, "kills", count(newest, func(f facts.Fact) bool { return f.Kind == facts.OOMKill }))
		},
		"failed_exits": func(rows []map[string]any) error {
			want := map[string]bool{}
			for _, ix := range newest {
				for _, f := range ix.Facts {
					if f.Kind == facts.ContainerExit && f.ExitCode != nil && *f.ExitCode != 0 && f.Container != "" && f.ContainerID != "" {
						want[f.ContainerID] = true
					}
				}
			}
			return sameTotal(rows, "containers", len(want))
		},
		"rules_by_nodes": func(rows []map[string]any) error {
			nodes, hits := map[string]int{}, map[string]int{}
			for _, ix := range newest {
				for _, f := range ix.Findings {
					nodes[f.Rule+"/"+f.Severity]++
					hits[f.Rule+"/"+f.Severity] += f.Count
				}
			}
			if len(rows) != len(nodes) {
				return fmt.Errorf("%d rows, the indexes have %d rules", len(rows), len(nodes))
			}
			for _, r := range rows {
				k := fmt.Sprint(r["rule"], "/", r["severity"])
				if fmt.Sprint(r["nodes"]) != fmt.Sprint(nodes[k]) || fmt.Sprint(r["hits"]) != fmt.Sprint(hits[k]) {
					return fmt.Errorf("%s: %v nodes %v hits, the indexes say %d and %d", k, r["nodes"], r["hits"], nodes[k], hits[k])
				}
			}
			return nil
		},
		"oom_window": func(rows []map[string]any) error {
			from := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
			var all []*index.Index
			for _, ix := range idx {
				all = append(all, ix)
			}
			want := count(all, func(f facts.Fact) bool {
				return f.Kind == facts.OOMKill && !f.Ref.Time.Before(from) && f.Ref.Time.Before(from.Add(time.Hour))
			})
			if want == 0 {
				return fmt.Errorf("no OOM kill in the window: the check cannot fail")
			}
			if len(rows) != want {
				return fmt.Errorf("%d rows, the indexes have %d kills in the window", len(rows), want)
			}
			return nil
		},
		"quiet_nodes": func(rows []map[string]any) error {
			var want []string
			for _, ix := range newest {
				if len(ix.Facts) == 0 {
					want = append(want, ix.BundleID)
				}
			}
			var have []string
			for _, r := range rows {
				have = append(have, fmt.Sprint(r["bundle_id"]))
			}
			sort.Strings(want)
			sort.Strings(have)
			if len(want) == 0 || !slices.Equal(have, want) {
				return fmt.Errorf("quiet bundles %v, the indexes say %v", have, want)
			}
			return nil
		},
	}
	if len(newest) != 4 {
		t.Fatalf("%d newest bundles, want one for each of the 4 nodes", len(newest))
	}
	for name := range queries {
		check, ok := checks[name]
		if !ok {
			t.Errorf("docs/sql.md query %q has no check here", name)
			continue
		}
		if err := check(got[name]); err != nil {
			t.Errorf("%s: %v\nrows: %v", name, err, got[name])
		}
	}
	for name := range checks {
		if _, ok := queries[name]; !ok {
			t.Errorf("check %q has no query in docs/sql.md", name)
		}
	}
}

func runDuckDB(t *testing.T, dir string, setup []string, queries map[string]string) map[string][]map[string]any {
	t.Helper()
	script, err := os.ReadFile("testdata/duckdb.mjs")
	if err != nil {
		t.Fatal(err)
	}
	// Node resolves an ES module's imports from the module's own folder, so the script runs
	// from beside the node_modules that hold DuckDB.
	f, err := os.CreateTemp(dir, "nodediag-sqlcheck-*.mjs")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(f.Name()) })
	if _, err := f.Write(script); err != nil {
		t.Fatal(err)
	}
	f.Close()
	in, _ := json.Marshal(map[string]any{"setup": setup, "queries": queries})
	cmd := exec.Command("node", f.Name())
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("duckdb: %v\n%s", err, stderr.String())
	}
	var got map[string][]map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("duckdb output: %v\n%s", err, out)
	}
	return got
}

// newestBundles picks each instance's newest bundle, as the nodediag_newest view does.
func newestBundles(idx map[string]*index.Index) []*index.Index {
	best := map[string]*index.Index{}
	for _, ix := range idx {
		if b, ok := best[ix.InstanceID]; !ok || ix.Time.Capture.After(b.Time.Capture) {
			best[ix.InstanceID] = ix
		}
	}
	var out []*index.Index
	for _, ix := range best {
		out = append(out, ix)
	}
	return out
}

func count(idx []*index.Index, keep func(facts.Fact) bool) int {
	n := 0
	for _, ix := range idx {
		for _, f := range ix.Facts {
			if keep(f) {
				n++
			}
		}
	}
	return n
}

// sameTotal checks that a numeric column of the rows adds up to want, and that want is not zero:
// a check that zero rows pass proves nothing.
func sameTotal(rows []map[string]any, col string, want int) error {
	if want == 0 {
		return fmt.Errorf("the indexes have no %s: the check cannot fail", col)
	}
	total := 0
	for _, r := range rows {
		var n int
		if _, err := fmt.Sscan(fmt.Sprint(r[col]), &n); err != nil {
			return fmt.Errorf("%s = %v: %v", col, r[col], err)
		}
		total += n
	}
	if total != want {
		return fmt.Errorf("%s add up to %d, the indexes say %d", col, total, want)
	}
	return nil
}
