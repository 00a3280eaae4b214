package demo

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
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
	requireHas(t, page, `<tr><td class="metric">misses</td><td>0</td><td>0</td><td class="bad">3</td><td>0</td></tr>`)
	requireHas(t, page, `<th class="group" colspan="2">3 vCPUs</th>`)
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
	d.Workload.Probe = `<b>"p"</b>`
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

// chromiumTimeout bounds one headless Chromium run: it takes a second or
// two, so reaching it means Chromium hangs.
const chromiumTimeout = 2 * time.Minute

// chromium runs headless Chromium with args in a profile of its own and
// returns its standard output. It fails, never skips, without Chromium.
func chromium(t *testing.T, args ...string) []byte {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	require.NoError(t, err, "the demo's HTML page is checked in headless Chromium: `make deps` installs it (Debian package chromium)")
	profile := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), chromiumTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
		"--disable-extensions", "--disable-background-networking", "--hide-scrollbars",
		"--user-data-dir=" + profile,
	}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+profile)
	// Chromium forks helpers: on a timeout kill the whole group, and do
	// not wait forever for pipes a stray helper holds.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	require.NoError(t, ctx.Err(), "chromium %q did not finish within %s", args, chromiumTimeout)
	require.NoError(t, err, "chromium %q: %s", args, errb.String())
	return out.Bytes()
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

	dom := string(chromium(t, "--dump-dom", url))
	// The table, a row per metric, a column per trial.
	cols := d.columns()
	for _, m := range tableMetrics {
		row := `<tr><td class="metric">` + m.name + `</td>`
		for _, c := range cols {
			row += `<td`
			switch {
			case (m.name == "misses" || m.name == "miss rate") && c.Missed:
				row += ` class="bad"`
			case m.name == "program output" && c.OutputOK:
				row += ` class="good"`
			case m.name == "program output":
				row += ` class="bad"`
			}
			row += `>` + m.cell(c) + `</td>`
		}
		requireHas(t, dom, row+`</tr>`)
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
	dom = string(chromium(t, "--dump-dom", fmt.Sprintf("%s#view=%d-%d", url, from, to)))
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
	require.Greater(t, red, 2_000, "too few pixels of the misses' red")
}
