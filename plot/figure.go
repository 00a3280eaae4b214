package plot

import (
	"fmt"
	"image/color"
	"slices"
	"strconv"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/probesim/probesim"
)

// sans is the figure's typeface: Liberation Sans, which gonum carries
// compiled in, so rendering reads no system font.
var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

// Font sizes, in points. At the default width a panel is about 500 px
// wide; the sizes keep tick labels readable down to 800 px.
const (
	titleSize   = 15
	captionSize = 11
	panelSize   = 12.5
	labelSize   = 11.5
	tickSize    = 10.5
	legendSize  = 11.5
)

// palette is the Okabe-Ito colour-blind-safe palette; glyphs differ too,
// so that series stay apart in grey print.
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

// style is how one series is drawn.
type style struct {
	color color.RGBA
	glyph draw.GlyphDrawer
}

// strategyStyle is a strategy's colour and glyph, the same in every
// figure whatever other strategies it has: the strategies take the
// palette in knownStrategies' order, and any other name the colour left
// after them, with a glyph from its own letters.
func strategyStyle(name string) style {
	if i := slices.Index(knownStrategies, probesim.Strategy(name)); i >= 0 {
		return style{palette[i], glyphs[i]}
	}
	h := 0
	for _, c := range name {
		h = h*31 + int(c)
	}
	return style{palette[len(knownStrategies)], glyphs[(h&0x7fffffff)%len(glyphs)]}
}

// knownStrategies are probesim's strategies, then the seed's historical
// variants: the order of legends and of the palette, which has a colour
// more than there are strategies (TestStrategyStyles).
var knownStrategies = append(slices.Clone(probesim.Strategies), probesim.SeedStrategies...)

// A panel is one plot of the figure, with the plotters it holds kept so
// that tests can read what is drawn.
type panel struct {
	plot   *gplot.Plot
	lines  []*plotter.Line
	points []*plotter.Scatter
	bars   []*plotter.YErrorBars
}

// figure is a Summary laid out for drawing: a grid of panels (rows of
// metrics, columns of facet values; or the metrics side by side), the
// title, the caption and one legend for all, above the panels.
type figure struct {
	title, caption string
	strategies     []string
	grid           [][]*panel // [row][col]
	// Where the last draw put things, for tests: the legend's box and
	// each panel's data area.
	legendBox draw.Canvas
	dataAreas []draw.Canvas
}

// gridShape is how many rows and columns of panels s draws.
func gridShape(s Summary) (rows, cols int) {
	if s.Facet == nil {
		return 1, len(s.Metrics)
	}
	return len(s.Metrics), len(s.Facets)
}

// newFigure builds the panels of s for a figure of size (resolved).
func newFigure(s Summary, size Size) (*figure, error) {
	seeds := strconv.Itoa(s.MaxSeeds)
	if s.MinSeeds != s.MaxSeeds {
		seeds = fmt.Sprintf("%d\u2013%d", s.MinSeeds, s.MaxSeeds)
	}
	noun := "seeds"
	if s.MaxSeeds == 1 {
		noun = "seed"
	}
	f := &figure{
		title:      s.Title,
		caption:    fmt.Sprintf("Points: mean over %s %s per configuration \u00b7 error bars: minimum\u2013maximum over seeds", seeds, noun),
		strategies: s.Strategies,
	}
	rows, cols := gridShape(s)
	// A panel's data area is about its share of the width less its axis;
	// tick labels must fit their spacing there.
	dataWidth := (vg.Length(size.Width)*pixel-vg.Points(60))/vg.Length(cols) - vg.Points(70)
	labels := fitLabels(s, dataWidth)
	f.grid = make([][]*panel, rows)
	for r := range rows {
		f.grid[r] = make([]*panel, cols)
	}
	for m := range s.Metrics {
		// One y range per metric, so panels of a row compare.
		yMax := 0.0
		for _, p := range s.Panels[m] {
			for _, se := range p.Series {
				for _, pt := range se.Points {
					yMax = max(yMax, pt.Max)
				}
			}
		}
		for fi, p := range s.Panels[m] {
			r, c := m, fi
			if s.Facet == nil {
				r, c = 0, m
			}
			pn, err := newPanel(s, p, labels, yMax, r, c)
			if err != nil {
				return nil, err
			}
			f.grid[r][c] = pn
		}
	}
	return f, nil
}

