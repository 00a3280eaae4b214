package demo

import (
	"fmt"
	"strings"

	"github.com/probesim/probesim"
)

// The plain-text timeline: one lane per vCPU plus a lane for the probed
// instruction's first byte, on a cycle axis of timelineCols columns.
const (
	laneLabelCols = 8  // "cpu12   "
	timelineCols  = 60 // columns of cycles
	lineLimit     = 80 // annotations stay within this many columns
	tickEvery     = 10 // columns between axis ticks, at round cycle counts
)

// axis maps cycles to columns: column i covers [t0+i*scale, t0+(i+1)*scale).
type axis struct {
	t0, scale uint64
	cols      int
}

// newAxis picks the smallest round scale (1, 2, 2.5 or 5 times a power of
// ten cycles per column, 2.5 from 25 up) that fits [from, to] in cols
// columns, and centres the range.
func newAxis(from, to uint64, cols int) axis {
	span := to - from + 1
	for p := uint64(1); ; p *= 10 {
		for _, m10 := range []uint64{10, 20, 25, 50} {
			scale := m10 * p / 10
			if m10*p%10 != 0 || scale*uint64(cols) < span {
				continue
			}
			slack := (scale*uint64(cols) - span) / 2
			t0 := (from - min(slack, from)) / scale * scale
			if t0+scale*uint64(cols) > to {
				return axis{t0: t0, scale: scale, cols: cols}
			}
		}
	}
}

// covers says whether cycle c is on the axis.
func (a axis) covers(c uint64) bool { return c >= a.t0 && c < a.t0+a.scale*uint64(a.cols) }

// col is the column of cycle c, clamped to the axis.
func (a axis) col(c uint64) int {
	if c < a.t0 {
		return 0
	}
	return min(int((c-a.t0)/a.scale), a.cols-1)
}

// ticks are the round cycle counts (every tickEvery columns' worth) on
// the axis, with their columns.
func (a axis) ticks() (cycles []uint64, cols []int) {
	step := a.scale * tickEvery
	for t := (a.t0 + step - 1) / step * step; t < a.t0+a.scale*uint64(a.cols); t += step {
		cycles = append(cycles, t)
		cols = append(cols, int((t-a.t0)/a.scale))
	}
	return cycles, cols
}

// cell is one column of a lane: a glyph, its colour and how much it
// matters when several events share the column.
type cell struct {
	r    rune
	sgr  string
	rank int
}

const (
	rankBase = iota
	rankWindow
	rankClose
	rankHit
	rankMiss
	rankFollowed
)

func (c *cell) set(r rune, sgr string, rank int) {
	if rank >= c.rank {
		*c = cell{r, sgr, rank}
	}
}

// label is an annotation under a lane, pointing at a column.
type label struct {
	col  int
	text string
	sgr  string
}

// placed is a label laid out on an annotation line, [start, end) columns.
type placed struct {
	start, end int
	text       string
	sgr        string
}

// placeLabels lays labels out on as few lines as it can: each label goes
// right of its column ("╰ text") if it fits in limit columns, else left
// of it ("text ╯"), on the first line where it does not touch another.
func placeLabels(labels []label, limit int) [][]placed {
	var lines [][]placed
	free := func(line []placed, p placed) bool {
		for _, q := range line {
			if p.start <= q.end && q.start <= p.end { // a column apart at least
				return false
			}
		}
		return true
	}
	for _, l := range labels {
		right := placed{start: l.col, text: "╰ " + l.text, sgr: l.sgr}
		right.end = right.start + width(right.text)
		left := placed{text: l.text + " ╯", end: l.col + 1, sgr: l.sgr}
		left.start = left.end - width(left.text)
		var forms []placed
		if right.end <= limit {
			forms = append(forms, right)
		}
		if left.start >= 0 {
			forms = append(forms, left)
		}
		if len(forms) == 0 {
			forms = append(forms, right) // longer than the line: let it run over
		}
		done := false
		for i := range lines {
			for _, f := range forms {
				if free(lines[i], f) {
					lines[i] = append(lines[i], f)
					done = true
					break
				}
			}
			if done {
				break
			}
		}
		if !done {
			lines = append(lines, []placed{forms[0]})
		}
	}
	return lines
}

// renderPlaced draws one annotation line.
func renderPlaced(line []placed, pal palette) string {
	// Left to right, whatever order they were placed in.
	ordered := append([]placed(nil), line...)
	for i := 1; i < len(ordered); i++ {
		for j := i; j > 0 && ordered[j].start < ordered[j-1].start; j-- {
			ordered[j], ordered[j-1] = ordered[j-1], ordered[j]
		}
	}
	var b strings.Builder
	at := 0
	for _, p := range ordered {
		b.WriteString(strings.Repeat(" ", p.start-at))
		b.WriteString(pal.paint(p.sgr, p.text))
		at = p.end
	}
	return b.String()
}

// renderCells draws a lane's cells, merging runs of one colour into one
// escape sequence.
func renderCells(cells []cell, pal palette) string {
	var b strings.Builder
	for i := 0; i < len(cells); {
		j := i
		var run strings.Builder
		for ; j < len(cells) && cells[j].sgr == cells[i].sgr; j++ {
			run.WriteRune(cells[j].r)
		}
		b.WriteString(pal.paint(cells[i].sgr, run.String()))
		i = j
	}
	return b.String()
}

