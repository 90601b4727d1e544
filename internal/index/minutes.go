package index

import (
	"bytes"
	"fmt"
	"strconv"
)

// Minutes are a finding's hits per minute, in minute order. A routine finding of a ten-day log
// has one per minute, 14,400 of them; as JSON objects they were most of the 1 GiB benchmark
// bundle's 1.1 MB index and of the 25 ms every search spent loading it. Saved as one flat array
// of numbers, [minute, count, minutes since the previous, count, …], they load without reflection.
type Minutes []MinuteCount

// MarshalJSON writes the flat, delta-coded array.
func (ms Minutes) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 2+len(ms)*8)
	b = append(b, '[')
	var prev int64
	for i, m := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, m.M-prev, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(m.N), 10)
		prev = m.M
	}
	return append(b, ']'), nil
}

// UnmarshalJSON reads what MarshalJSON writes; the decoder has already checked it is JSON.
func (ms *Minutes) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if bytes.Equal(data, []byte("null")) {
		*ms = nil
		return nil
	}
	if len(data) < 2 || data[0] != '[' || data[len(data)-1] != ']' {
		return fmt.Errorf("minutes: want an array of numbers, got %.20q", data)
	}
	body := bytes.TrimSpace(data[1 : len(data)-1])
	if len(body) == 0 {
		*ms = Minutes{}
		return nil
	}
	out := make(Minutes, 0, bytes.Count(body, []byte(","))/2+1)
	var prev int64
	i := 0
	for ; len(body) > 0; i++ {
		var field []byte
		field, body, _ = bytes.Cut(body, []byte(","))
		v, err := strconv.ParseInt(string(bytes.TrimSpace(field)), 10, 64)
		if err != nil {
			return fmt.Errorf("minutes: number %d: %w", i, err)
		}
		if i%2 == 0 {
			prev += v
			out = append(out, MinuteCount{M: prev})
		} else {
			out[len(out)-1].N = int(v)
		}
	}
	if i%2 != 0 {
		return fmt.Errorf("minutes: %d numbers, want minute and count pairs", i)
	}
	*ms = out
	return nil
}