// newPanel plots one panel: every strategy's points along x, the y axis
// from 0 to a quarter above the highest bar (at most the metric's cap).
func newPanel(s Summary, p Panel, labels []string, yMax float64, row, col int) (*panel, error) {
	gp := gplot.New()
	styleText(gp)
	switch {
	case s.Facet == nil:
		gp.Title.Text = p.Metric.Title + " against " + s.X.Label
	case row == 0:
		gp.Title.Text = s.Facet.Label + " = " + p.Facet
	}
	gp.X.Label.Text = s.X.Label
	if col == 0 || s.Facet == nil {
		gp.Y.Label.Text = p.Metric.Label
	}
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	gp.Add(grid)
	pn := &panel{plot: gp}
	lo, hi := s.XPos[0], s.XPos[len(s.XPos)-1]
	span := hi - lo
	pad := 0.45
	if s.Scale == Linear {
		pad = max(span*0.06, 0.5)
	}
	step := 0.02 * (span + 2*pad) // strategies at one x drawn apart, so equal values show every bar
	for i, se := range p.Series {
		offset := (float64(i) - float64(len(p.Series)-1)/2) * step
		xy := make(errorXYs, len(se.Points))
		for j, pt := range se.Points {
			xy[j] = errorXY{x: pt.positionX + offset, y: pt.Mean, low: pt.Mean - pt.Min, high: pt.Max - pt.Mean}
		}
		if len(xy) == 0 {
			continue
		}
		if err := pn.addSeries(strategyStyle(se.Strategy), xy); err != nil {
			return nil, fmt.Errorf("%s of %s: %w", p.Metric.Label, se.Strategy, err)
		}
	}
	ticks := make(gplot.ConstantTicks, len(s.XValues))
	for i := range s.XValues {
		ticks[i] = gplot.Tick{Value: s.XPos[i], Label: labels[i]}
	}
	gp.X.Tick.Marker = ticks
	gp.X.Min, gp.X.Max = lo-pad, hi+pad
	gp.Y.Min = 0
	gp.Y.Max = 1.25 * yMax
	if p.Metric.Max > 0 {
		gp.Y.Max = min(gp.Y.Max, p.Metric.Max)
	}
	if yMax == 0 {
		gp.Y.Max = 1 // an axis of zeros still needs a span
	}
	return pn, nil
}

// fitLabels are the x tick labels of s, made to fit a data area of width
// w: as written when they fit, else numbers in thousands or millions
// (16000 as 16k), else every other one shown.
func fitLabels(s Summary, w vg.Length) []string {
	ts := draw.TextStyle{Font: font.From(sans, tickSize), Handler: gplot.DefaultTextHandler}
	span := s.XPos[len(s.XPos)-1] - s.XPos[0]
	fits := func(labels []string) bool {
		if span == 0 {
			return true
		}
		for i := 1; i < len(labels); i++ {
			gap := vg.Length((s.XPos[i]-s.XPos[i-1])/span) * w
			need := (ts.Width(labels[i-1])+ts.Width(labels[i]))/2 + vg.Points(4)
			if labels[i-1] != "" && labels[i] != "" && gap < need {
				return false
			}
		}
		return true
	}
	labels := append([]string(nil), s.XValues...)
	if fits(labels) {
		return labels
	}
	for i, v := range labels {
		labels[i] = compactNumber(v)
	}
	for step := 2; !fits(labels) && step < len(labels); step++ {
		for i := range labels {
			labels[i] = ""
			if i%step == 0 || i == len(labels)-1 && (i%step)*2 >= step {
				labels[i] = compactNumber(s.XValues[i])
			}
		}
	}
	return labels
}

// compactNumber writes an integer that is a multiple of a thousand or a
// million with k or M: 16000 as 16k; anything else as it is.
func compactNumber(v string) string {
	n, err := strconv.ParseInt(v, 10, 64)
	switch {
	case err != nil || n == 0:
		return v
	case n%1_000_000 == 0:
		return strconv.FormatInt(n/1_000_000, 10) + "M"
	case n%1000 == 0:
		return strconv.FormatInt(n/1000, 10) + "k"
	}
	return v
}

