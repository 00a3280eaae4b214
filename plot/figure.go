package plot

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// sans is the figure's typeface: Liberation Sans, which gonum carries
// compiled in, so rendering reads no system font.
var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

// Font sizes, in points.
const (
	titleSize   = 15
	captionSize = 11
	panelSize   = 12.5
	labelSize   = 11.5
	tickSize    = 10.5
	legendSize  = 11
)

// palette is the Okabe-Ito colour-blind-safe palette; glyphs differ too,
// so that strategies stay apart in grey print.
var palette = []color.RGBA{
	{0x00, 0x72, 0xb2, 0xff}, // blue
	{0xd5, 0x5e, 0x00, 0xff}, // vermillion
	{0x00, 0x9e, 0x73, 0xff}, // bluish green
	{0xcc, 0x79, 0xa7, 0xff}, // reddish purple
	{0xe6, 0x9f, 0x00, 0xff}, // orange
	{0x56, 0xb4, 0xe9, 0xff}, // sky blue
}

// gray is the caption's colour, quieter than the title.
var gray = color.Gray{Y: 0x50}

var glyphs = []draw.GlyphDrawer{
	draw.CircleGlyph{}, draw.PyramidGlyph{}, draw.BoxGlyph{},
	draw.RingGlyph{}, draw.TriangleGlyph{}, draw.CrossGlyph{},
}

// A panel is one of the figure's two plots, with the plotters it holds
// kept so that tests can read what is drawn.
type panel struct {
	plot   *gplot.Plot
	lines  []*plotter.Line
	points []*plotter.Scatter
	bars   []*plotter.YErrorBars
}

// figure is a Summary laid out for drawing.
type figure struct {
	title, caption string
	missRate, cost *panel
}

// newFigure builds the two panels of s.
func newFigure(s Summary) (*figure, error) {
	lo, hi := s.seedRange()
	seeds := strconv.Itoa(hi)
	if lo != hi {
		seeds = fmt.Sprintf("%d\u2013%d", lo, hi)
	}
	noun := "seeds"
	if hi == 1 {
		noun = "seed"
	}
	f := &figure{
		title:   s.Setting.Title(),
		caption: fmt.Sprintf("Points: mean over %s %s per configuration \u00b7 error bars: minimum\u2013maximum over seeds", seeds, noun),
	}
	var err error
	f.missRate, err = newPanel(s, "Miss rate against vCPUs", "miss rate (%)", 100,
		func(se Series) []Point { return se.MissRate })
	if err != nil {
		return nil, err
	}
	f.cost, err = newPanel(s, "Probe overhead per hit", "cycles per hit", math.Inf(1),
		func(se Series) []Point { return se.CyclesPerHit })
	if err != nil {
		return nil, err
	}
	return f, nil
}

// newPanel plots pick(series) against log2 of the vCPU count, one line per
// strategy. The y axis starts at 0, so that sizes compare honestly, and
// ends a quarter above the highest bar (at most yCap), which keeps the
// legend in the top left clear of the data.
func newPanel(s Summary, title, yLabel string, yCap float64, pick func(Series) []Point) (*panel, error) {
	p := gplot.New()
	styleText(p)
	p.Title.Text = title
	p.X.Label.Text = "vCPUs"
	p.Y.Label.Text = yLabel
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(6), -vg.Points(3)
	p.Legend.ThumbnailWidth = vg.Points(24)
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	p.Add(grid)

	pn := &panel{plot: p}
	step := dodgeStep(s.CPUs)
	yMax := 0.0
	for i, se := range s.Series {
		pts := pick(se)
		offset := (float64(i) - float64(len(s.Series)-1)/2) * step
		xy := make(errorXYs, len(pts))
		for j, pt := range pts {
			xy[j] = errorXY{x: math.Log2(float64(pt.CPUs)) + offset, y: pt.Mean, low: pt.Mean - pt.Min, high: pt.Max - pt.Mean}
			yMax = max(yMax, pt.Max)
		}
		if err := pn.addSeries(i, se.Strategy, xy); err != nil {
			return nil, fmt.Errorf("%s of %s: %w", yLabel, se.Strategy, err)
		}
	}

	ticks := make(gplot.ConstantTicks, len(s.CPUs))
	for i, n := range s.CPUs {
		ticks[i] = gplot.Tick{Value: math.Log2(float64(n)), Label: strconv.Itoa(n)}
	}
	p.X.Tick.Marker = ticks
	lo, hi := math.Log2(float64(s.CPUs[0])), math.Log2(float64(s.CPUs[len(s.CPUs)-1]))
	p.X.Min, p.X.Max = lo-0.45, hi+0.45
	p.Y.Min = 0
	p.Y.Max = min(yCap, 1.3*yMax)
	if yMax == 0 {
		p.Y.Max = 1 // an axis of zeros still needs a span
	}
	return pn, nil
}

// addSeries draws series i (its colour and glyph) as a line through its
// points with min-max error bars, and names it in the legend.
func (pn *panel) addSeries(i int, name string, xy errorXYs) error {
	clr, glyph := palette[i%len(palette)], glyphs[i%len(glyphs)]
	line, err := plotter.NewLine(xy)
	if err != nil {
		return err
	}
	line.Color, line.Width = clr, vg.Points(1.6)
	points, err := plotter.NewScatter(xy)
	if err != nil {
		return err
	}
	points.GlyphStyle = draw.GlyphStyle{Color: clr, Radius: vg.Points(3.6), Shape: glyph}
	bars, err := plotter.NewYErrorBars(xy)
	if err != nil {
		return err
	}
	bars.Color, bars.Width, bars.CapWidth = clr, vg.Points(1.1), vg.Points(7)
	pn.plot.Add(line, bars, points)
	pn.plot.Legend.Add(name, line, points)
	pn.lines = append(pn.lines, line)
	pn.points = append(pn.points, points)
	pn.bars = append(pn.bars, bars)
	return nil
}

// dodgeStep is how far apart, in log2 units, the strategies' points at one
// vCPU count are drawn, so that equal values (ssol-stack and inline both
// at 0% on 1 vCPU) show both error bars: 2% of the axis' span.
func dodgeStep(cpus []int) float64 {
	span := math.Log2(float64(cpus[len(cpus)-1])) - math.Log2(float64(cpus[0])) + 0.9
	return 0.02 * span
}

// styleText sets every text of p in the figure's typeface and sizes.
func styleText(p *gplot.Plot) {
	p.Title.TextStyle.Font = font.From(sans, panelSize)
	p.Title.Padding = vg.Points(6)
	for _, a := range []*gplot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, labelSize)
		a.Tick.Label.Font = font.From(sans, tickSize)
	}
	p.Legend.TextStyle.Font = font.From(sans, legendSize)
}

// errorXY is one point with its error bar's extent below and above it.
type errorXY struct{ x, y, low, high float64 }

// errorXYs serves points to gonum's Line, Scatter and YErrorBars.
type errorXYs []errorXY

func (e errorXYs) Len() int                        { return len(e) }
func (e errorXYs) XY(i int) (float64, float64)     { return e[i].x, e[i].y }
func (e errorXYs) YError(i int) (float64, float64) { return e[i].low, e[i].high }
