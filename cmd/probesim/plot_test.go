package main

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim"
	"github.com/probesim/probesim/fixtures"
	"github.com/probesim/probesim/plot"
	"github.com/probesim/probesim/report"
	"github.com/probesim/probesim/sweep"
)

// threadsRows runs the threaded fixture (4 threads, 50 iterations, probe
// "probed") through the library for every vCPU count, strategy and seed,
// and records the runs as sweep rows, as a sweep would.
func threadsRows(t *testing.T, cpus []int, seeds []uint64) []sweep.Row {
	t.Helper()
	program := fixturePath(t, fixtures.ArchAMD64, "threads")
	var rows []sweep.Row
	for _, strategy := range probesim.Strategies {
		for _, n := range cpus {
			for _, seed := range seeds {
				cfg := probesim.Config{Program: program, Args: []string{"4", "50"}, CPUs: n, Seed: seed,
					Probes: []string{"probed"}, Strategy: strategy}
				res, err := probesim.Run(t.Context(), cfg)
				require.NoError(t, err, "%s on %d vCPUs, seed %d", strategy, n, seed)
				require.Equal(t, 0, res.Report.ExitStatus)
				rows = append(rows, rowOf(cfg, res.Report))
			}
		}
	}
	return rows
}

// rowOf is a run's sweep row: its configuration, then its probe's counts.
func rowOf(cfg probesim.Config, rep *report.Run) sweep.Row {
	pr := rep.Probes[0]
	r := sweep.Row{
		Program: cfg.Program, Args: cfg.Args, Env: []string{}, Probes: cfg.Probes, Strategy: string(cfg.Strategy),
		Configs: 1, Sweep: "0123456789abcdef",
		CPUs: cfg.CPUs, Seed: cfg.Seed, Profile: rep.Profile, Params: []string{},
		Probe: pr.Spec, ProbeAddress: pr.Address, ProbeInstruction: pr.Instruction,
		Executions: pr.Executions, Hits: pr.Hits, Misses: pr.Misses, OverheadCycles: pr.OverheadCycles.Total,
		StopReason: rep.StopReason, ExitStatus: rep.ExitStatus, Cycles: rep.Cycles, Instructions: rep.Instructions,
	}
	r.SetRates()
	return r
}

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

// TestPlotThreadsSweep plots real runs of the threaded fixture: inline
// misses grow with vCPUs while ssol-stack never misses, and `probesim
// plot` draws them to SVG and PNG, the same bytes every time.
func TestPlotThreadsSweep(t *testing.T) {
	rows := threadsRows(t, []int{1, 2, 4}, []uint64{1, 2})
	dir := t.TempDir()
	results := filepath.Join(dir, "results.json")
	require.NoError(t, sweep.WriteFile(results, rows))

	// What the figure shows.
	sum, err := plot.Summarize(rows)
	require.NoError(t, err)
	require.Len(t, sum.Series, 3)
	assert.Equal(t, []int{1, 2, 4}, sum.CPUs)
	inline, ssol, xol := sum.Series[0], sum.Series[1], sum.Series[2]
	require.Equal(t, "inline", inline.Strategy)
	require.Equal(t, "ssol-stack", ssol.Strategy)
	require.Equal(t, "xol", xol.Strategy)
	require.Len(t, inline.MissRate, 3)
	require.Len(t, ssol.MissRate, 3)
	assert.Equal(t, plot.Point{CPUs: 1, Seeds: 2}, inline.MissRate[0], "one vCPU cannot miss")
	assert.Greater(t, inline.MissRate[2].Min, 0.0, "inline misses on 4 vCPUs")
	assert.GreaterOrEqual(t, inline.MissRate[2].Mean, inline.MissRate[1].Mean, "inline misses grow with vCPUs")
	for _, p := range append(ssol.MissRate, xol.MissRate...) {
		assert.Equal(t, plot.Point{CPUs: p.CPUs, Seeds: 2}, p, "out-of-line stepping never misses")
	}

	svgPath := filepath.Join(dir, "fig.svg")
	res := cli(t, "plot", results, "--out", svgPath)
	require.Equal(t, 0, res.status, "stderr: %s", res.stderr)
	assert.Empty(t, res.stderr)
	assert.Empty(t, res.stdout)
	svg, err := os.ReadFile(svgPath)
	require.NoError(t, err)
	texts := svgTexts(t, svg)
	for _, want := range []string{"threads 4 50 \u00b7 probe probed; profile " + rows[0].Profile, "vCPUs", "miss rate (%)", "cycles per hit", "inline", "ssol-stack", "4"} {
		assert.Contains(t, texts, want)
	}
	var direct bytes.Buffer
	require.NoError(t, plot.Render(&direct, sum, plot.SVG, plot.Size{}))
	assert.True(t, bytes.Equal(direct.Bytes(), svg), "the command draws what the library draws")

	// The same results, again, from CSV: the same bytes.
	csvResults := filepath.Join(dir, "results.csv")
	require.NoError(t, sweep.WriteFile(csvResults, rows))
	again := filepath.Join(dir, "again.svg")
	res = cli(t, "plot", csvResults, "-o", again)
	require.Equal(t, 0, res.status, "stderr: %s", res.stderr)
	svg2, err := os.ReadFile(again)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(svg, svg2), "SVG differs between two plots of the same results")

	pngPath := filepath.Join(dir, "fig.png")
	res = cli(t, "plot", results, "--out", pngPath, "--width", "700", "--height", "320")
	require.Equal(t, 0, res.status, "stderr: %s", res.stderr)
	fh, err := os.Open(pngPath)
	require.NoError(t, err)
	defer fh.Close()
	img, err := png.Decode(fh)
	require.NoError(t, err)
	assert.Equal(t, [2]int{700, 320}, [2]int{img.Bounds().Dx(), img.Bounds().Dy()})
	colours := map[uint32]bool{}
	for y := 0; y < 320; y += 2 {
		for x := 0; x < 700; x += 2 {
			r, g, b, _ := img.At(x, y).RGBA()
			colours[r>>8<<16|g>>8<<8|b>>8] = true
		}
	}
	assert.Greater(t, len(colours), 20, "the PNG is not blank")
}

