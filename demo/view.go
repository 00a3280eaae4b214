package demo

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"

	"github.com/probesim/probesim"
)

// Timelines of any run's event log (probesim run --events), as
// 'probesim timeline' draws them: the same text and HTML timelines as the
// demo's, of a range of cycles the user picks, or of a typical miss.

// MaxViewEvents bounds the events of a range the HTML page draws (each is
// an SVG element); a wider range is an error asking for --from and --to.
const MaxViewEvents = 20_000

// ReadEvents reads an event log: JSON lines of probesim.Event, in cycle
// order (the order the probe engine writes them). Errors name the line.
func ReadEvents(r io.Reader) ([]probesim.Event, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<20)
	var out []probesim.Event
	probes := map[string]string{} // one string per probe name
	kinds := []string{probesim.EventHit, probesim.EventMiss, probesim.EventSpuriousMiss, probesim.EventWindowOpen, probesim.EventWindowClose}
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var e probesim.Event
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("line %d: not an event of probesim run --events: %v", n, err)
		}
		switch {
		case !slices.Contains(kinds, e.Kind):
			return nil, fmt.Errorf("line %d: event %q is not one of %s", n, e.Kind, strings.Join(kinds, ", "))
		case e.Probe == "":
			return nil, fmt.Errorf("line %d: no probe", n)
		case e.VCPU < 0 || e.VCPU >= probesim.MaxCPUs:
			return nil, fmt.Errorf("line %d: vcpu %d is not in 0..%d", n, e.VCPU, probesim.MaxCPUs-1)
		case len(out) > 0 && e.Cycle < out[len(out)-1].Cycle:
			return nil, fmt.Errorf("line %d: cycle %d before the line above's %d: the log must be in cycle order", n, e.Cycle, out[len(out)-1].Cycle)
		}
		if p, ok := probes[e.Probe]; ok {
			e.Probe = p
		} else {
			probes[e.Probe] = e.Probe
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("no events")
	}
	return out, nil
}

// ProbeOf picks the probe a timeline shows: probe if given (it must have
// events), else the log's only one.
func ProbeOf(events []probesim.Event, probe string) (string, error) {
	var have []string
	for _, e := range events {
		if !slices.Contains(have, e.Probe) {
			have = append(have, e.Probe)
		}
	}
	switch {
	case probe != "" && slices.Contains(have, probe):
		return probe, nil
	case probe != "":
		return "", fmt.Errorf("--probe %s: no event of that probe (the probes: %s)", probe, strings.Join(have, ", "))
	case len(have) > 1:
		return "", fmt.Errorf("the log has events of %d probes (%s): choose one with --probe", len(have), strings.Join(have, ", "))
	}
	return have[0], nil
}

// cpusOf is the number of vCPUs an event log shows.
func cpusOf(events []probesim.Event) int {
	n := 1
	for _, e := range events {
		n = max(n, e.VCPU+1)
	}
	return n
}

// NewView is the timeline of probe's events from cycle from to cycle to.
func NewView(events []probesim.Event, probe string, from, to uint64) (*Story, error) {
	if to <= from {
		return nil, fmt.Errorf("--from %d --to %d: an empty range", from, to)
	}
	var mine []probesim.Event
	for _, e := range events {
		if e.Probe == probe {
			mine = append(mine, e)
		}
	}
	windows, err := pairWindows(mine, probe)
	if err != nil {
		return nil, err
	}
	s := &Story{CPUs: cpusOf(events), Probe: probe, From: from, To: to, WindowCount: len(windows)}
	for _, e := range mine {
		if e.Cycle >= from && e.Cycle <= to {
			s.Events = append(s.Events, e)
		}
	}
	for _, w := range windows {
		if w.Close.Cycle >= from && w.Open.Cycle <= to {
			s.Windows = append(s.Windows, w)
		}
	}
	return s, nil
}

// DefaultView is the timeline 'probesim timeline' shows without a range:
// a typical miss of the log (FindStory) when it has one; else its first
// window with an eighth of its length either side; else its first 40
// events.
func DefaultView(events []probesim.Event, probe string) (*Story, error) {
	var mine []probesim.Event
	for _, e := range events {
		if e.Probe == probe {
			mine = append(mine, e)
		}
	}
	if s, err := FindStory(mine, cpusOf(events)); err == nil {
		return s, nil
	}
	windows, err := pairWindows(mine, probe)
	if err != nil {
		return nil, err
	}
	if len(windows) > 0 {
		w := windows[0]
		pad := max(w.Cycles()/8, 1)
		return NewView(events, probe, w.Open.Cycle-min(pad, w.Open.Cycle), w.Close.Cycle+pad)
	}
	last := mine[min(len(mine), 40)-1].Cycle
	return NewView(events, probe, mine[0].Cycle, max(last, mine[0].Cycle+1))
}

// WriteTimelineText writes s's timeline for a terminal, with its legend.
func (s *Story) WriteTimelineText(w io.Writer, color bool) error {
	pal := palette{on: color}
	var b strings.Builder
	b.WriteString(pal.paint(sgrBold, s.heading()) + "\n\n")
	b.WriteString(renderTimeline(s, pal) + "\n")
	b.WriteString(legend(s.Probe, s.Followed, pal))
	if s.Followed {
		b.WriteString("\n" + s.summary() + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// heading names the range shown.
func (s *Story) heading() string {
	what := "Probe " + s.Probe
	if s.Followed {
		what = "A typical miss of " + s.Probe
	}
	return fmt.Sprintf("%s on %d vCPUs, cycles %s to %s", what, s.CPUs, num(s.From), num(s.To))
}

// summary tells the followed miss in one paragraph.
func (s *Story) summary() string {
	text := fmt.Sprintf("Thread %d on cpu%d hit at cycle %s and put the original byte back for %s cycles; "+
		"at cycle %s thread %d on cpu%d ran %s through that window without a trap, one of %s misses in it. "+
		"Other vCPUs missed in %s of the log's %s windows, which lasted %s cycles at the median (all windows: %s).",
		s.Window.Open.TID, s.Window.Open.VCPU, num(s.Window.Open.Cycle), num(s.Window.Cycles()),
		num(s.Miss.Cycle), s.Miss.TID, s.Miss.VCPU, callName(s.Probe), num(uint64(s.WindowMisses())),
		num(uint64(s.MissedCount)), num(uint64(s.WindowCount)), num(s.MissedMedian), num(s.MedianCycles))
	var b strings.Builder
	for _, l := range wrap(text, textWidth) {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// WriteTimelineHTML writes s's timeline as a self-contained page, zoomable
// as the demo's; title names the log.
func (s *Story) WriteTimelineHTML(w io.Writer, title string) error {
	if len(s.Events) > MaxViewEvents {
		return fmt.Errorf("cycles %d to %d hold %d events, more than a page draws (%d): narrow the range with --from and --to",
			s.From, s.To, len(s.Events), MaxViewEvents)
	}
	p := htmlPage{
		Title:           title,
		TimelineHeading: s.heading(),
		HasTimeline:     true,
		Followed:        s.Followed,
		Timeline:        htmlTimelineOf(s),
		Legend:          htmlLegendOf(s.Probe, s.Followed),
		BandColor:       template.CSS(bandColor),
	}
	if s.Followed {
		p.Paras = []string{strings.ReplaceAll(strings.TrimSpace(s.summary()), "\n", " ")}
	}
	return pageTmpl.Execute(w, p)
}
