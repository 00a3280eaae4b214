package demo

import (
	"bytes"
	"fmt"
	"html/template"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/internal/chromiumtest"
)

func TestHTMLStructure(t *testing.T) {
	d := syntheticDemo()
	var b bytes.Buffer
	require.NoError(t, d.WriteHTML(&b))
	page := b.String()
	require.True(t, strings.HasPrefix(page, "<!DOCTYPE html>\n"))
	require.Equal(t, 3, strings.Count(page, `<g class="lane"`))
	// Every event but the window opens (the hit marks them) is a marker.
	require.Equal(t, 6, strings.Count(page, `<g class="ev `))
	require.Equal(t, 2, strings.Count(page, `<g class="ev miss"`))
	require.Equal(t, 1, strings.Count(page, `<g class="ev followed" data-cycle="1200" data-kind="miss" data-vcpu="0" data-tid="10"`))
	require.Equal(t, 2, strings.Count(page, `<rect class="band`))
	requireHas(t, page, `<rect class="band chosen" data-from="1000" data-to="1800" data-vcpu="1" data-tid="11"`)
	// The full range: the plot spans 96 to 1180 for cycles 900 to 2,200.
	requireHas(t, page, `data-cycle="1200" data-kind="miss" data-vcpu="0" data-tid="10" data-y="84.0" transform="translate(346.2,84.0)"`)
	requireHas(t, page, `<text class="label" x="10" y="24.0" text-anchor="start">miss at 1,200 (TID 10): ran probed() without a trap</text>`)
	requireHas(t, page, "<title>miss: probed() ran without a trap (cycle 1,200, cpu0, TID 10)</title>")
	requireHas(t, page, `<tr data-strategy="inline" data-cpus="3"><th class="group">3 vCPUs</th><td class="metric">inline</td><td>6</td><td>3</td><td class="bad">3 (50.0%)</td><td>350</td><td>3,000</td><td class="good" title="calls=6, exit 0">✓</td></tr>`)
	requireHas(t, page, `<tr data-strategy="ssol-stack" data-cpus="3"><th class="group"></th><td class="metric">ssol-stack</td>`)
	for _, p := range d.walkthrough() {
		requireHas(t, page, "<p>"+template.HTMLEscapeString(p)+"</p>")
	}
	requireSelfContained(t, page)
}

// requireHas and requireHasNot check for a piece of a page, and print
// only the piece when they fail: the pages are hundreds of kilobytes.
func requireHas(t *testing.T, page, piece string) {
	t.Helper()
	require.True(t, strings.Contains(page, piece), "the page lacks %q", piece)
}

func requireHasNot(t *testing.T, page, piece string) {
	t.Helper()
	require.False(t, strings.Contains(page, piece), "the page has %q", piece)
}

// requireSelfContained checks the page loads nothing from anywhere.
func requireSelfContained(t *testing.T, page string) {
	t.Helper()
	for _, bad := range []string{" src=", " href=", "@import", "<link", "<iframe", "<img"} {
		requireHasNot(t, page, bad)
	}
	require.Equal(t, strings.Count(page, "url("), strings.Count(page, "url(#plot)"), "only the SVG's own clip path is referenced")
	require.Equal(t, strings.Count(page, "http://www.w3.org/2000/svg"), strings.Count(page, "http://"), "the only URL is the SVG namespace")
	requireHas(t, page, `xmlns="http://www.w3.org/2000/svg"`)
}

// Every value reaches the page escaped.
func TestHTMLEscapes(t *testing.T) {
	d := syntheticDemo()
	d.Options.Workload.Probe = `<b>"p"</b>`
	d.Story.Probe = `<b>"p"</b>`
	d.Trials[2].Report.Probes[0].Instruction = `<script>alert(1)</script>`
	var b bytes.Buffer
	require.NoError(t, d.WriteHTML(&b))
	page := b.String()
	requireHasNot(t, page, `<b>"p"</b>`)
	requireHasNot(t, page, `<script>alert`)
	requireHas(t, page, `&lt;b&gt;&#34;p&#34;&lt;/b&gt;()`)
	requireHas(t, page, `&lt;script&gt;alert(1)&lt;/script&gt;`)
}

// chromium runs headless Chromium (internal/chromiumtest).
func chromium(t *testing.T, args ...string) []byte {
	t.Helper()
	return chromiumtest.Run(t, args...)
}

