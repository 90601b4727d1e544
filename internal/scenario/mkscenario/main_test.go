package main

import (
	"bytes"
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
