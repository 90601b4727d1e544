package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodediag/nodediag/internal/scenario"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		args    []string
		wantErr bool
		want    []string // substrings of stdout
	}{
		{name: "list", args: []string{"-list"}, want: scenario.Names()},
		{name: "unknown scenario", args: []string{"-scenario", "nope"}, wantErr: true},
		{name: "unknown layout", args: []string{"-scenario", "healthy", "-layout", "ubuntu", "-out", dir}, wantErr: true},
		{name: "bad capture", args: []string{"-scenario", "healthy", "-capture", "yesterday"}, wantErr: true},
		{name: "folder", args: []string{"-scenario", "segfault", "-noise", "50", "-out", filepath.Join(dir, "f")}, want: []string{"bottlerocket-logs"}},
		{name: "archive", args: []string{"-scenario", "exec-not-found", "-layout", "al2023", "-archive", "-noise", "50", "-out", filepath.Join(dir, "a")},
			want: []string{"eks_i-0a1b2c3d4e5f60718_2026-11-20_1030-UTC_0.7.9.tar.gz"}},
		{name: "containerd", args: []string{"-scenario", "segfault", "-layout", "al2023", "-containerd", "1.7.23", "-noise", "50", "-out", filepath.Join(dir, "c")},
			want: []string{"eks_i-0a1b2c3d4e5f60718_"}},
		{name: "unknown containerd", args: []string{"-scenario", "segfault", "-containerd", "1.5.2", "-out", filepath.Join(dir, "u")}, wantErr: true},
		{name: "year turn", args: []string{"-scenario", "healthy", "-year-turn", "-archive", "-noise", "50", "-out", filepath.Join(dir, "y")},
			want: []string{"_2027-01-02_0020-UTC_"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(tt.args, &out)
			if (err != nil) != tt.wantErr {
				t.Fatalf("run(%v) error = %v, want error %v", tt.args, err, tt.wantErr)
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output %q lacks %q", out.String(), w)
				}
			}
			if !tt.wantErr && !strings.Contains(strings.Join(tt.args, " "), "-list") {
				if _, err := os.Stat(strings.TrimSpace(out.String())); err != nil {
					t.Errorf("printed path does not exist: %v", err)
				}
			}
		})
	}
}

// TestRunFleet: -fleet writes one archive per planned node in a folder named by its instance id,
// the archive named with it where the layout's producer does so, and fleet.json with the plan.
func TestRunFleet(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run([]string{"-fleet", "5", "-noise", "50", "-out", dir}, &out); err != nil {
		t.Fatal(err)
	}
	plan, err := scenario.PlanFleet(5)
	if err != nil {
		t.Fatal(err)
	}
	paths := strings.Fields(out.String())
	if len(paths) != len(plan.Nodes) {
		t.Fatalf("%d archives printed, want %d: %v", len(paths), len(plan.Nodes), paths)
	}
	for i, n := range plan.Nodes {
		if _, err := os.Stat(paths[i]); err != nil || filepath.Base(filepath.Dir(paths[i])) != n.InstanceID {
			t.Errorf("node %s: archive %s (%v)", n.InstanceID, paths[i], err)
		}
		// The EKS log collector names its archive with the instance; logdog and the NMA do not.
		if (n.Layout == scenario.AL2 || n.Layout == scenario.AL2023) && !strings.Contains(filepath.Base(paths[i]), n.InstanceID) {
			t.Errorf("node %s: the archive's name %s does not carry its instance id", n.InstanceID, filepath.Base(paths[i]))
		}
	}
	var written scenario.Fleet
	data, err := os.ReadFile(filepath.Join(dir, "fleet.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &written); err != nil || len(written.Shared) != len(plan.Shared) {
		t.Errorf("fleet.json: %v, %d shared incidents, want %d", err, len(written.Shared), len(plan.Shared))
	}
}
