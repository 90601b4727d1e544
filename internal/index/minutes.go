package index

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
)

// Minutes are a finding's hits per minute, in minute order. A routine finding of a ten-day log
// has one per minute, 14,400 of them: as JSON objects they were most of the 1 GiB benchmark
// bundle's 1.1 MB index and of the 25 ms every search spent loading it, and as a JSON array of
// numbers still 5.6 ms, most of it encoding/json's scanner reading digits twice. They are saved
// as one base64 string of varints — the minute, its count, then for each next minute the
// minutes since the previous one and its count — which the scanner passes over as one string.
type Minutes []MinuteCount

// MarshalJSON writes the base64 string of varints.
func (ms Minutes) MarshalJSON() ([]byte, error) {
	buf := make([]byte, 0, len(ms)*4)
	var prev int64
	for _, m := range ms {
		buf = binary.AppendVarint(buf, m.M-prev)
		buf = binary.AppendVarint(buf, int64(m.N))
		prev = m.M
	}
	return json.Marshal(base64.StdEncoding.EncodeToString(buf))
}

// UnmarshalJSON reads what MarshalJSON writes.
func (ms *Minutes) UnmarshalJSON(data []byte) error {
	var s *string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("minutes: want a base64 string: %w", err)
	}
	if s == nil {
		*ms = nil
		return nil
	}
	buf, err := base64.StdEncoding.DecodeString(*s)
	if err != nil {
		return fmt.Errorf("minutes: %w", err)
	}
	out := make(Minutes, 0, len(buf)/4)
	var prev int64
	for i := 0; len(buf) > 0; i++ {
		d, k := binary.Varint(buf)
		if k <= 0 {
			return fmt.Errorf("minutes: entry %d: bad minute", i)
		}
		n, j := binary.Varint(buf[k:])
		if j <= 0 {
			return fmt.Errorf("minutes: entry %d: %w", i, errors.New("bad or missing count"))
		}
		prev += d
		out = append(out, MinuteCount{M: prev, N: int(n)})
		buf = buf[k+j:]
	}
	*ms = out
	return nil
}