// renderTimeline draws the story's lanes: the probed byte (int3 or the
// original byte back), then each vCPU with its hits, misses and windows,
// and labels for the events the walkthrough names.
func renderTimeline(s *Story, pal palette) string {
	a := newAxis(s.From, s.To, timelineCols)
	var b strings.Builder
	prefix := func(name string) string { return padRight(name, laneLabelCols) }

	// The axis.
	tickCycles, tickCols := a.ticks()
	var names []placed
	for i, t := range tickCycles {
		p := placed{start: tickCols[i], text: num(t)}
		p.end = p.start + width(p.text)
		if len(names) == 0 || p.start > names[len(names)-1].end {
			names = append(names, p)
		}
	}
	b.WriteString(pal.paint(sgrDim, prefix("cycle")) + renderPlaced(names, palette{}) + "\n")
	marks := []rune(strings.Repeat(" ", a.cols))
	for _, c := range tickCols {
		marks[c] = '|'
	}
	b.WriteString(prefix("") + pal.paint(sgrDim, strings.TrimRight(string(marks), " ")) + "\n")

	// The probed byte: ░ while a window is open.
	text := make([]cell, a.cols)
	for i := range text {
		text[i] = cell{r: '─'}
	}
	for _, w := range s.Windows {
		for c := a.col(w.Open.Cycle); c <= a.col(w.Close.Cycle); c++ {
			text[c] = cell{r: '░', sgr: sgrWindow}
		}
	}
	caption := []rune(" original byte back: " + num(s.Window.Cycles()) + " cycles ")
	if open, end := a.col(s.Window.Open.Cycle), a.col(s.Window.Close.Cycle); s.Followed && end-open-1 >= len(caption) {
		at := open + 1 + (end-open-1-len(caption))/2
		for i, r := range caption {
			text[at+i] = cell{r: r, sgr: sgrWindow}
		}
	}
	b.WriteString(prefix(s.Probe) + renderCells(text, pal) + "\n")

	// The vCPUs.
	lanes := make([][]cell, s.CPUs)
	for v := range lanes {
		lanes[v] = make([]cell, a.cols)
		for i := range lanes[v] {
			lanes[v][i] = cell{r: '─'}
		}
	}
	for _, w := range s.Windows {
		if v := w.Open.VCPU; v < s.CPUs {
			for c := a.col(w.Open.Cycle); c <= a.col(w.Close.Cycle); c++ {
				lanes[v][c].set('═', sgrWindow, rankWindow)
			}
			if a.covers(w.Close.Cycle) { // else it closes off the right edge
				lanes[v][a.col(w.Close.Cycle)].set('▪', sgrWindow, rankClose)
			}
		}
	}
	missed := make([]int, s.CPUs)
	for _, e := range s.Events {
		if e.VCPU >= s.CPUs {
			continue
		}
		c := &lanes[e.VCPU][a.col(e.Cycle)]
		switch {
		case s.Followed && e == s.Miss:
			c.set('X', sgrFollowed, rankFollowed)
			missed[e.VCPU]++
		case isMiss(e.Kind):
			c.set('x', sgrMiss, rankMiss)
			missed[e.VCPU]++
		case e.Kind == probesim.EventHit:
			c.set('●', sgrHit, rankHit)
		}
	}
	labels := make([][]label, s.CPUs)
	add := func(e probesim.Event, sgr, format string, args ...any) {
		if e.VCPU < s.CPUs {
			labels[e.VCPU] = append(labels[e.VCPU], label{col: a.col(e.Cycle), sgr: sgr, text: fmt.Sprintf(format, args...)})
		}
	}
	if w := s.Window; s.Followed {
		add(w.Open, sgrHit, "hit at %s (TID %d): original byte put back", num(w.Open.Cycle), w.Open.TID)
		add(w.Close, sgrWindow, "#DB at %s: int3 written again", num(w.Close.Cycle))
		add(s.Miss, sgrFollowed, "miss at %s (TID %d): ran %s without a trap", num(s.Miss.Cycle), s.Miss.TID, callName(s.Probe))
		if n := s.Next; n != nil {
			add(*n, sgrHit, "hit at %s (TID %d): int3 is back", num(n.Cycle), n.TID)
		}
	}
	for v := range lanes {
		line := prefix(fmt.Sprintf("cpu%d", v)) + renderCells(lanes[v], pal)
		if missed[v] > 0 {
			line += pal.paint(sgrMiss, fmt.Sprintf(" %s missed", num(uint64(missed[v]))))
		}
		b.WriteString(line + "\n")
		sortLabels(labels[v])
		for _, l := range placeLabels(labels[v], lineLimit-laneLabelCols) {
			b.WriteString(prefix("") + renderPlaced(l, pal) + "\n")
		}
	}
	fmt.Fprintf(&b, "%s1 column = %s cycles\n", prefix(""), num(a.scale))
	return b.String()
}

// sortLabels orders labels by column (insertion sort: a lane has a few).
func sortLabels(ls []label) {
	for i := 1; i < len(ls); i++ {
		for j := i; j > 0 && ls[j].col < ls[j-1].col; j-- {
			ls[j], ls[j-1] = ls[j-1], ls[j]
		}
	}
}

// legend explains the glyphs of the timeline; followed adds the miss the
// walkthrough follows.
func legend(probe string, followed bool, pal palette) string {
	items := [][2]string{
		{pal.paint(sgrWindow, "░"), "the window: " + probe + "'s first byte is the original one, not int3"},
		{pal.paint(sgrHit, "●"), "hit: int3 trapped and the handler ran"},
		{pal.paint(sgrWindow, "═"), "that vCPU single-steps the instruction in place"},
		{pal.paint(sgrWindow, "▪"), "#DB after the step: int3 is written again"},
		{pal.paint(sgrMiss, "x"), "miss: " + callName(probe) + " ran without a trap, nobody saw it"},
	}
	if followed {
		items = append(items, [2]string{pal.paint(sgrFollowed, "X"), "the miss the text below follows"})
	}
	var b strings.Builder
	for _, it := range items {
		b.WriteString("  " + it[0] + " " + it[1] + "\n")
	}
	return b.String()
}
