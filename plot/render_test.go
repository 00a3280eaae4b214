package plot

import (
	"bytes"
	"encoding/xml"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/sweep"
)

func sampleSummary(t *testing.T) Summary {
	t.Helper()
	s, err := Summarize(sampleRows())
	require.NoError(t, err)
	return s
}

// The panels hold one line, one point and one error bar per strategy and
// vCPU count, at log2 of the count (dodged apart by strategy), with the
// bars spanning the seeds' minimum to maximum.
func TestFigurePanels(t *testing.T) {
	f, err := newFigure(sampleSummary(t))
	require.NoError(t, err)
	assert.Equal(t, "threads 4 50 \u00b7 probe probed", f.title)
	assert.Equal(t, "Points: mean over 3 seeds per configuration \u00b7 error bars: minimum\u2013maximum over seeds", f.caption)

	step := dodgeStep([]int{1, 2, 4})
	type want struct{ y, lo, hi float64 }
	check := func(name string, p *panel, wants [2][3]want) {
		require.Len(t, p.points, 2, name)
		require.Len(t, p.bars, 2, name)
		require.Len(t, p.lines, 2, name)
		for si, offset := range []float64{-step / 2, step / 2} {
			require.Len(t, p.points[si].XYs, 3, name)
			require.Len(t, p.bars[si].XYs, 3, name)
			require.Len(t, p.lines[si].XYs, 3, name)
			for i, cpus := range []float64{1, 2, 4} {
				w := wants[si][i]
				assert.InDelta(t, math.Log2(cpus)+offset, p.points[si].XYs[i].X, 1e-12, "%s series %d x", name, si)
				assert.Equal(t, w.y, p.points[si].XYs[i].Y, "%s series %d mean at %v vCPUs", name, si, cpus)
				assert.Equal(t, p.points[si].XYs[i], p.bars[si].XYs[i])
				assert.Equal(t, p.points[si].XYs[i], p.lines[si].XYs[i])
				assert.Equal(t, w.y-w.lo, p.bars[si].YErrors[i].Low, "%s series %d low at %v vCPUs", name, si, cpus)
				assert.Equal(t, w.hi-w.y, p.bars[si].YErrors[i].High, "%s series %d high at %v vCPUs", name, si, cpus)
			}
		}
	}
	check("miss rate", f.missRate, [2][3]want{
		{{0, 0, 0}, {25, 20, 30}, {70, 65, 75}},
		{{0, 0, 0}, {0, 0, 0}, {0, 0, 0}},
	})
	check("cycles per hit", f.cost, [2][3]want{
		{{3100, 3000, 3200}, {3000, 3000, 3000}, {4000, 4000, 4000}},
		{{5000, 5000, 5000}, {5400, 5200, 5600}, {6100, 6000, 6300}},
	})

	// Axes: vCPU ticks labelled with the counts, y from 0 to 1.3 x the
	// highest bar (capped at 100% for miss rates).
	mr := f.missRate.plot
	ticks := mr.X.Tick.Marker.Ticks(mr.X.Min, mr.X.Max)
	require.Len(t, ticks, 3)
	for i, l := range []string{"1", "2", "4"} {
		assert.Equal(t, l, ticks[i].Label)
		assert.Equal(t, float64(i), ticks[i].Value)
	}
	assert.Equal(t, [2]float64{-0.45, 2.45}, [2]float64{mr.X.Min, mr.X.Max})
	assert.Equal(t, 0.0, mr.Y.Min)
	assert.InDelta(t, 97.5, mr.Y.Max, 1e-9)
	assert.Equal(t, 0.0, f.cost.plot.Y.Min)
	assert.InDelta(t, 1.3*6300, f.cost.plot.Y.Max, 1e-9)
}

// A strategy whose hits all missed has no cycles per hit: its line is
// empty, yet the figure draws; an all-zero axis still has a span.
func TestFigureWithoutHits(t *testing.T) {
	s, err := Summarize([]sweep.Row{row("inline", 2, 1, 10, 10, 0), row("ssol-stack", 2, 1, 10, 0, 0)})
	require.NoError(t, err)
	f, err := newFigure(s)
	require.NoError(t, err)
	assert.Empty(t, f.cost.points[0].XYs)
	require.Len(t, f.cost.points[1].XYs, 1)
	assert.Equal(t, 1.0, f.cost.plot.Y.Max)
	assert.Equal(t, "Points: mean over 1 seed per configuration \u00b7 error bars: minimum\u2013maximum over seeds", f.caption)
	var buf bytes.Buffer
	require.NoError(t, Render(&buf, s, SVG, Size{}))
	require.NoError(t, Render(&buf, s, PNG, Size{Width: MinWidth, Height: MinHeight}))
}

