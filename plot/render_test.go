package plot

import (
	"bytes"
	"encoding/xml"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/sweep"
)

func sampleSummary(t *testing.T) Summary {
	t.Helper()
	s, err := Summarize(sampleRows(), Options{})
	require.NoError(t, err)
	return s
}

// The panels hold one line, one point and one error bar per strategy and
// x value, at the value's position (log2 for vCPU counts) dodged apart by
// strategy, with the bars spanning the seeds' minimum to maximum.
func TestFigurePanels(t *testing.T) {
	s := sampleSummary(t)
	f, err := newFigure(s, Size{Width: DefaultWidth, Height: DefaultHeight})
	require.NoError(t, err)
	assert.Equal(t, s.Title, f.title)
	assert.Equal(t, "Points: mean over 3 seeds per configuration \u00b7 error bars: minimum\u2013maximum over seeds", f.caption)
	require.Len(t, f.grid, 1)
	require.Len(t, f.grid[0], 2, "the metrics side by side")
	mr, cost := f.grid[0][0], f.grid[0][1]
	type want struct{ y, lo, hi float64 }
	check := func(name string, p *panel, wants [2][3]want) {
		require.Len(t, p.points, 2, name)
		for si := range 2 {
			require.Len(t, p.points[si].XYs, 3, name)
			for i := range 3 {
				w := wants[si][i]
				assert.InDelta(t, float64(i), p.points[si].XYs[i].X, 0.1, "%s series %d x", name, si)
				assert.Equal(t, w.y, p.points[si].XYs[i].Y, "%s series %d mean at %d", name, si, i)
				assert.Equal(t, p.points[si].XYs[i], p.bars[si].XYs[i])
				assert.Equal(t, p.points[si].XYs[i], p.lines[si].XYs[i])
				assert.Equal(t, w.y-w.lo, p.bars[si].YErrors[i].Low)
				assert.Equal(t, w.hi-w.y, p.bars[si].YErrors[i].High)
			}
		}
		assert.Less(t, p.points[0].XYs[0].X, p.points[1].XYs[0].X, "dodged apart")
	}
	check("miss rate", mr, [2][3]want{
		{{0, 0, 0}, {25, 20, 30}, {70, 65, 75}},
		{{0, 0, 0}, {0, 0, 0}, {0, 0, 0}},
	})
	check("cycles per hit", cost, [2][3]want{
		{{3100, 3000, 3200}, {3000, 3000, 3000}, {4000, 4000, 4000}},
		{{5000, 5000, 5000}, {5400, 5200, 5600}, {6100, 6000, 6300}},
	})
	ticks := mr.plot.X.Tick.Marker.Ticks(mr.plot.X.Min, mr.plot.X.Max)
	require.Len(t, ticks, 3)
	for i, l := range []string{"1", "2", "4"} {
		assert.Equal(t, l, ticks[i].Label)
		assert.Equal(t, float64(i), ticks[i].Value)
	}
	assert.Equal(t, 0.0, mr.plot.Y.Min)
	assert.InDelta(t, 93.75, mr.plot.Y.Max, 1e-9, "a quarter above the highest bar")
	assert.InDelta(t, 1.25*6300, cost.plot.Y.Max, 1e-9)
}

