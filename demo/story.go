package demo

import (
	"errors"
	"slices"
	"sort"

	"github.com/probesim/probesim"
)

// Window is one time the original byte was back in the text: from the
// hit whose in-place single-step needed it (window_open) to the #DB that
// ended the step, when int3 was written again (window_close). Both events
// are the same thread's.
type Window struct {
	Open, Close probesim.Event
}

// Cycles is how long the window was open.
func (w Window) Cycles() uint64 { return w.Close.Cycle - w.Open.Cycle }

// Contains says whether cycle c falls inside the window.
func (w Window) Contains(c uint64) bool { return w.Open.Cycle <= c && c <= w.Close.Cycle }

// Story is one real miss, told from the event log: the window it ran
// through and everything that happened around it. A Story made by
// NewView is a plain range of the log, without a miss followed
// (Followed false): Miss, Window, Next and MissesInWindow are then zero.
type Story struct {
	CPUs     int
	Probe    string
	Followed bool
	Miss     probesim.Event // the miss followed
	Window   Window         // the window it ran through
	// Next is the first hit after the window closed (int3 back in place),
	// if it falls in the range shown.
	Next *probesim.Event
	// MissesInWindow counts the misses inside Window, per vCPU.
	MissesInWindow []int
	// The run's windows of the probe: how many, their median length, and
	// the first one; and of them, those another vCPU's miss ran through,
	// among which Window is a typical one.
	WindowCount  int
	MedianCycles uint64
	First        Window
	MissedCount  int
	MissedMedian uint64
	// From and To bound the cycles shown; Events and Windows are those of
	// the probe within them, in cycle order.
	From, To uint64
	Events   []probesim.Event
	Windows  []Window
}

// WindowMisses is the number of misses inside the story's window.
func (s *Story) WindowMisses() int {
	n := 0
	for _, m := range s.MissesInWindow {
		n += m
	}
	return n
}

// FindStory picks a typical miss of the log: of the windows a miss of
// another vCPU ran through, the one whose length is nearest their median
// (the earliest on a tie), and the first such miss in it, with the events
// around. The run's first window is usually
// not typical: the kernel's first write to the text page also breaks its
// copy-on-write. cpus is the number of vCPUs of the run. The log must be
// in cycle order, as the probe engine records it.
func FindStory(events []probesim.Event, cpus int) (*Story, error) {
	var first *probesim.Event
	for i := range events {
		if events[i].Kind == probesim.EventMiss {
			first = &events[i]
			break
		}
	}
	if first == nil {
		return nil, errors.New("no miss in the event log")
	}
	windows, err := pairWindows(events, first.Probe)
	if err != nil {
		return nil, err
	}
	lengths := make([]uint64, len(windows))
	for i, w := range windows {
		lengths[i] = w.Cycles()
	}
	median := medianOf(lengths)
	// The first miss of another vCPU in each window.
	type candidate struct {
		w    Window
		miss probesim.Event
	}
	var cands []candidate
	j := 0 // next event to look at
	for _, w := range windows {
		for j < len(events) && events[j].Cycle < w.Open.Cycle {
			j++
		}
		for k := j; k < len(events) && events[k].Cycle <= w.Close.Cycle; k++ {
			e := events[k]
			if e.Kind == probesim.EventMiss && e.Probe == first.Probe && e.VCPU != w.Open.VCPU {
				cands = append(cands, candidate{w, e})
				break
			}
		}
	}
	if len(cands) == 0 {
		return nil, errors.New("no miss inside a window opened by another vCPU")
	}
	// Typical of the windows a miss ran through: those are longer than
	// the rest (a longer window catches more calls), so the median of all
	// windows would pick a rare one among them.
	missedLengths := make([]uint64, len(cands))
	for i, c := range cands {
		missedLengths[i] = c.w.Cycles()
	}
	typical := medianOf(missedLengths)
	best := cands[0]
	dist := func(c uint64) uint64 { return max(c, typical) - min(c, typical) }
	for _, c := range cands[1:] {
		if dist(c.w.Cycles()) < dist(best.w.Cycles()) {
			best = c
		}
	}
	story := &Story{CPUs: cpus, Probe: first.Probe, Followed: true, Miss: best.miss, Window: best.w,
		WindowCount: len(windows), MedianCycles: median, First: windows[0],
		MissedCount: len(cands), MissedMedian: typical}
	story.fill(events, windows)
	return story, nil
}

// medianOf is the median of vs (the lower middle for an even count), 0
// for none.
func medianOf(vs []uint64) uint64 {
	if len(vs) == 0 {
		return 0
	}
	s := append([]uint64(nil), vs...)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

// pairWindows matches every window_open of probe with the window_close of
// the same thread, in open order.
func pairWindows(events []probesim.Event, probe string) ([]Window, error) {
	open := map[int]probesim.Event{} // by TID
	var out []Window
	for _, e := range events {
		if e.Probe != probe {
			continue
		}
		switch e.Kind {
		case probesim.EventWindowOpen:
			open[e.TID] = e
		case probesim.EventWindowClose:
			o, ok := open[e.TID]
			if !ok {
				return nil, errors.New("window_close without window_open in the event log")
			}
			delete(open, e.TID)
			out = append(out, Window{Open: o, Close: e})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Open.Cycle < out[j].Open.Cycle })
	return out, nil
}

// fill chooses the range shown and collects what happened in it: the
// window with an eighth of its length on either side, stretched to the
// first hit after it when that comes within another window's length.
func (s *Story) fill(events []probesim.Event, windows []Window) {
	w := s.Window
	pad := max(w.Cycles()/8, 1)
	s.From = w.Open.Cycle - min(pad, w.Open.Cycle)
	end := w.Close.Cycle
	for i := range events {
		e := events[i]
		if e.Probe == s.Probe && e.Kind == probesim.EventHit && e.Cycle > w.Close.Cycle {
			if e.Cycle-w.Close.Cycle <= w.Cycles() {
				s.Next = &e
				end = e.Cycle
			}
			break
		}
	}
	s.To = end + pad
	s.MissesInWindow = make([]int, s.CPUs)
	for _, e := range events {
		if e.Probe != s.Probe || e.Cycle < s.From || e.Cycle > s.To {
			continue
		}
		s.Events = append(s.Events, e)
		if isMiss(e.Kind) && w.Contains(e.Cycle) && e.VCPU < s.CPUs {
			s.MissesInWindow[e.VCPU]++
		}
	}
	for _, x := range windows {
		if x.Close.Cycle >= s.From && x.Open.Cycle <= s.To {
			s.Windows = append(s.Windows, x)
		}
	}
}

func isMiss(kind string) bool {
	return kind == probesim.EventMiss || kind == probesim.EventSpuriousMiss
}
