package plot

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Format is an output file format.
type Format int

// The formats. PDF is left out on purpose: gonum's PDF backend (fpdf)
// stamps the wall-clock time into the document and writes its font
// catalogue in map order, so its bytes would differ from run to run.
const (
	SVG Format = iota
	PNG
)

// FormatOf picks the format from path's extension (.svg or .png).
func FormatOf(path string) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".svg":
		return SVG, nil
	case ".png":
		return PNG, nil
	}
	return 0, fmt.Errorf("%s: want a .svg or .png file", path)
}

// Size is a figure's size in pixels (CSS pixels, 1/96 inch): a PNG has
// exactly this many pixels, an SVG is this size at 100% zoom. A zero field
// takes its default.
type Size struct{ Width, Height int }

// The default and allowed sizes. Below the minimum the two panels' axes
// and legends no longer fit.
const (
	DefaultWidth  = 1100
	DefaultHeight = 480
	MinWidth      = 500
	MinHeight     = 250
	MaxSide       = 8000
)

// Resolve fills in the defaults and checks the bounds; errors name the
// field ("width 10 px: want 500 to 8000").
func (s Size) Resolve() (Size, error) {
	if s.Width == 0 {
		s.Width = DefaultWidth
	}
	if s.Height == 0 {
		s.Height = DefaultHeight
	}
	if s.Width < MinWidth || s.Width > MaxSide {
		return s, fmt.Errorf("width %d px: want %d to %d", s.Width, MinWidth, MaxSide)
	}
	if s.Height < MinHeight || s.Height > MaxSide {
		return s, fmt.Errorf("height %d px: want %d to %d", s.Height, MinHeight, MaxSide)
	}
	return s, nil
}

// pixel is one CSS pixel: vg lengths are in points (1/72 inch).
const pixel = vg.Inch / 96

// Render draws s in format f at size to w.
func Render(w io.Writer, s Summary, f Format, size Size) error {
	size, err := size.Resolve()
	if err != nil {
		return err
	}
	if len(s.CPUs) == 0 {
		return ErrNoRows
	}
	fig, err := newFigure(s)
	if err != nil {
		return err
	}
	return renderCanvas(w, f, size, fig.draw)
}

// renderCanvas makes a canvas of format f and size (resolved), draws on
// it and writes it to w.
func renderCanvas(w io.Writer, f Format, size Size, drawOn func(draw.Canvas)) error {
	width, height := vg.Length(size.Width)*pixel, vg.Length(size.Height)*pixel
	var c vg.CanvasWriterTo
	switch f {
	case SVG:
		c = vgsvg.New(width, height)
	case PNG:
		// 96 dots per inch makes one dot one CSS pixel.
		c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(96))}
	default:
		return fmt.Errorf("unknown format %d", f)
	}
	drawOn(draw.New(c))
	_, err := c.WriteTo(w)
	return err
}

// WriteFile renders s into path, in the format its extension names. The
// file is written whole or not at all (a temporary file renamed into place).
func WriteFile(path string, s Summary, size Size) error {
	return writeRendered(path, func(w io.Writer, f Format) error { return Render(w, s, f, size) })
}

// writeRendered renders into path with render, in the format path's
// extension names, whole or not at all.
func writeRendered(path string, render func(io.Writer, Format) error) error {
	f, err := FormatOf(path)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := render(&buf, f); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return writeError(path, err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return writeError(path, err)
	}
	if err := tmp.Close(); err != nil {
		return writeError(path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return writeError(path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return writeError(path, err)
	}
	return nil
}

// writeError names path, not the temporary file, in an I/O error.
func writeError(path string, err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	if errors.As(err, &pe) {
		err = pe.Err
	} else if errors.As(err, &le) {
		err = le.Err
	}
	return fmt.Errorf("%s: %w", path, err)
}

// draw lays the figure out on c: the title and caption across the top,
// the two panels side by side below, their data areas aligned.
func (f *figure) draw(c draw.Canvas) {
	pad := vg.Points(8)
	titleStyle := f.missRate.plot.Title.TextStyle
	titleStyle.Font = font.From(sans, titleSize)
	titleStyle.XAlign, titleStyle.YAlign = draw.XCenter, draw.YTop
	captionStyle := titleStyle
	captionStyle.Font = font.From(sans, captionSize)
	captionStyle.Color = gray

	top := c.Max.Y - pad
	center := (c.Min.X + c.Max.X) / 2
	c.FillText(titleStyle, vg.Point{X: center, Y: top}, f.title)
	top -= titleStyle.Height(f.title) + vg.Points(4)
	c.FillText(captionStyle, vg.Point{X: center, Y: top}, f.caption)
	top -= captionStyle.Height(f.caption) + pad

	body := draw.Crop(c, 0, 0, 0, top-c.Max.Y)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Points(28),
		PadLeft: pad, PadRight: pad * 2, PadBottom: pad}
	plots := [][]*gplot.Plot{{f.missRate.plot, f.cost.plot}}
	canvases := gplot.Align(plots, tiles, body)
	f.missRate.plot.Draw(canvases[0][0])
	f.cost.plot.Draw(canvases[0][1])
}