// A strategy whose hits all missed has no cycles per hit: its line is
// empty, yet the figure draws; an all-zero axis still has a span.
func TestFigureWithoutHits(t *testing.T) {
	s, err := Summarize([]sweep.Row{row("inline", 2, 1, 10, 10, 0), row("ssol-stack", 2, 1, 10, 0, 0)}, Options{})
	require.NoError(t, err)
	f, err := newFigure(s, Size{Width: DefaultWidth, Height: DefaultHeight})
	require.NoError(t, err)
	cost := f.grid[0][1]
	require.Len(t, cost.points, 1, "inline has no point")
	assert.Equal(t, 1.0, cost.plot.Y.Max)
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

// figureKinds are the figures the tests draw: the default, facets, one
// metric, numbers on a linear axis, text on categories, at a few sizes.
func figureKinds(t *testing.T) map[string]struct {
	s    Summary
	size Size
} {
	t.Helper()
	mk := func(rows []sweep.Row, o Options) Summary {
		s, err := Summarize(rows, o)
		require.NoError(t, err)
		return s
	}
	prof := dutyRows()
	for i := range prof {
		if i%2 == 0 {
			prof[i].Profile = "slow.json"
		} else {
			prof[i].Seed = prof[i-1].Seed
		}
	}
	type kind = struct {
		s    Summary
		size Size
	}
	return map[string]kind{
		"default":    {sampleSummary(t), Size{}},
		"facets":     {mk(dutyRows(), Options{X: "args[2]", Facet: "cpus"}), Size{}},
		"narrow":     {mk(dutyRows(), Options{X: "args[2]", Facet: "cpus", Metrics: []string{"miss_rate"}}), Size{Width: 800}},
		"linear":     {mk(dutyRows(), Options{X: "args[2]", XScale: Linear, Where: []string{"cpus=4"}}), Size{Width: 900, Height: 400}},
		"categories": {mk(prof, Options{X: "profile", Facet: "cpus", Where: []string{"args[2]=0"}, Metrics: []string{"misses", "cycles_per_hit", "window_cycles"}}), Size{}},
	}
}

// TestRenderKinds: every kind of figure parses as SVG with its title,
// caption, panel titles and tick labels, one legend entry per strategy,
// and the legend clear of every panel's data.
func TestRenderKinds(t *testing.T) {
	for name, k := range figureKinds(t) {
		t.Run(name, func(t *testing.T) {
			size := k.size
			if size.Height == 0 {
				rows, _ := gridShape(k.s)
				size.Height = DefaultHeight + 320*(rows-1)
			}
			size, err := size.Resolve()
			require.NoError(t, err)
			f, err := newFigure(k.s, size)
			require.NoError(t, err)
			var buf bytes.Buffer
			require.NoError(t, renderCanvas(&buf, SVG, size, f.draw))
			rows, cols := gridShape(k.s)
			assert.Len(t, f.dataAreas, rows*cols, "one data area per panel")
			assert.True(t, f.legendClear(), "the legend meets no panel's data")
			for _, d := range f.dataAreas {
				assert.Less(t, d.Max.Y, f.legendBox.Min.Y, "the panels are below the legend")
			}

			doc := parseSVG(t, buf.Bytes())
			count := func(s string) int {
				n := 0
				for _, txt := range doc.texts {
					if txt == s {
						n++
					}
				}
				return n
			}
			assert.Equal(t, 1, count(k.s.Title))
			for _, st := range k.s.Strategies {
				assert.Equal(t, 1, count(st), "one legend entry for %s", st)
			}
			if k.s.Facet != nil {
				for _, v := range k.s.Facets {
					assert.Equal(t, 1, count(k.s.Facet.Label+" = "+v), "a column titled by its facet value")
				}
			} else {
				for _, m := range k.s.Metrics {
					assert.Equal(t, 1, count(m.Title+" against "+k.s.X.Label))
				}
			}
			assert.Equal(t, cols*rows, count(k.s.X.Label), "every panel labels x")
			// Each strategy's colour is drawn, whatever the others are.
			for _, st := range k.s.Strategies {
				c := strategyStyle(st).color
				hex := regexp.MustCompile(`(?i)stroke:#` + hexColor(c))
				assert.True(t, hex.Match(buf.Bytes()), "%s drawn in its colour", st)
			}
		})
	}
}

func hexColor(c color.RGBA) string {
	const digits = "0123456789abcdef"
	b := []byte{}
	for _, v := range []uint8{c.R, c.G, c.B} {
		b = append(b, digits[v>>4], digits[v&15])
	}
	return string(b)
}

// TestStableColours: xol alone is drawn in xol's colour, not in the first
// of the palette.
func TestStableColours(t *testing.T) {
	var rows []sweep.Row
	for _, r := range dutyRows() {
		if r.Strategy == "xol" {
			rows = append(rows, r)
		}
	}
	s, err := Summarize(rows, Options{X: "args[2]", Facet: "cpus"})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, Render(&buf, s, SVG, Size{}))
	assert.Contains(t, strings.ToLower(buf.String()), "stroke:#"+hexColor(palette[2]))
	assert.NotContains(t, strings.ToLower(buf.String()), "stroke:#"+hexColor(palette[0]))
}

// TestTickLabelsFit: labels that would collide are written in thousands,
// then thinned, so a narrow figure stays readable.
func TestTickLabelsFit(t *testing.T) {
	s := Summary{XValues: []string{"0", "1000", "2000", "4000", "8000", "16000", "32000"}, XPos: []float64{0, 1, 2, 3, 4, 5, 6}}
	assert.Equal(t, s.XValues, fitLabels(s, 1000))
	assert.Equal(t, []string{"0", "1k", "2k", "4k", "8k", "16k", "32k"}, fitLabels(s, 160))
	thin := fitLabels(s, 60)
	assert.Equal(t, "0", thin[0])
	assert.Contains(t, thin, "")
	assert.Equal(t, "1M", compactNumber("1000000"))
	assert.Equal(t, "1500", compactNumber("1500"))
}

func TestRenderPNG(t *testing.T) {
	s := sampleSummary(t)
	var buf bytes.Buffer
	require.NoError(t, Render(&buf, s, PNG, Size{Width: 800, Height: 360}))
	img, err := png.Decode(&buf)
	require.NoError(t, err)
	assert.Equal(t, image.Rect(0, 0, 800, 360), img.Bounds())
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
	var first, again bytes.Buffer
	require.NoError(t, Render(&first, s, PNG, Size{Width: 800, Height: 360}))
	require.NoError(t, Render(&again, s, PNG, Size{Width: 800, Height: 360}))
	assert.True(t, bytes.Equal(first.Bytes(), again.Bytes()), "PNG differs between two renders")
}

// TestRenderIsDeterministic: the same rows give the same bytes.
func TestRenderIsDeterministic(t *testing.T) {
	for name, k := range figureKinds(t) {
		var a, b bytes.Buffer
		require.NoError(t, Render(&a, k.s, SVG, k.size), name)
		again := k.s
		require.NoError(t, Render(&b, again, SVG, k.size), name)
		assert.True(t, bytes.Equal(a.Bytes(), b.Bytes()), name)
	}
}

func TestRenderDefaultSize(t *testing.T) {
	for _, c := range []struct {
		s Summary
		h int
	}{{sampleSummary(t), DefaultHeight}, {figureKinds(t)["facets"].s, DefaultHeight + 320}} {
		var buf bytes.Buffer
		require.NoError(t, Render(&buf, c.s, PNG, Size{}))
		cfg, err := png.DecodeConfig(&buf)
		require.NoError(t, err)
		assert.Equal(t, [2]int{DefaultWidth, c.h}, [2]int{cfg.Width, cfg.Height})
	}
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
	s, err := Summarize(rows, Options{})
	require.NoError(t, err)

	svgPath := filepath.Join(dir, "fig.svg")
	require.NoError(t, WriteFile(svgPath, s, Size{}))
	data, err := os.ReadFile(svgPath)
	require.NoError(t, err)
	doc := parseSVG(t, data)
	assert.Contains(t, doc.texts, "ssol-stack")
	var direct bytes.Buffer
	ws, err := Summarize(written, Options{})
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
