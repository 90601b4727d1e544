package report

import (
	"time"
)

// Timeline is the crash loop on one time axis: a lane per log source, each mark placed by its
// time, in the SVG's user units (the page scales the drawing to its width).
type Timeline struct {
	Width, Height float64
	Left, Right   float64 // x of the axis's ends
	AxisY         float64
	Lanes         []Lane
	Marks         []Mark
	Ticks         []Tick
	From, To      time.Time
	Dropped       int // marks left out by MaxMarks
}

// Lane is one row of the timeline.
type Lane struct {
	Name  string
	Y     float64 // centre line
	Count int
}

// Tick is one labelled position on an axis.
type Tick struct {
	Pos   float64
	Label string
}

// Geometry of the timeline drawing.
const (
	tlWidth  = 1000.0
	tlLeft   = 110.0
	tlRight  = tlWidth - 20
	laneH    = 34.0
	tlTopPad = 10.0
)

// tickSteps are the axis intervals a reader counts in.
var tickSteps = []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second,
	30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 48 * time.Hour, 7 * 24 * time.Hour}

// maxTicks keeps the axis labels apart at the drawing's width.
const maxTicks = 8

// layout places the marks and the Kubernetes events on the lanes that have any.
func layout(marks []Mark, evs []KubeEvent) Timeline {
	var t Timeline
	for _, e := range evs {
		if e.Time.IsZero() {
			continue
		}
		marks = append(marks, Mark{Lane: LaneKube, Kind: "Event", Time: e.Time, Summary: e.Type + " " + e.Reason + ": " + e.Message,
			Repeats: e.Count - 1, Anchor: e.Anchor, Class: "k-event"})
	}
	if len(marks) == 0 {
		return t
	}
	count := map[string]int{}
	t.From, t.To = marks[0].Time, marks[0].Time
	for _, m := range marks {
		count[m.Lane]++
		if m.Time.Before(t.From) {
			t.From = m.Time
		}
		if m.Time.After(t.To) {
			t.To = m.Time
		}
		if m.Until.After(t.To) {
			t.To = m.Until
		}
	}
	laneY := map[string]float64{}
	y := tlTopPad + laneH/2
	for _, name := range lanes {
		if count[name] == 0 {
			continue
		}
		t.Lanes = append(t.Lanes, Lane{Name: name, Y: y, Count: count[name]})
		laneY[name] = y
		y += laneH
	}
	t.AxisY = y - laneH/2 + 8
	t.Height = t.AxisY + 30
	t.Width, t.Left, t.Right = tlWidth, tlLeft, tlRight
	span := t.To.Sub(t.From)
	// A lone event (or a burst within a second) still needs an axis: a second either side.
	pad := max(span/20, time.Second)
	from, to := t.From.Add(-pad), t.To.Add(pad)
	x := func(at time.Time) float64 {
		return t.Left + (t.Right-t.Left)*float64(at.Sub(from))/float64(to.Sub(from))
	}
	// In a lane that holds several kinds (kubelet: exits and back-offs a second apart), the
	// kinds that kill sit above the centre line and the others below, so neither hides the other.
	kinds := map[string]map[string]bool{}
	for _, m := range marks {
		if kinds[m.Lane] == nil {
			kinds[m.Lane] = map[string]bool{}
		}
		kinds[m.Lane][m.Class] = true
	}
	const nudge = 5.0
	for i := range marks {
		marks[i].X, marks[i].Y = x(marks[i].Time), laneY[marks[i].Lane]
		if len(kinds[marks[i].Lane]) > 1 {
			if marks[i].Class == "k-kill" || marks[i].Class == "k-exit" {
				marks[i].Y -= nudge
			} else {
				marks[i].Y += nudge
			}
		}
		if !marks[i].Until.IsZero() {
			marks[i].X2 = x(marks[i].Until)
		}
	}
	t.Marks = marks
	step := tickSteps[len(tickSteps)-1]
	for _, s := range tickSteps {
		if to.Sub(from)/s <= maxTicks {
			step = s
			break
		}
	}
	format := "15:04:05"
	if step >= 24*time.Hour {
		format = "Jan 2"
	} else if to.Sub(from) >= 24*time.Hour {
		format = "Jan 2 15:04"
	}
	for at := from.Truncate(step).Add(step); !at.After(to); at = at.Add(step) {
		t.Ticks = append(t.Ticks, Tick{Pos: x(at), Label: at.UTC().Format(format)})
	}
	return t
}