// The real demo's page, rendered by Chromium after its script ran, has
// the table's values, the lanes and markers, and the tooltips.
func TestHTMLInChromium(t *testing.T) {
	d, err := realDemo()
	require.NoError(t, err)
	dir := t.TempDir()
	path := filepath.Join(dir, "demo.html")
	var b bytes.Buffer
	require.NoError(t, d.WriteHTML(&b))
	requireSelfContained(t, b.String())
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
	url := "file://" + path
	s := d.Story

	// A window as wide as the page's own (1240 px), so the script keeps
	// the drawn geometry: one SVG unit is one pixel.
	dom := string(chromium(t, "--window-size=1240,900", "--dump-dom", url))
	// The table, a row per trial.
	for _, c := range d.columns() {
		requireHas(t, dom, fmt.Sprintf(`<tr data-strategy="%s" data-cpus="%s">`, c.Strategy, c.VCPUs))
		requireHas(t, dom, fmt.Sprintf(`<td class="metric">%s</td><td>%s</td><td>%s</td>`, c.Strategy, c.Executions, c.Hits))
	}
	// The lanes, the window band and every marker.
	require.Equal(t, s.CPUs, strings.Count(dom, `<g class="lane"`))
	require.Equal(t, 1, strings.Count(dom, `<rect class="band chosen"`))
	markers := 0
	for _, e := range s.Events {
		if e.Kind != "window_open" {
			markers++
		}
	}
	require.Equal(t, markers, strings.Count(dom, `<g class="ev `))
	require.Equal(t, 1, strings.Count(dom, `<g class="ev followed"`))
	requireHas(t, dom, fmt.Sprintf(`data-cycle="%d" data-kind="miss" data-vcpu="%d" data-tid="%d"`, s.Miss.Cycle, s.Miss.VCPU, s.Miss.TID))
	// The script ran: the titles became tooltips, the view is recorded.
	require.Equal(t, 1, strings.Count(dom, "<title>"), "only the page's own title is left")
	require.Equal(t, markers+len(s.Windows), strings.Count(dom, ` data-tip="`))
	requireHas(t, dom, fmt.Sprintf(`data-tip="miss: probed() ran without a trap (cycle %s, cpu%d, TID %d)"`, num(s.Miss.Cycle), s.Miss.VCPU, s.Miss.TID))
	requireHas(t, dom, fmt.Sprintf(`data-view="%d-%d"`, s.From, s.To))
	requireHas(t, dom, fmt.Sprintf(`<span id="view-label">cycles %s to %s (%s cycles across)</span>`, num(s.From), num(s.To), num(s.To-s.From)))

	// Zoomed on the miss through the address: the script lays it out
	// again, the miss in the middle of the plot (96 + 1084/2).
	from, to := s.Miss.Cycle-100, s.Miss.Cycle+100
	dom = string(chromium(t, "--window-size=1240,900", "--dump-dom", fmt.Sprintf("%s#view=%d-%d", url, from, to)))
	requireHas(t, dom, fmt.Sprintf(`data-view="%d-%d"`, from, to))
	followed := regexp.MustCompile(`<g class="ev followed"[^>]*transform="translate\(([0-9.]+),`).FindStringSubmatch(dom)
	require.NotNil(t, followed)
	require.Equal(t, "638.0", followed[1])
	// New ticks, every 50 cycles.
	requireHas(t, dom, ">"+num((from+49)/50*50)+"</text>")
	// The chosen window covers the whole view: its band runs past both
	// edges of the plot.
	band := regexp.MustCompile(`<rect class="band chosen"[^>]* x="([0-9.-]+)"[^>]* width="([0-9.]+)"`).FindStringSubmatch(dom)
	require.NotNil(t, band)
	require.Equal(t, "76.0", band[1])
	require.Equal(t, "1124.0", band[2])
}

// In a window 800 px wide the timeline is laid out again at one SVG unit
// per pixel: the plot narrows, the labels keep their 12-13 px size and
// stay inside it.
func TestHTMLNarrowWindow(t *testing.T) {
	d, err := realDemo()
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "demo.html")
	var b bytes.Buffer
	require.NoError(t, d.WriteHTML(&b))
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
	dom := string(chromium(t, "--window-size=800,900", "--dump-dom", "file://"+path))
	vb := regexp.MustCompile(`<svg id="timeline"[^>]* viewBox="0 0 ([0-9.]+) `).FindStringSubmatch(dom)
	require.NotNil(t, vb)
	w, err := strconv.ParseFloat(vb[1], 64)
	require.NoError(t, err)
	require.Less(t, w, 800.0, "the SVG is as wide as the window less the margins, not 1200 units scaled down")
	require.Greater(t, w, 700.0)
	right := regexp.MustCompile(`data-plot-right="([0-9.]+)"`).FindStringSubmatch(dom)
	require.NotNil(t, right)
	require.Equal(t, fmt.Sprintf("%.1f", w-20), right[1])
	for _, m := range regexp.MustCompile(`<g class="ev [^"]*"[^>]*transform="translate\(([0-9.]+),`).FindAllStringSubmatch(dom, -1) {
		x, err := strconv.ParseFloat(m[1], 64)
		require.NoError(t, err)
		require.LessOrEqual(t, x, w, "a marker past the right edge")
	}
	// The labels near the right edge end at their marker, inside the plot.
	require.Contains(t, dom, `text-anchor="end"`)
}

// A screenshot of the page is not blank: it has text and the window's
// band in its colour, and the misses in red.
func TestHTMLScreenshot(t *testing.T) {
	d, err := realDemo()
	require.NoError(t, err)
	dir := t.TempDir()
	path := filepath.Join(dir, "demo.html")
	var b bytes.Buffer
	require.NoError(t, d.WriteHTML(&b))
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
	shot := filepath.Join(dir, "demo.png")
	chromium(t, "--screenshot="+shot, "--window-size=1280,900", "file://"+path)
	f, err := os.Open(shot)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	bounds := img.Bounds()
	require.Equal(t, 1280, bounds.Dx())
	require.Equal(t, 900, bounds.Dy())
	var nonWhite, band, red int
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			r, g, b = r>>8, g>>8, b>>8
			switch {
			case r == 0xff && g == 0xd6 && b == 0x66: // bandColor
				band++
			case r == 0xd3 && g == 0x2f && b == 0x2f: // the misses' red
				red++
			}
			if r < 0xf0 || g < 0xf0 || b < 0xf0 {
				nonWhite++
			}
		}
	}
	total := bounds.Dx() * bounds.Dy()
	require.Greater(t, nonWhite, total/10, "the screenshot is almost blank")
	// The band is some 700 x 260 pixels, less what is drawn over it.
	require.Greater(t, band, 50_000, "too few pixels of the window's band colour %s", bandColor)
	// The misses are thin red strokes, the followed one a red cross.
	require.Greater(t, red, 500, "too few pixels of the misses' red")
}
