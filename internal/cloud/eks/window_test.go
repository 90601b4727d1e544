package eks

import (
	"testing"
	"time"
)

func TestLogsRequestWindow(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	end := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name             string
		req              LogsRequest
		wantStart, wantE time.Time
	}{
		{"defaults: the last hour", LogsRequest{}, now.Add(-DefaultLogWindow), now},
		{"last before now", LogsRequest{Last: 30 * time.Minute}, now.Add(-30 * time.Minute), now},
		{"last before end", LogsRequest{End: end, Last: 6 * time.Hour}, end.Add(-6 * time.Hour), end},
		{"start wins over last", LogsRequest{Start: end.Add(-time.Minute), End: end, Last: 6 * time.Hour}, end.Add(-time.Minute), end},
	} {
		start, e := tc.req.Window(now)
		if !start.Equal(tc.wantStart) || !e.Equal(tc.wantE) {
			t.Errorf("%s: window %s–%s, want %s–%s", tc.name, start, e, tc.wantStart, tc.wantE)
		}
	}
}
