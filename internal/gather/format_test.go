package gather

import (
	"testing"
	"time"

	"github.com/nodediag/nodediag/internal/logtime"
)

// The node log query's lines (journalctl --utc -o short-precise) and Local's
// (-o short-iso-precise) are written as they come, so internal/logtime must read both prefixes
// (bodies without a stamp of their own, which logtime would prefer).
func TestGatheredLineFormats(t *testing.T) {
	capture := time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)
	tests := []struct {
		line   string
		format logtime.Format
		want   time.Time
	}{
		{"Nov 20 10:26:17.473201 ip-10-0-1-2.us-west-2.compute.internal systemd[1]: kubelet.service: Scheduled restart job",
			logtime.JournalShortPrecise, time.Date(2026, 11, 20, 10, 26, 17, 473201000, time.UTC)},
		{"2026-11-20T10:26:17.473201+0000 ip-10-0-1-2.us-west-2.compute.internal kernel: Memory cgroup out of memory: Killed process 39636 (java)",
			logtime.JournalISO, time.Date(2026, 11, 20, 10, 26, 17, 473201000, time.UTC)},
		{"2026-11-20T10:26:17.5Z stdout F starting", logtime.CRI, time.Date(2026, 11, 20, 10, 26, 17, 500000000, time.UTC)},
	}
	c := &logtime.Context{Capture: capture}
	for _, tc := range tests {
		if got := logtime.Sniff([][]byte{[]byte(tc.line)}); got != tc.format {
			t.Errorf("Sniff(%.40q…) = %s, want %s", tc.line, got, tc.format)
		}
		st := c.Parse(tc.format, []byte(tc.line))
		if st.Quality == logtime.None || !st.Time.Equal(tc.want) {
			t.Errorf("Parse(%.40q…) = %s (%s), want %s", tc.line, st.Time, st.Quality, tc.want)
		}
	}
}
