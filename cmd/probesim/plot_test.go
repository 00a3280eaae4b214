package main

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/fixtures"
	"github.com/probesim/probesim/plot"
	"github.com/probesim/probesim/sweep"
)

// fileRow fills in the fields every row of a results file has (none is
// empty) around the ones a test sets.
func fileRow(r sweep.Row) sweep.Row {
	r.Configs, r.Sweep, r.Profile, r.Quantum = 1, "0123456789abcdef", "skylake", 10000
	if r.Probes == nil {
		r.Probes = []string{"probed"}
	}
	r.Probe, r.ProbeInstruction, r.StopReason = r.Probes[0], "nop", "exit"
	r.Args, r.Env, r.Params = append([]string{}, r.Args...), []string{}, []string{}
	return r
}

// svgTexts parses an SVG document as XML and returns its text elements.
func svgTexts(t *testing.T, data []byte) []string {
	t.Helper()
	var texts []string
	dec := xml.NewDecoder(bytes.NewReader(data))
	depth := 0 // > 0 inside a <text>
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return texts
		}
		require.NoError(t, err, "SVG is not well-formed XML")
		switch el := tok.(type) {
		case xml.StartElement:
			if el.Name.Local == "text" {
				depth++
				texts = append(texts, "")
			}
		case xml.EndElement:
			if el.Name.Local == "text" {
				depth--
			}
		case xml.CharData:
			if depth > 0 {
				texts[len(texts)-1] += string(el)
			}
		}
	}
}

// plotSweep is a real sweep of the threaded fixture, written once: duty
// cycles 0 and 2000 (args[2]), 1, 2 and 4 vCPUs, every strategy, two
// seeds.
var plotSweep struct {
	once sync.Once
	path string
}

func plotResultsFile(t *testing.T) string {
	t.Helper()
	plotSweep.once.Do(func() {
		dir, err := os.MkdirTemp(workDir, "plot-")
		require.NoError(t, err)
		cfg := filepath.Join(dir, "duty.yaml")
		require.NoError(t, os.WriteFile(cfg, []byte("program: "+fixturePath(t, fixtures.ArchAMD64, "threads")+
			"\nargs: [[4, 50, 0], [4, 50, 2000]]\nprobes: [probed]\ncpus: [1, 2, 4]\nstrategies: [inline, ssol-stack, xol]\nseeds: [1, 2]\n"), 0o644))
		out := filepath.Join(dir, "results.csv")
		res := cli(t, "sweep", cfg, "--out", out, "-q")
		require.Equal(t, 0, res.status, "stderr: %s", res.stderr)
		plotSweep.path = out
	})
	require.NotEmpty(t, plotSweep.path)
	return plotSweep.path
}

