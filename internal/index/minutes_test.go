package index

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestMinutesRoundTrip(t *testing.T) {
	for _, ms := range []Minutes{
		nil,
		{},
		{{M: 29905110, N: 14}},
		{{M: 29905110, N: 14}, {M: 29905111, N: 29}, {M: 29905200, N: 1}},
		{{M: -5, N: 2}, {M: 0, N: 0}},
	} {
		b, err := json.Marshal(struct {
			M Minutes `json:"minutes"`
		}{ms})
		if err != nil {
			t.Fatal(err)
		}
		var back struct {
			M Minutes `json:"minutes"`
		}
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if !slices.Equal(back.M, ms) {
			t.Errorf("%s read back as %v, want %v", b, back.M, ms)
		}
	}
}

func TestMinutesWire(t *testing.T) {
	// Minute, count, then minutes since the previous and count.
	b, err := json.Marshal(Minutes{{M: 100, N: 3}, {M: 101, N: 4}, {M: 110, N: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "[100,3,1,4,9,1]" {
		t.Errorf("got %s", b)
	}
}

func TestMinutesBadInput(t *testing.T) {
	for in, want := range map[string]string{
		`{"m":1}`:      "want an array",
		`[1,2,3]`:      "3 numbers",
		`[1,"x"]`:      "number 1",
		`[1.5,2]`:      "number 0",
		`"[1,2]"`:      "want an array",
		`[1, 2 , 3,4]`: "",
	} {
		var ms Minutes
		err := json.Unmarshal([]byte(in), &ms)
		if want == "" {
			if err != nil {
				t.Errorf("%s: %v", in, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one saying %q", in, err, want)
		}
	}
}