// svgDoc is what the tests read of an SVG document.
type svgDoc struct {
	width, height string
	texts         []string
}

// parseSVG decodes an SVG document as XML, failing on malformed XML.
func parseSVG(t *testing.T, data []byte) svgDoc {
	t.Helper()
	var doc svgDoc
	dec := xml.NewDecoder(bytes.NewReader(data))
	inText := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		require.NoError(t, err, "SVG is not well-formed XML")
		switch el := tok.(type) {
		case xml.StartElement:
			if el.Name.Local == "svg" {
				for _, a := range el.Attr {
					switch a.Name.Local {
					case "width":
						doc.width = a.Value
					case "height":
						doc.height = a.Value
					}
				}
			}
			if el.Name.Local == "text" {
				inText = true
				doc.texts = append(doc.texts, "")
			}
		case xml.EndElement:
			if el.Name.Local == "text" {
				inText = false
			}
		case xml.CharData:
			if inText {
				doc.texts[len(doc.texts)-1] += string(el)
			}
		}
	}
	return doc
}

func TestRenderSVG(t *testing.T) {
	s := sampleSummary(t)
	var first, second bytes.Buffer
	require.NoError(t, Render(&first, s, SVG, Size{Width: 900, Height: 400}))
	doc := parseSVG(t, first.Bytes())
	// 900 x 400 CSS pixels are 675 x 300 points.
	assert.Equal(t, "675pt", doc.width)
	assert.Equal(t, "300pt", doc.height)
	for _, want := range []string{
		"threads 4 50 \u00b7 probe probed",
		"Points: mean over 3 seeds per configuration \u00b7 error bars: minimum\u2013maximum over seeds",
		"Miss rate against vCPUs", "Probe overhead per hit",
		"miss rate (%)", "cycles per hit", "1", "2", "4",
	} {
		assert.Contains(t, doc.texts, want)
	}
	count := func(s string) int {
		n := 0
		for _, txt := range doc.texts {
			if txt == s {
				n++
			}
		}
		return n
	}
	// Each panel has an x label and a legend entry per strategy.
	assert.Equal(t, 2, count("vCPUs"))
	assert.Equal(t, 2, count("inline"))
	assert.Equal(t, 2, count("ssol-stack"))

	// The same input gives the same bytes.
	require.NoError(t, Render(&second, s, SVG, Size{Width: 900, Height: 400}))
	assert.Equal(t, first.Bytes(), second.Bytes())
	again, err := Summarize(sampleRows())
	require.NoError(t, err)
	second.Reset()
	require.NoError(t, Render(&second, again, SVG, Size{Width: 900, Height: 400}))
	assert.True(t, bytes.Equal(first.Bytes(), second.Bytes()), "SVG differs between two summaries of the same rows")
}

func TestRenderPNG(t *testing.T) {
	s := sampleSummary(t)
	var buf bytes.Buffer
	require.NoError(t, Render(&buf, s, PNG, Size{Width: 800, Height: 360}))
	img, err := png.Decode(&buf)
	require.NoError(t, err)
	assert.Equal(t, image.Rect(0, 0, 800, 360), img.Bounds())

	// Not blank: mostly white background, with black text and axes and
	// both strategies' colours drawn.
	var white, dark, blue, vermillion int
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			switch {
			case c == color.RGBA{0xff, 0xff, 0xff, 0xff}:
				white++
			case c.R < 0x40 && c.G < 0x40 && c.B < 0x40:
				dark++
			case c == palette[0]:
				blue++
			case c == palette[1]:
				vermillion++
			}
		}
	}
	total := b.Dx() * b.Dy()
	assert.Greater(t, white, total/2)
	assert.Less(t, white, total*98/100)
	assert.Greater(t, dark, 1000)
	assert.Greater(t, blue, 100, "inline's colour")
	assert.Greater(t, vermillion, 100, "ssol-stack's colour")

	var again bytes.Buffer
	require.NoError(t, Render(&again, s, PNG, Size{Width: 800, Height: 360}))
	var first bytes.Buffer
	require.NoError(t, Render(&first, s, PNG, Size{Width: 800, Height: 360}))
	assert.True(t, bytes.Equal(first.Bytes(), again.Bytes()), "PNG differs between two renders")
}

