// Command journalread prints journal files as internal/journal reads them, in journalctl's
// short-iso-precise form, for bench/journal-scale.sh to compare with journalctl itself and to
// time the two. It is a benchmark tool, not part of nodediag.
//
//	journalread [-u UNIT]... [-k] [-since TIME] FILE...
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/nodediag/nodediag/internal/journal"
)

type units []string

func (u *units) String() string     { return fmt.Sprint(*u) }
func (u *units) Set(v string) error { *u = append(*u, v); return nil }

func main() {
	var flt journal.Filter
	var us units
	flag.Var(&us, "u", "a unit, as journalctl -u (repeatable)")
	flag.BoolVar(&flt.Kernel, "k", false, "kernel messages of the newest boot, as journalctl -k")
	since := flag.String("since", "", `entries from this UTC time on, "2006-01-02 15:04:05", as journalctl --since under TZ=UTC`)
	flag.Parse()
	if *since != "" {
		t, err := time.Parse(time.DateTime, *since)
		if err != nil {
			fmt.Fprintf(os.Stderr, "journalread: -since %q: want \"2006-01-02 15:04:05\"\n", *since)
			os.Exit(2)
		}
		flt.Since = t
	}
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: journalread [-u UNIT]... [-k] FILE...")
		os.Exit(2)
	}
	for _, u := range us {
		flt.Units = append(flt.Units, journal.MangleUnit(u))
	}
	j := journal.Open(flag.Args(), journal.Limits{})
	defer j.Close()
	out := bufio.NewWriterSize(os.Stdout, 1<<16)
	n, err := journal.WriteShort(out, j.Entries(context.Background(), flt), time.UTC)
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "journalread: after %d entries: %v\n", n, err)
		os.Exit(1)
	}
}
