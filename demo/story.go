package demo

import (
	"errors"
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
// through and everything that happened around it.
type Story struct {
	CPUs   int
	Probe  string
	Miss   probesim.Event // the miss followed
	Window Window         // the window it ran through
	// Next is the first hit after the window closed (int3 back in place),
	// if it falls in the range shown.
	Next *probesim.Event
	// MissesInWindow counts the misses inside Window, per vCPU.
	MissesInWindow []int
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

// FindStory picks the first miss of the log that ran through a window
// opened by another vCPU, and the events around it. cpus is the number of
// vCPUs of the run. The log must be in cycle order, as probes.Engine
// records it.
func FindStory(events []probesim.Event, cpus int) (*Story, error) {
	var miss *probesim.Event
	for i := range events {
		if events[i].Kind == probesim.EventMiss {
			miss = &events[i]
			break
		}
	}
	if miss == nil {
		return nil, errors.New("no miss in the event log")
	}
	windows, err := pairWindows(events, miss.Probe)
	if err != nil {
		return nil, err
	}
	var story *Story
	for i := range events {
		e := &events[i]
		if e.Kind != probesim.EventMiss || e.Probe != miss.Probe {
			continue
		}
		if w, ok := windowAround(windows, *e); ok {
			story = &Story{CPUs: cpus, Probe: e.Probe, Miss: *e, Window: w}
			break
		}
	}
	if story == nil {
		return nil, errors.New("no miss inside a window opened by another vCPU")
	}
	story.fill(events, windows)
	return story, nil
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

// windowAround finds the window, opened by another vCPU, that miss ran
// through.
func windowAround(windows []Window, miss probesim.Event) (Window, bool) {
	for _, w := range windows {
		if w.Open.Cycle > miss.Cycle {
			break
		}
		if w.Contains(miss.Cycle) && w.Open.VCPU != miss.VCPU {
			return w, true
		}
	}
	return Window{}, false
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
