package journal

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestSinceSkipsWhatIsOlder: with --since late in a journal of two files, the older file is
// left out by its header and the newer one's older entry arrays by their last entry, and the
// entries given are exactly those a walk of every entry keeps.
func TestSinceSkipsWhatIsOlder(t *testing.T) {
	paths := testJournal(t, "dir")
	if len(paths) != 2 {
		t.Fatalf("dir: %d files, want 2", len(paths))
	}
	j := Open(paths, Limits{})
	defer j.Close()

	// Every entry, walked without since, and the time of the 100th of the 118.
	var all []entryHead
	for _, f := range j.Files {
		h := &head{f: f, c: f.cursor(0)}
		for h.advance() {
			all = append(all, h.e)
		}
	}
	if len(all) != 118 {
		t.Fatalf("%d entries, want 118", len(all))
	}
	var times []uint64
	for _, e := range all {
		times = append(times, e.realtime)
	}
	slices.Sort(times)
	since := times[100]
	want := 0
	for _, rt := range times {
		if rt >= since {
			want++
		}
	}

	older, newer := j.Files[0], j.Files[1]
	if older.tailTime > newer.tailTime {
		older, newer = newer, older
	}
	if !older.before(since) || newer.before(since) {
		t.Errorf("file skips: older %v, newer %v; want the older file skipped by its header only", older.before(since), newer.before(since))
	}
	c := newer.cursor(since)
	got := 0
	for {
		off, ok := c.next()
		if !ok {
			break
		}
		e, err := newer.entryHead(off)
		if err != nil {
			t.Fatal(err)
		}
		if e.realtime >= since {
			got++
		}
	}
	if c.err != nil {
		t.Fatal(c.err)
	}
	if c.skipped == 0 {
		t.Error("no entry array of the newer file skipped, though most of its entries are older than since")
	}

	n := 0
	for e, err := range j.Entries(context.Background(), Filter{Since: time.UnixMicro(int64(since))}) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Realtime < since {
			t.Errorf("entry %d at %d, before since %d", e.Seqnum, e.Realtime, since)
		}
		n++
	}
	if n != want || got != want {
		t.Errorf("since: Entries gave %d, the newer file's cursor %d; want %d, what walking every entry keeps", n, got, want)
	}
}
