package regex

// The DFA's inner loop waits on one table load per byte: each load needs the state the last one
// gave. runSplit cuts a text into lanes and steps them together, so that their loads overlap.
// Every lane but the first starts from a guess: the state of an unanchored search that begins
// there. The true state at the lane's start (the end of the lane before it, once known) is then
// run over the lane until it meets the guess's run, which on node logs takes at most a few
// bytes, since the older threads the guess lacks die there. From the byte where the two runs
// meet they are one run, so the answer is exact; a lane whose runs do not meet within its first
// meetWithin bytes is read again from the true state, which costs time, never correctness.
//
// A guessed lane that starts on a rune's first byte needs no meeting to report a match: its
// threads are some of the true run's (those that start there), so its match is the true run's.

const (
	maxLanes   = 4
	minLane    = 32 // shorter lanes spend more on starting and meeting than they save
	meetWithin = 16 // how many of a guessed lane's states are kept to meet
)

// lanes is the state of runSplit.
type lanes struct {
	k       int
	at      [maxLanes + 1]int // lane j is b[at[j]:at[j+1]]
	s       [maxLanes]uint32  // each lane's state
	trusted [maxLanes]bool    // the lane starts on a rune's first byte
	rec     *[maxLanes][meetWithin]uint32
}

func (c *cache) runSplit(b []byte, start uint32, k int) int {
	gen := c.gen
	l := lanes{k: k, rec: &c.rec}
	l.s[0], l.at[k], l.trusted[0] = start, len(b), true
	for j := 1; j < k; j++ {
		p := len(b) * j / k
		for t := 0; t < 3 && b[p]&0xC0 == 0x80; t++ {
			p++ // a rune's first byte, where the guess can be right
		}
		l.at[j], l.trusted[j] = p, b[p]&0xC0 != 0x80
		ctx := c.p.context[b[p-1]]
		if l.s[j] = c.restarts[ctx]; l.s[j] == unknown {
			if l.s[j] = c.restart(ctx); l.s[j] >= tagged || c.gen != gen {
				return c.again(b)
			}
		}
	}
	n := len(b)
	for j := range k {
		n = min(n, l.at[j+1]-l.at[j])
	}
	i := 0
	for i < n {
		if k == 4 {
			i = lanes4(c.trans, &c.p.classes, b, &l, i, n)
		} else {
			i = lanes2(c.trans, &c.p.classes, b, &l, i, n)
		}
		if i == n {
			break
		}
		// A lane met a special value at i: a state to build, a match, or a byte not valid here.
		v, ok := c.stepLanes(b, &l, i)
		if c.gen != gen {
			return c.again(b)
		}
		if v != 0 {
			return verdict(v)
		}
		if !ok {
			break // a guessed lane stopped: the rest goes lane by lane
		}
		i++
	}
	return c.finishLanes(b, &l, i, gen)
}

// stepLanes steps every lane over its byte i the slow way. It returns a special value that
// settles the whole text, or false when a guessed lane met one that does not.
func (c *cache) stepLanes(b []byte, l *lanes, i int) (uint32, bool) {
	var next [maxLanes]uint32
	for j := range l.k {
		cl := uint32(c.p.classes[b[l.at[j]+i]])
		gen := c.gen
		next[j] = c.slow(l.s[j], cl)
		if c.gen != gen {
			return 0, false
		}
		switch {
		case next[j] == matched && l.trusted[j]:
			return matched, true
		case next[j] >= tagged && j == 0:
			return next[j], true
		case next[j] >= tagged:
			return 0, false
		}
	}
	for j := range l.k {
		l.s[j] = next[j]
		if j > 0 && i < meetWithin {
			l.rec[j][i] = next[j]
		}
	}
	return 0, true
}

