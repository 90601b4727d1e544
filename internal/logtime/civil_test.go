package logtime

import (
	"testing"
	"time"
)

// TestCalendarArithmetic compares the fast UTC path with the time package over every day of
// four centuries around the epoch (both leap-century rules, negative Unix times) and at the
// last second of each day.
func TestCalendarArithmetic(t *testing.T) {
	start := time.Date(1800, 1, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
	for d := start; d.Before(end); d = d.AddDate(0, 0, 1) {
		cv := civil{month: d.Month(), day: d.Day(), hour: 23, min: 59, sec: 59}
		want := d.Add(24*time.Hour - time.Second).Unix()
		if got := cv.unix(d.Year()); got != want {
			t.Fatalf("%v: unix %d, want %d", d, got, want)
		}
		if got := yearOfUnix(want); got != d.Year() {
			t.Fatalf("%v: yearOfUnix(last second) = %d", d, got)
		}
		if got := yearOfUnix(d.Unix()); got != d.Year() {
			t.Fatalf("%v: yearOfUnix(first second) = %d", d, got)
		}
	}
}

func TestValidDay(t *testing.T) {
	cases := []struct {
		y    int
		m    time.Month
		d    int
		want bool
	}{
		{2024, time.February, 29, true},
		{2023, time.February, 29, false},
		{1900, time.February, 29, false},
		{2000, time.February, 29, true},
		{0, time.February, 29, true}, // year not known yet
		{0, time.February, 30, false},
		{2024, time.April, 31, false},
		{2024, time.December, 31, true},
		{2024, time.Month(13), 1, false},
		{2024, time.January, 0, false},
	}
	for _, tc := range cases {
		if got := validDay(tc.y, tc.m, tc.d); got != tc.want {
			t.Errorf("validDay(%d, %v, %d) = %v", tc.y, tc.m, tc.d, got)
		}
	}
}