// TestPlotSweep plots a real sweep: against vCPUs for one duty cycle,
// then the duty cycle along x with a column per vCPU count; inline misses
// on several vCPUs, out-of-line stepping never; the same bytes each time.
func TestPlotSweep(t *testing.T) {
	results := plotResultsFile(t)
	rows, err := sweep.ReadFile(results)
	require.NoError(t, err)
	dir := t.TempDir()

	// Two duty cycles against vCPUs would mix two settings in a point.
	res := cli(t, "plot", results, "--out", filepath.Join(dir, "mixed.svg"))
	assert.Equal(t, exitUsage, res.status)
	assert.Equal(t, "probesim: "+results+`: rows 1 and 19 differ in args (["4" "50" "0"] and ["4" "50" "2000"]) besides the x axis (cpus): lay an argument out with --x args[N] or --facet args[N], or choose one with --where args[N]=VALUE`+"\n", string(res.stderr))

	sum, err := plot.Summarize(rows, plot.Options{Where: []string{"args[2]=0"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"1", "2", "4"}, sum.XValues)
	assert.Equal(t, []string{"inline", "ssol-stack", "xol"}, sum.Strategies)
	inline := sum.Panels[0][0].Series[0]
	require.Len(t, inline.Points, 3)
	assert.Equal(t, 0.0, inline.Points[0].Max, "one vCPU cannot miss")
	assert.Greater(t, inline.Points[2].Min, 0.0, "inline misses on 4 vCPUs")
	for _, se := range sum.Panels[0][0].Series[1:] {
		for _, p := range se.Points {
			assert.Equal(t, 0.0, p.Max, "%s never misses", se.Strategy)
		}
	}
	svgPath := filepath.Join(dir, "fig.svg")
	res = cli(t, "plot", results, "--out", svgPath, "--where", "args[2]=0")
	require.Equal(t, 0, res.status, "stderr: %s", res.stderr)
	assert.Empty(t, res.stderr)
	assert.Empty(t, res.stdout)
	svg := readFile(t, svgPath)
	texts := svgTexts(t, svg)
	for _, want := range []string{"threads 4 50 0 \u00b7 probe probed \u00b7 quantum 10000, profile skylake", "vCPUs", "miss rate (%)", "cycles per hit",
		"Miss rate against vCPUs", "inline", "ssol-stack", "xol", "4"} {
		assert.Contains(t, texts, want)
	}
	var direct bytes.Buffer
	require.NoError(t, plot.Render(&direct, sum, plot.SVG, plot.Size{}))
	assert.Equal(t, direct.Bytes(), svg, "the command draws what the library draws")
	res = cli(t, "plot", results, "--out", svgPath, "--where", "args[2]=0")
	require.Equal(t, 0, res.status)
	assert.True(t, bytes.Equal(svg, readFile(t, svgPath)), "SVG differs between two plots of the same results")

	// The duty cycle along x, a column of panels per vCPU count.
	facets := filepath.Join(dir, "facets.png")
	res = cli(t, "plot", results, "--out", facets, "--x", "args[2]", "--facet", "cpus", "--width", "800")
	require.Equal(t, 0, res.status, "stderr: %s", res.stderr)
	fh, err := os.Open(facets)
	require.NoError(t, err)
	defer fh.Close()
	img, err := png.Decode(fh)
	require.NoError(t, err)
	assert.Equal(t, [2]int{800, 800}, [2]int{img.Bounds().Dx(), img.Bounds().Dy()}, "two rows of panels: 480 + 320 px")
	colours := map[uint32]bool{}
	for y := 0; y < 800; y += 2 {
		for x := 0; x < 800; x += 2 {
			r, g, b, _ := img.At(x, y).RGBA()
			colours[r>>8<<16|g>>8<<8|b>>8] = true
		}
	}
	assert.Greater(t, len(colours), 20, "the PNG is not blank")
	res = cli(t, "plot", results, "--out", filepath.Join(dir, "f.svg"), "--x", "args[2]", "--facet", "cpus")
	require.Equal(t, 0, res.status, "stderr: %s", res.stderr)
	texts = svgTexts(t, readFile(t, filepath.Join(dir, "f.svg")))
	for _, want := range []string{"vCPUs = 1", "vCPUs = 2", "vCPUs = 4", "args[2]", "0", "2000"} {
		assert.Contains(t, texts, want)
	}
}

// Every bad input ends with one line naming the file or flag, status 125,
// and no figure.
func TestPlotBadInputs(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.csv")
	require.NoError(t, sweep.WriteFile(good, []sweep.Row{fileRow(sweep.Row{Program: "p", Strategy: "inline", CPUs: 2, Seed: 1, Executions: 10, Hits: 10})}))
	headerOnly := filepath.Join(dir, "header.csv")
	require.NoError(t, sweep.WriteFile(headerOnly, nil))
	emptyFile := writeFile(t, dir, "empty.csv", nil, 0o644)
	emptyJSON := writeFile(t, dir, "empty.json", []byte("[]\n"), 0o644)
	missingColumns := writeFile(t, dir, "columns.json", []byte(`[{"program": "p", "cpus": 2, "executions": 10}]`), 0o644)
	otherCSV := writeFile(t, dir, "other.csv", []byte("strategy,cpus,miss_rate\ninline,2,0.5\n"), 0o644)
	noExec := filepath.Join(dir, "noexec.json")
	require.NoError(t, sweep.WriteFile(noExec, []sweep.Row{fileRow(sweep.Row{Program: "p", Strategy: "inline", CPUs: 2})}))
	dup := filepath.Join(dir, "dup.csv")
	require.NoError(t, sweep.WriteFile(dup, []sweep.Row{
		fileRow(sweep.Row{Program: "p", Strategy: "inline", CPUs: 2, Seed: 1, Executions: 10}),
		fileRow(sweep.Row{Program: "p", Strategy: "inline", CPUs: 2, Seed: 1, Executions: 10}),
	}))
	textFile := writeFile(t, dir, "results.txt", []byte("x"), 0o644)
	out := filepath.Join(dir, "fig.svg")

	cases := []struct {
		name string
		args []string
		msg  string
	}{
		{"missing file", []string{filepath.Join(dir, "missing.csv"), "--out", out}, "missing.csv: no such file or directory"},
		{"empty file", []string{emptyFile, "--out", out}, emptyFile + ": empty file"},
		{"header only", []string{headerOnly, "--out", out}, headerOnly + ": no rows to plot"},
		{"empty JSON", []string{emptyJSON, "--out", out}, emptyJSON + ": no rows to plot"},
		{"missing columns", []string{missingColumns, "--out", out}, missingColumns + `: row 1: no "index"`},
		{"other CSV", []string{otherCSV, "--out", out}, otherCSV + ": header is not probesim's sweep header"},
		{"no executions", []string{noExec, "--out", out}, noExec + ": no row has a probe execution"},
		{"duplicate", []string{dup, "--out", out}, dup + ": row 2: repeats row 1 (strategy inline, cpus 2, seed 1): merge shards with probesim merge, do not concatenate them"},
		{"results extension", []string{textFile, "--out", out}, textFile + ": want a .csv or .json file"},
		{"out extension", []string{good, "--out", filepath.Join(dir, "fig.pdf")}, "--out " + filepath.Join(dir, "fig.pdf") + ": want a .svg or .png file"},
		{"no out", []string{good}, "--out: required"},
		{"out directory missing", []string{good, "--out", filepath.Join(dir, "no", "fig.svg")}, filepath.Join(dir, "no", "fig.svg") + ": no such file or directory"},
		{"width", []string{good, "--out", out, "--width", "20"}, "--width 20 px: want 500 to 8000"},
		{"height", []string{good, "--out", out, "--height", "90000"}, "--height 90000 px: want 250 to 8000"},
		{"width not a number", []string{good, "--out", out, "--width", "wide"}, "--width"},
		{"bad axis", []string{good, "--out", out, "--x", "args[x]"}, `--x: "args[x]" is not an axis`},
		{"missing param", []string{good, "--out", out, "--x", "colour"}, good + ": row 1 has no parameter colour (its params: none): the axes are cpus, quantum, stack_limit, max_cycles, profile, probe, args[N] and param.NAME"},
		{"bad scale", []string{good, "--out", out, "--x-scale", "cubic"}, `--x-scale: "cubic" is not a scale: want auto, linear, log2 or category`},
		{"bad metric", []string{good, "--out", out, "--metric", "joy"}, "--metric joy: want one of miss_rate"},
		{"no results", []string{"--out", out}, "plot: missing RESULTS (see 'probesim plot --help')"},
		{"two results", []string{good, good, "--out", out}, "plot: want RESULTS, got 2 arguments: "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := cli(t, append([]string{"plot"}, c.args...)...)
			assert.Equal(t, exitUsage, res.status)
			lines := outputLines(res.stderr)
			require.Len(t, lines, 1, "stderr: %s", res.stderr)
			assert.True(t, strings.HasPrefix(lines[0], "probesim: "), lines[0])
			assert.Contains(t, lines[0], c.msg)
			assert.Empty(t, res.stdout)
			assert.NoFileExists(t, out)
		})
	}
}

func TestPlotHelp(t *testing.T) {
	res := cli(t, "plot", "--help")
	require.Equal(t, 0, res.status)
	for _, want := range []string{"probesim plot results.csv --out missrate.svg", "--out FILE", "--width PIXELS", "--x AXIS", "--facet AXIS", "--where COLUMN=VALUE", "minimum to the maximum"} {
		assert.Contains(t, string(res.stdout), want)
	}
}
