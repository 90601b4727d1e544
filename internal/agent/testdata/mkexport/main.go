// Command mkexport writes a scenario's node journal (internal/scenario's Bottlerocket bundle,
// the journal the agent tests' fake journalctl prints) in systemd's journal export format, for
// systemd-journal-remote to turn into the real journal file the agent test reads (see
// ../README.md). Each line becomes an entry: kernel lines with _TRANSPORT=kernel, the others
// from their unit (ident.service), with the host, identifier, pid and time of the line.
//
// Usage: go run ./internal/agent/testdata/mkexport SCENARIO > entries.export
package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/nodediag/nodediag/internal/scenario"
)

// line is "Nov 20 10:26:17.000001 host ident[pid]: message" (or "ident: message").
var line = regexp.MustCompile(`^(\w{3} \d\d \d\d:\d\d:\d\d\.\d{6}) (\S+) ([^\s\[:]+)(?:\[(\d+)\])?: (.*)$`)

// bootID is the one boot of the scenario's node.
const bootID = "5c3e1f0a9b8d4c2e8f6a4b2c0d9e8f7a"

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: mkexport SCENARIO")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(name string) error {
	s, ok := scenario.Lookup(name)
	if !ok {
		return fmt.Errorf("no scenario %q", name)
	}
	dir, err := os.MkdirTemp("", "mkexport-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// Fewer noise lines than the agent tests. newHost (300) keep the file small; the crash lines
	// and ids do not depend on the noise.
	bundle, err := scenario.Write(filepath.Join(dir, "folder"), s, scenario.Bottlerocket, scenario.Options{NoiseLines: 20})
	if err != nil {
		return err
	}
	data, err := os.ReadFile(filepath.Join(bundle, "journalctl.log"))
	if err != nil {
		return err
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	year := scenario.DefaultCapture.Year()
	var first time.Time
	for _, l := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			return fmt.Errorf("journal line %q is not host ident[pid]: message", l)
		}
		at, err := time.Parse("Jan 02 15:04:05.000000 2006", fmt.Sprintf("%s %d", m[1], year))
		if err != nil {
			return err
		}
		if first.IsZero() {
			first = at
		}
		fmt.Fprintf(w, "__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=%d\n_BOOT_ID=%s\n_HOSTNAME=%s\n",
			at.UnixMicro(), 60_000_000+at.Sub(first).Microseconds(), bootID, m[2])
		if m[3] == "kernel" {
			fmt.Fprintf(w, "_TRANSPORT=kernel\nSYSLOG_IDENTIFIER=kernel\n")
		} else {
			fmt.Fprintf(w, "_TRANSPORT=stdout\nSYSLOG_IDENTIFIER=%s\n_SYSTEMD_UNIT=%s.service\n_UID=0\n", m[3], m[3])
			if m[4] != "" {
				fmt.Fprintf(w, "_PID=%s\n", m[4])
			}
		}
		fmt.Fprintf(w, "MESSAGE=%s\n\n", m[5])
	}
	return nil
}