// finishLanes takes every lane from its byte i to its end alone, then runs the true state
// through the guessed lanes until it meets their runs.
func (c *cache) finishLanes(b []byte, l *lanes, i, gen int) int {
	var stop [maxLanes]int // where a guessed lane met a special value, or its length
	for j := range l.k {
		st, m := c.scan(l.s[j], b[l.at[j]+i:l.at[j+1]], l.rec[j][min(i, meetWithin):])
		if j == 0 && l.at[j]+i+m < l.at[1] {
			return verdict(st) // the true run matched, or met invalid UTF-8
		}
		if c.gen != gen {
			return c.again(b)
		}
		if st == matched && l.trusted[j] {
			return isMatch
		}
		l.s[j], stop[j] = st, i+m
	}
	truth := l.s[0]
	for j := 1; j < l.k; j++ {
		lane := b[l.at[j]:l.at[j+1]]
		var met bool
		var v uint32
		truth, met, v = c.meet(lane, truth, l.rec[j][:min(stop[j], meetWithin)])
		if v != 0 {
			return verdict(v)
		}
		if c.gen != gen {
			return c.again(b)
		}
		if met {
			if stop[j] < len(lane) {
				return verdict(l.s[j]) // the guess's special value is the true run's
			}
			truth = l.s[j]
		}
	}
	return verdict(c.end(truth))
}

// meet runs state s over lane until its state after byte i equals rec[i], and reports whether
// it did. It returns the state at the lane's end when they never meet, or a special value the
// run stopped on.
func (c *cache) meet(lane []byte, s uint32, rec []uint32) (uint32, bool, uint32) {
	trans, cls := c.trans, &c.p.classes
	for i, x := range lane {
		next := trans[s+uint32(cls[x])]
		if next >= tagged {
			gen := c.gen
			if next = c.slow(s, uint32(cls[x])); next >= tagged {
				return 0, false, next
			}
			if c.gen != gen {
				return 0, false, 0
			}
			trans = c.trans
		}
		if i < len(rec) && next == rec[i] {
			return next, true, 0
		}
		s = next
	}
	return s, false, 0
}

// lanes2 steps two lanes together from their byte i to byte n, or until one meets a special
// value, and returns where they stopped. The first meetWithin states of the guessed lane are
// kept.
func lanes2(trans []uint32, cls *[256]uint8, b []byte, l *lanes, i, n int) int {
	b0, b1 := b[l.at[0]:l.at[0]+n], b[l.at[1]:l.at[1]+n]
	s0, s1 := l.s[0], l.s[1]
	for ; i < min(n, meetWithin); i++ {
		n0 := trans[s0+uint32(cls[b0[i]])]
		n1 := trans[s1+uint32(cls[b1[i]])]
		if (n0|n1)&tagged != 0 {
			break
		}
		l.rec[1][i] = n1
		s0, s1 = n0, n1
	}
	if i >= meetWithin {
		for ; i < n; i++ {
			n0 := trans[s0+uint32(cls[b0[i]])]
			n1 := trans[s1+uint32(cls[b1[i]])]
			if (n0|n1)&tagged != 0 {
				break
			}
			s0, s1 = n0, n1
		}
	}
	l.s[0], l.s[1] = s0, s1
	return i
}

// lanes4 is lanes2 for four lanes.
func lanes4(trans []uint32, cls *[256]uint8, b []byte, l *lanes, i, n int) int {
	b0, b1, b2, b3 := b[l.at[0]:l.at[0]+n], b[l.at[1]:l.at[1]+n], b[l.at[2]:l.at[2]+n], b[l.at[3]:l.at[3]+n]
	s0, s1, s2, s3 := l.s[0], l.s[1], l.s[2], l.s[3]
	for ; i < min(n, meetWithin); i++ {
		n0 := trans[s0+uint32(cls[b0[i]])]
		n1 := trans[s1+uint32(cls[b1[i]])]
		n2 := trans[s2+uint32(cls[b2[i]])]
		n3 := trans[s3+uint32(cls[b3[i]])]
		if (n0|n1|n2|n3)&tagged != 0 {
			break
		}
		l.rec[1][i], l.rec[2][i], l.rec[3][i] = n1, n2, n3
		s0, s1, s2, s3 = n0, n1, n2, n3
	}
	if i >= meetWithin {
		for ; i < n; i++ {
			n0 := trans[s0+uint32(cls[b0[i]])]
			n1 := trans[s1+uint32(cls[b1[i]])]
			n2 := trans[s2+uint32(cls[b2[i]])]
			n3 := trans[s3+uint32(cls[b3[i]])]
			if (n0|n1|n2|n3)&tagged != 0 {
				break
			}
			s0, s1, s2, s3 = n0, n1, n2, n3
		}
	}
	l.s[0], l.s[1], l.s[2], l.s[3] = s0, s1, s2, s3
	return i
}