func TestRenderDefaultSize(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, Render(&buf, sampleSummary(t), PNG, Size{}))
	cfg, err := png.DecodeConfig(&buf)
	require.NoError(t, err)
	assert.Equal(t, [2]int{DefaultWidth, DefaultHeight}, [2]int{cfg.Width, cfg.Height})
}

func TestRenderErrors(t *testing.T) {
	s := sampleSummary(t)
	for _, c := range []struct {
		size Size
		msg  string
	}{
		{Size{Width: 10}, "width 10 px: want 500 to 8000"},
		{Size{Width: -1}, "width -1 px"},
		{Size{Height: 9000}, "height 9000 px: want 250 to 8000"},
	} {
		err := Render(io.Discard, s, SVG, c.size)
		require.Error(t, err)
		assert.Contains(t, err.Error(), c.msg)
	}
	assert.ErrorIs(t, Render(io.Discard, Summary{}, SVG, Size{}), ErrNoRows)
	assert.EqualError(t, Render(io.Discard, s, Format(7), Size{}), "unknown format 7")
}

func TestFormatOf(t *testing.T) {
	for path, want := range map[string]Format{"a.svg": SVG, "dir/b.PNG": PNG, "c.Svg": SVG} {
		f, err := FormatOf(path)
		require.NoError(t, err, path)
		assert.Equal(t, want, f, path)
	}
	for _, path := range []string{"a.pdf", "a", "a.svg.txt"} {
		_, err := FormatOf(path)
		assert.EqualError(t, err, path+": want a .svg or .png file")
	}
}

// WriteFile draws a results file read back with sweep.ReadFile, in the
// format of the output's extension, and leaves no temporary file.
func TestWriteFileFromResults(t *testing.T) {
	dir := t.TempDir()
	results := filepath.Join(dir, "results.csv")
	written := sampleRows()
	for i := range written {
		written[i].Profile = "skylake" // no field of a results file is empty
	}
	require.NoError(t, sweep.WriteFile(results, written))
	rows, err := sweep.ReadFile(results)
	require.NoError(t, err)
	s, err := Summarize(rows)
	require.NoError(t, err)

	svgPath := filepath.Join(dir, "fig.svg")
	require.NoError(t, WriteFile(svgPath, s, Size{}))
	data, err := os.ReadFile(svgPath)
	require.NoError(t, err)
	doc := parseSVG(t, data)
	assert.Contains(t, doc.texts, "ssol-stack")
	var direct bytes.Buffer
	ws, err := Summarize(written)
	require.NoError(t, err)
	require.NoError(t, Render(&direct, ws, SVG, Size{}))
	assert.Equal(t, direct.Bytes(), data, "CSV round trip changes the figure")

	pngPath := filepath.Join(dir, "fig.png")
	require.NoError(t, WriteFile(pngPath, s, Size{Width: 600, Height: 300}))
	fh, err := os.Open(pngPath)
	require.NoError(t, err)
	defer fh.Close()
	cfg, err := png.DecodeConfig(fh)
	require.NoError(t, err)
	assert.Equal(t, [2]int{600, 300}, [2]int{cfg.Width, cfg.Height})

	err = WriteFile(filepath.Join(dir, "fig.pdf"), s, Size{})
	assert.EqualError(t, err, filepath.Join(dir, "fig.pdf")+": want a .svg or .png file")
	err = WriteFile(filepath.Join(dir, "small.svg"), s, Size{Width: 1})
	assert.EqualError(t, err, filepath.Join(dir, "small.svg")+": width 1 px: want 500 to 8000")

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{"fig.png", "fig.svg", "results.csv"}, names)
	assert.False(t, strings.Contains(strings.Join(names, " "), ".fig"))
}

// Write errors name the output, not the temporary file behind it.
func TestWriteFileErrors(t *testing.T) {
	dir := t.TempDir()
	s := sampleSummary(t)
	missing := filepath.Join(dir, "no", "fig.svg")
	assert.EqualError(t, WriteFile(missing, s, Size{}), missing+": no such file or directory")
	isDir := filepath.Join(dir, "dir.svg")
	require.NoError(t, os.Mkdir(isDir, 0o755))
	err := WriteFile(isDir, s, Size{})
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), isDir+": "), err.Error())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file is left behind")
}
