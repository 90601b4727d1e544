package correlate

import (
	"strings"
	"testing"
	"time"
)

func TestNewestChains(t *testing.T) {
	at := func(m int) time.Time { return time.Date(2026, 11, 20, 8, m, 0, 0, time.UTC) }
	cs := []Chain{{Cause: "oom", Time: at(1)}, {Cause: "oom", Time: at(5)}, {Cause: "exit", Time: at(3)}, {Cause: "oom", Time: at(5)}, {Cause: "oom", Time: at(9)}}
	kept, notes := newestChains(cs, 2, nil)
	if len(kept) != 2 || !kept[0].Time.Equal(at(5)) || !kept[1].Time.Equal(at(9)) {
		t.Errorf("kept %+v, want the 08:05 chain and the 08:09 one, in their order", kept)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "3 older chains") || !strings.Contains(notes[0], "exit ×1, oom ×2") {
		t.Errorf("notes %q", notes)
	}
	kept, _ = newestChains(cs, 3, nil)
	if len(kept) != 3 || !kept[0].Time.Equal(at(5)) || !kept[1].Time.Equal(at(5)) || !kept[2].Time.Equal(at(9)) {
		t.Errorf("kept %+v, want both 08:05 chains and the 08:09 one", kept)
	}
}
