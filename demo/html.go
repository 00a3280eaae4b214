package demo

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strconv"

	"github.com/probesim/probesim"
)

// The page is one self-contained file: styles, SVG and script inline, no
// external resource, so it opens anywhere and can be mailed. html/template
// escapes every value put into it.
//
//go:embed page.html.tmpl
var pageTemplate string

var pageTmpl = template.Must(template.New("page").Parse(pageTemplate))

// The SVG's geometry, in its own user units (the viewBox).
const (
	svgWidth   = 1200.0
	plotLeft   = 96.0   // lane names left of it
	plotRight  = 1180.0 // the plot area is [plotLeft, plotRight]
	firstLaneY = 84.0
	laneGap    = 64.0
	labelDY    = 24.0 // key-event labels sit this far under their lane
	// A key event's label goes left of it when less than this is left on
	// its right (the longest label is some 360 units wide).
	labelRoom = 380.0
)

// The window band's fill: the screenshot test looks for this colour.
const bandColor = "#ffd666"

type htmlPage struct {
	Title, Intro, ColumnNotes, TimelineHeading string
	Headers                                    []string
	Rows                                       []htmlRow
	HasTimeline, Followed                      bool
	Timeline                                   htmlTimeline
	Legend                                     []htmlLegend
	Paras                                      []string
	NoStory                                    string
	BandColor                                  template.CSS
}

// htmlRow is one trial of the table; Group is the vCPU heading on the
// first row of its group.
type htmlRow struct {
	Group, Strategy, CPUs string
	Cells                 []htmlCell
}

type htmlCell struct {
	Text, Class, Title string
}

type htmlLegend struct {
	Class, Glyph, Text string
}

type htmlTimeline struct {
	Width, Height, PlotLeft, PlotRight, PlotWidth string
	Top, Bottom, BandHeight, LabelDY, LabelRoom   string
	From, To, MissCycle                           uint64
	Lanes                                         []htmlLane
	Bands                                         []htmlBand
	Events                                        []htmlEvent
	Ticks                                         []htmlTick
}

type htmlLane struct {
	VCPU              int
	Y, LabelY, CountY string
	Name, Missed      string
}

// htmlBand is a window: a band across every lane (the byte is back for all
// of them) and a bar on the lane of the vCPU stepping.
type htmlBand struct {
	From, To       uint64
	X, W, X2, BarY string
	VCPU, TID      int
	Chosen         bool
	Title          string
}

type htmlEvent struct {
	Cycle     uint64
	VCPU, TID int
	Kind      string // the event log's kind
	Class     string // its look: hit, miss, followed, close
	X, Y      string
	Title     string // the tooltip
	Label     string // the key events' caption, on the timeline
	LabelEnd  bool   // the caption ends at the marker (near the right edge)
}

type htmlTick struct {
	X, Text string
}