// A results file of several settings plots the first with a warning that
// lists them; --group picks another.
func TestPlotGroups(t *testing.T) {
	dir := t.TempDir()
	mk := func(args string, strategy string, cpus int, misses uint64) sweep.Row {
		return fileRow(sweep.Row{Program: "fixtures/bin/x86_64/threads", Args: strings.Fields(args), Probes: []string{"probed"},
			Strategy: strategy, CPUs: cpus, Seed: 1, Executions: 100, Hits: 100 - misses, Misses: misses})
	}
	results := filepath.Join(dir, "mixed.csv")
	require.NoError(t, sweep.WriteFile(results, []sweep.Row{
		mk("4 50", "inline", 1, 0), mk("4 500", "inline", 1, 0), mk("4 50", "inline", 4, 30), mk("4 500", "inline", 4, 60),
	}))

	first := filepath.Join(dir, "first.svg")
	res := cli(t, "plot", results, "--out", first)
	require.Equal(t, 0, res.status, "stderr: %s", res.stderr)
	assert.Equal(t, "probesim plot: warning: "+results+" holds 2 settings; plotting the first (choose one with --group N):\n"+
		"  1: fixtures/bin/x86_64/threads 4 50; probes probed; quantum 10000; profile skylake (2 rows)\n"+
		"  2: fixtures/bin/x86_64/threads 4 500; probes probed; quantum 10000; profile skylake (2 rows)\n", string(res.stderr))
	svg, err := os.ReadFile(first)
	require.NoError(t, err)
	assert.Contains(t, svgTexts(t, svg), "threads 4 50 \u00b7 probe probed; quantum 10000; profile skylake")

	second := filepath.Join(dir, "second.svg")
	res = cli(t, "plot", results, "--group", "2", "--out", second)
	require.Equal(t, 0, res.status, "stderr: %s", res.stderr)
	assert.Empty(t, res.stderr, "an explicit --group needs no warning")
	svg, err = os.ReadFile(second)
	require.NoError(t, err)
	assert.Contains(t, svgTexts(t, svg), "threads 4 500 \u00b7 probe probed; quantum 10000; profile skylake")
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
		{"duplicate", []string{dup, "--out", out}, dup + ": row 2: repeats row 1 (strategy inline, 2 vCPUs, seed 1)"},
		{"results extension", []string{textFile, "--out", out}, textFile + ": want a .csv or .json file"},
		{"out extension", []string{good, "--out", filepath.Join(dir, "fig.pdf")}, "--out " + filepath.Join(dir, "fig.pdf") + ": want a .svg or .png file"},
		{"no out", []string{good}, "--out: required"},
		{"out directory missing", []string{good, "--out", filepath.Join(dir, "no", "fig.svg")}, filepath.Join(dir, "no", "fig.svg") + ": no such file or directory"},
		{"width", []string{good, "--out", out, "--width", "20"}, "--width 20 px: want 500 to 8000"},
		{"height", []string{good, "--out", out, "--height", "90000"}, "--height 90000 px: want 250 to 8000"},
		{"width not a number", []string{good, "--out", out, "--width", "wide"}, "--width"},
		{"group", []string{good, "--out", out, "--group", "3"}, "--group 3: " + good + " holds 1 settings"},
		{"negative group", []string{good, "--out", out, "--group", "-1"}, "--group -1: want 1 or more"},
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
	for _, want := range []string{"probesim plot results.csv --out missrate.svg", "--out FILE", "--width PIXELS", "--group N", "minimum to the maximum"} {
		assert.Contains(t, string(res.stdout), want)
	}
}
