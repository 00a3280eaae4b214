package plot

import (
	"errors"
	"fmt"
	"io"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Comparison is a figure of a few series over one set of categories, such
// as a measured and a predicted miss rate over the duty cycles of an
// experiment: the categories are evenly spaced and labelled (XTicks), each
// series is drawn as points with min-max error bars joined by a line.
type Comparison struct {
	Title, Caption string
	XLabel, YLabel string
	XTicks         []string // one label per category, left to right
	// YMax caps the y axis (0 = 1.15 x the largest value).
	YMax   float64
	Series []CompareSeries
}

// CompareSeries is one series: a value and its range per category.
type CompareSeries struct {
	Name   string
	Points []ComparePoint // one per XTicks entry
}

// ComparePoint is a series' value at one category, with its range.
type ComparePoint struct{ Y, Min, Max float64 }

// RenderComparison draws c in format f at size to w.
func RenderComparison(w io.Writer, c Comparison, f Format, size Size) error {
	size, err := size.Resolve()
	if err != nil {
		return err
	}
	if len(c.XTicks) == 0 || len(c.Series) == 0 {
		return errors.New("comparison: no data")
	}
	pn := &panel{plot: gplot.New()}
	p := pn.plot
	styleText(p)
	p.Title.Text = c.Title
	p.X.Label.Text, p.Y.Label.Text = c.XLabel, c.YLabel
	p.Legend.Top, p.Legend.Left = true, false
	p.Legend.ThumbnailWidth = vg.Points(24)
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	p.Add(grid)
	yMax := 0.0
	for i, se := range c.Series {
		if len(se.Points) != len(c.XTicks) {
			return fmt.Errorf("comparison: series %s has %d points for %d categories", se.Name, len(se.Points), len(c.XTicks))
		}
		// Dodge the series apart so equal values show both bars.
		offset := (float64(i) - float64(len(c.Series)-1)/2) * 0.06
		xy := make(errorXYs, len(se.Points))
		for j, pt := range se.Points {
			xy[j] = errorXY{x: float64(j) + offset, y: pt.Y, low: pt.Y - pt.Min, high: pt.Max - pt.Y}
			yMax = max(yMax, pt.Max)
		}
		if err := pn.addSeries(i, se.Name, xy); err != nil {
			return fmt.Errorf("comparison: series %s: %w", se.Name, err)
		}
	}
	ticks := make(gplot.ConstantTicks, len(c.XTicks))
	for i, l := range c.XTicks {
		ticks[i] = gplot.Tick{Value: float64(i), Label: l}
	}
	p.X.Tick.Marker = ticks
	p.X.Min, p.X.Max = -0.4, float64(len(c.XTicks)-1)+0.4
	p.Y.Min, p.Y.Max = 0, c.YMax
	if p.Y.Max == 0 {
		p.Y.Max = max(1.15*yMax, 1e-9)
	}
	return renderCanvas(w, f, size, func(dc draw.Canvas) {
		pad := vg.Points(8)
		style := p.Title.TextStyle
		style.Font = font.From(sans, captionSize)
		style.Color = gray
		style.XAlign, style.YAlign = draw.XCenter, draw.YTop
		top := dc.Max.Y - pad
		if c.Caption != "" {
			dc.FillText(style, vg.Point{X: (dc.Min.X + dc.Max.X) / 2, Y: top}, c.Caption)
			top -= style.Height(c.Caption) + pad
		}
		p.Draw(draw.Crop(dc, pad, -pad*2, pad, top-dc.Max.Y))
	})
}

// WriteComparison renders c into path (.svg or .png), whole or not at all.
func WriteComparison(path string, c Comparison, size Size) error {
	return writeRendered(path, func(w io.Writer, f Format) error { return RenderComparison(w, c, f, size) })
}