// px formats an SVG coordinate.
func px(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// WriteHTML writes the demo as a self-contained HTML page: the table,
// the walkthrough and an SVG timeline of the miss to zoom and hover.
func (d *Demo) WriteHTML(w io.Writer) error {
	return pageTmpl.Execute(w, d.htmlPage())
}

func (d *Demo) htmlPage() htmlPage {
	p := htmlPage{
		Title:       "probesim demo: the uprobe miss window on SMP",
		Intro:       d.intro(),
		ColumnNotes: d.columnNotes(),
		NoStory:     d.NoStory,
		BandColor:   template.CSS(bandColor),
	}
	p.Headers = append(p.Headers, "")
	for _, c := range tableColumns {
		p.Headers = append(p.Headers, c.name)
	}
	cols := d.columns()
	for k, c := range cols {
		row := htmlRow{Strategy: c.Strategy, CPUs: c.VCPUs}
		if k == 0 || cols[k-1].VCPUs != c.VCPUs {
			row.Group = vcpuHeading(c.VCPUs)
		}
		for _, col := range tableColumns {
			cell := htmlCell{Text: col.cell(c)}
			switch {
			case col.name == "strategy":
				cell.Class = "metric"
			case col.name == "misses" && c.Missed:
				cell.Class = "bad"
			case col.name == "✓" && c.OutputOK:
				cell.Class, cell.Title = "good", c.CheckTitle
			case col.name == "✓":
				cell.Class, cell.Title = "bad", c.CheckTitle
			}
			row.Cells = append(row.Cells, cell)
		}
		p.Rows = append(p.Rows, row)
	}
	if s := d.Story; s != nil {
		p.HasTimeline, p.Followed = true, true
		p.TimelineHeading = fmt.Sprintf("One real miss: inline on %d vCPUs", s.CPUs)
		p.Timeline = htmlTimelineOf(s)
		p.Legend = htmlLegendOf(s.Probe, true)
		p.Paras = d.walkthrough()
	}
	return p
}

// htmlLegendOf explains the timeline's marks.
func htmlLegendOf(probe string, followed bool) []htmlLegend {
	l := []htmlLegend{
		{"band", "", "the window: " + probe + "'s first byte is the original one, not int3, for every vCPU"},
		{"bar", "", "the vCPU single-stepping the instruction in place"},
		{"hit", "●", "hit: int3 trapped and the handler ran"},
		{"close", "▮", "#DB after the step: int3 is written again"},
		{"miss", "│", "miss: " + callName(probe) + " ran without a trap, nobody saw it"},
	}
	if followed {
		l = append(l, htmlLegend{"followed", "✕", "the miss the walkthrough follows"})
	}
	return l
}

// htmlTimeline lays the story out for the full range; the page's script
// lays it out again when zoomed, from the cycles in data attributes.
func htmlTimelineOf(s *Story) htmlTimeline {
	x := func(c uint64) float64 {
		return plotLeft + (float64(c)-float64(s.From))/float64(s.To-s.From)*(plotRight-plotLeft)
	}
	laneY := func(v int) float64 { return firstLaneY + float64(v)*laneGap }
	bottom := laneY(s.CPUs-1) + laneGap/2
	t := htmlTimeline{
		Width: px(svgWidth), Height: px(bottom + 8), PlotLeft: px(plotLeft), PlotRight: px(plotRight),
		PlotWidth: px(plotRight - plotLeft), Top: px(firstLaneY - laneGap/2), Bottom: px(bottom),
		BandHeight: px(bottom - (firstLaneY - laneGap/2)), LabelDY: px(labelDY), LabelRoom: px(labelRoom),
		From: s.From, To: s.To, MissCycle: s.Miss.Cycle,
	}
	if !s.Followed {
		t.MissCycle = (s.From + s.To) / 2
	}
	missed := make([]int, s.CPUs)
	for _, e := range s.Events {
		if isMiss(e.Kind) && e.VCPU < s.CPUs {
			missed[e.VCPU]++
		}
	}
	for v := 0; v < s.CPUs; v++ {
		l := htmlLane{VCPU: v, Y: px(laneY(v)), LabelY: px(laneY(v) - 2), CountY: px(laneY(v) + 15), Name: fmt.Sprintf("cpu%d", v)}
		if missed[v] > 0 {
			l.Missed = num(uint64(missed[v])) + " missed"
		}
		t.Lanes = append(t.Lanes, l)
	}
	for _, w := range s.Windows {
		x0, x1 := x(max(w.Open.Cycle, s.From)), x(min(w.Close.Cycle, s.To))
		t.Bands = append(t.Bands, htmlBand{
			From: w.Open.Cycle, To: w.Close.Cycle, X: px(x0), W: px(x1 - x0), X2: px(x1),
			BarY: px(laneY(w.Open.VCPU)), VCPU: w.Open.VCPU, TID: w.Open.TID, Chosen: s.Followed && w == s.Window,
			Title: fmt.Sprintf("window: original byte back from cycle %s to %s (%s cycles) while TID %d on cpu%d single-steps it",
				num(w.Open.Cycle), num(w.Close.Cycle), num(w.Cycles()), w.Open.TID, w.Open.VCPU),
		})
	}
	for _, e := range s.Events {
		if e.VCPU >= s.CPUs || e.Kind == probesim.EventWindowOpen {
			continue // the open is the hit's own marker, and the band
		}
		h := htmlEvent{Cycle: e.Cycle, VCPU: e.VCPU, TID: e.TID, Kind: e.Kind,
			X: px(x(e.Cycle)), Y: px(laneY(e.VCPU))}
		where := fmt.Sprintf("cycle %s, cpu%d, TID %d", num(e.Cycle), e.VCPU, e.TID)
		switch e.Kind {
		case probesim.EventHit:
			h.Class, h.Title = "hit", "hit: int3 trapped, the handler ran ("+where+")"
		case probesim.EventWindowClose:
			h.Class, h.Title = "close", "#DB: the step is done, int3 written again ("+where+")"
		case probesim.EventSpuriousMiss:
			h.Class, h.Title = "miss", "spurious miss: trapped, but int3 was gone ("+where+")"
		default:
			h.Class, h.Title = "miss", "miss: "+callName(s.Probe)+" ran without a trap ("+where+")"
		}
		switch {
		case !s.Followed:
		case e == s.Miss:
			h.Class = "followed"
			h.Label = fmt.Sprintf("miss at %s (TID %d): ran %s without a trap", num(e.Cycle), e.TID, callName(s.Probe))
		case e.Kind == probesim.EventHit && e.Cycle == s.Window.Open.Cycle && e.TID == s.Window.Open.TID:
			h.Label = fmt.Sprintf("hit at %s (TID %d): original byte put back", num(e.Cycle), e.TID)
		case e == s.Window.Close:
			h.Label = fmt.Sprintf("#DB at %s: int3 written again", num(e.Cycle))
		case s.Next != nil && e == *s.Next:
			h.Label = fmt.Sprintf("hit at %s (TID %d): int3 is back", num(e.Cycle), e.TID)
		}
		h.LabelEnd = x(e.Cycle) > plotRight-labelRoom
		t.Events = append(t.Events, h)
	}
	// Misses first, so that hits, closes and the followed miss are drawn
	// over them.
	sort.SliceStable(t.Events, func(i, j int) bool {
		return (t.Events[i].Class == "miss") && (t.Events[j].Class != "miss")
	})
	a := newAxis(s.From, s.To, 8)
	step := a.scale
	for c := (s.From + step - 1) / step * step; c <= s.To; c += step {
		tick := htmlTick{X: px(x(c))}
		if x(c) <= plotRight-20 { // else the frame would cut it
			tick.Text = num(c)
		}
		t.Ticks = append(t.Ticks, tick)
	}
	return t
}
