package index

import (
	"encoding/base64"
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
	// Varints of the minute and count, then minutes since the previous and count: zig-zag
	// coded, so 100 is 200 (0xc8 0x01), 3 is 6, 1 is 2, 4 is 8, 9 is 18, 1 is 2.
	b, err := json.Marshal(Minutes{{M: 100, N: 3}, {M: 101, N: 4}, {M: 110, N: 1}})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(base64.StdEncoding.EncodeToString([]byte{0xc8, 0x01, 6, 2, 8, 18, 2}))
	if string(b) != string(want) {
		t.Errorf("got %s, want %s", b, want)
	}
}

func TestMinutesBadInput(t *testing.T) {
	for in, want := range map[string]string{
		`[1,2]`:    "want a base64 string",
		`"%%%"`:    "illegal base64",
		`"yA=="`:   "entry 0: bad minute", // 0xc8: a varint cut short
		`"yAEG"`:   "",                    // minute 100, count 3
		`"yAEGAg"`: "illegal base64",
		`"AgQC"`:   "entry 1: bad or missing count",
		`null`:     "",
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