// addSeries draws a series with st's colour and glyph as a line through
// its points with min-max error bars.
func (pn *panel) addSeries(st style, xy errorXYs) error {
	line, err := plotter.NewLine(xy)
	if err != nil {
		return err
	}
	line.Color, line.Width = st.color, vg.Points(1.6)
	points, err := plotter.NewScatter(xy)
	if err != nil {
		return err
	}
	points.GlyphStyle = draw.GlyphStyle{Color: st.color, Radius: vg.Points(3.6), Shape: st.glyph}
	bars, err := plotter.NewYErrorBars(xy)
	if err != nil {
		return err
	}
	bars.Color, bars.Width, bars.CapWidth = st.color, vg.Points(1.1), vg.Points(7)
	pn.plot.Add(line, bars, points)
	pn.lines = append(pn.lines, line)
	pn.points = append(pn.points, points)
	pn.bars = append(pn.bars, bars)
	return nil
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

// draw lays the figure out on c: the title, the caption and the legend
// across the top, the panels in their grid below, their data areas
// aligned. The legend has a band of its own, so it never covers data.
func (f *figure) draw(c draw.Canvas) {
	pad := vg.Points(8)
	titleStyle := draw.TextStyle{Color: color.Black, Font: font.From(sans, titleSize), XAlign: draw.XCenter, YAlign: draw.YTop, Handler: f.grid[0][0].plot.Title.TextStyle.Handler}
	captionStyle := titleStyle
	captionStyle.Font = font.From(sans, captionSize)
	captionStyle.Color = gray

	top := c.Max.Y - pad
	center := (c.Min.X + c.Max.X) / 2
	c.FillText(titleStyle, vg.Point{X: center, Y: top}, f.title)
	top -= titleStyle.Height(f.title) + vg.Points(4)
	c.FillText(captionStyle, vg.Point{X: center, Y: top}, f.caption)
	top -= captionStyle.Height(f.caption) + vg.Points(6)
	top = f.drawLegend(c, top, center)
	top -= pad

	body := draw.Crop(c, 0, 0, 0, top-c.Max.Y)
	rows, cols := len(f.grid), len(f.grid[0])
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(22), PadY: vg.Points(14),
		PadLeft: pad, PadRight: pad * 2, PadBottom: pad}
	plots := make([][]*gplot.Plot, rows)
	for r := range rows {
		plots[r] = make([]*gplot.Plot, cols)
		for col := range cols {
			plots[r][col] = f.grid[r][col].plot
		}
	}
	canvases := gplot.Align(plots, tiles, body)
	f.dataAreas = f.dataAreas[:0]
	for r := range rows {
		for col := range cols {
			p := plots[r][col]
			p.Draw(canvases[r][col])
			f.dataAreas = append(f.dataAreas, p.DataCanvas(canvases[r][col]))
		}
	}
}

// drawLegend draws one entry per strategy, side by side and centred,
// below top, and returns the y below it.
func (f *figure) drawLegend(c draw.Canvas, top, center vg.Length) vg.Length {
	ts := draw.TextStyle{Color: color.Black, Font: font.From(sans, legendSize), XAlign: draw.XLeft, YAlign: draw.YCenter,
		Handler: f.grid[0][0].plot.Title.TextStyle.Handler}
	thumb, gap, sep := vg.Points(26), vg.Points(5), vg.Points(22)
	height := ts.Height("Xy") + vg.Points(4)
	width := vg.Length(0)
	for i, s := range f.strategies {
		if i > 0 {
			width += sep
		}
		width += thumb + gap + ts.Width(s)
	}
	y := top - height/2
	x := center - width/2
	f.legendBox = draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{Min: vg.Point{X: x, Y: top - height}, Max: vg.Point{X: x + width, Y: top}}}
	for _, s := range f.strategies {
		st := strategyStyle(s)
		c.StrokeLine2(draw.LineStyle{Color: st.color, Width: vg.Points(1.6)}, x, y, x+thumb, y)
		c.DrawGlyph(draw.GlyphStyle{Color: st.color, Radius: vg.Points(3.6), Shape: st.glyph}, vg.Point{X: x + thumb/2, Y: y})
		x += thumb + gap
		c.FillText(ts, vg.Point{X: x, Y: y}, s)
		x += ts.Width(s) + sep
	}
	return top - height
}

// legendClear says whether the legend's box meets no panel's data area.
func (f *figure) legendClear() bool {
	for _, d := range f.dataAreas {
		r := d.Rectangle
		l := f.legendBox.Rectangle
		if l.Min.X < r.Max.X && r.Min.X < l.Max.X && l.Min.Y < r.Max.Y && r.Min.Y < l.Max.Y {
			return false
		}
	}
	return len(f.dataAreas) > 0
}
