package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/fixtures"
	"github.com/probesim/probesim/internal/chromiumtest"
)

// demoParts are pieces every demo prints, whatever the numbers.
var demoParts = []string{
	"probesim demo: the uprobe miss window on SMP\n",
	"\n         strategy    executions   hits         misses  cycles/hit  run cycles  ✓\n",
	"\n1 vCPU   inline           4,000  4,000       0 (0.0%)",
	"\n         ssol-stack       4,000  4,000       0 (0.0%)",
	"\n         xol              4,000  4,000       0 (0.0%)",
	"\n4 vCPUs  inline           4,000",
	"One real miss: inline on 4 vCPUs, cycles ",
	"\ncpu0    ", "\ncpu1    ", "\ncpu2    ", "\ncpu3    ",
	"): ran probed() without a trap\n",
	"): original byte put back\n",
	": int3 written again",
	"What happened\n",
	"Why ssol-stack does not miss",
	"Why xol does not miss",
}

func TestDemoCommand(t *testing.T) {
	t.Parallel()
	page := filepath.Join(t.TempDir(), "demo.html")
	res := cli(t, "demo", "--no-color", "--html", page)
	require.Equal(t, 0, res.status, "stderr: %s", res.stderr)
	require.Empty(t, res.stderr)
	out := string(res.stdout)
	require.NotContains(t, out, "\x1b", "--no-color")
	for _, p := range demoParts {
		require.Contains(t, out, p)
	}
	require.True(t, strings.HasSuffix(out, "\nWrote "+page+".\n"), "ends with %q", out[max(0, len(out)-200):])
	require.NotContains(t, out, os.TempDir()+"/probesim-demo-", "the workload's temporary path leaked")
	html, err := os.ReadFile(page)
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(html, []byte("<!DOCTYPE html>\n")))
	require.Contains(t, string(html), `<svg id="timeline"`)

	// Deterministic, and plain when standard output is not a terminal.
	again := cli(t, "demo")
	require.Equal(t, 0, again.status, "stderr: %s", again.stderr)
	require.Equal(t, strings.TrimSuffix(out, "Wrote "+page+".\n"), string(again.stdout))
}

// On a terminal the demo is in colour unless --no-color or NO_COLOR says
// otherwise. script(1) gives it a terminal.
func TestDemoColor(t *testing.T) {
	t.Parallel()
	script, err := exec.LookPath("script")
	require.NoError(t, err, "script(1) gives the demo a terminal: it is in util-linux's bsdutils")
	for _, tc := range []struct {
		name, command string
		color         bool
	}{
		{"terminal", probesimBin + " demo", true},
		{"no-color flag", probesimBin + " demo --no-color", false},
		{"NO_COLOR", "NO_COLOR=1 " + probesimBin + " demo", false},
		{"empty NO_COLOR", "NO_COLOR= " + probesimBin + " demo", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := execute(t, "", runTimeout, script, "-q", "-e", "-c", tc.command, "/dev/null")
			require.Equal(t, 0, res.status, "stderr: %s", res.stderr)
			out := strings.ReplaceAll(string(res.stdout), "\r\n", "\n")
			require.Contains(t, out, "What happened")
			if tc.color {
				require.Contains(t, out, "\x1b[1;31mX\x1b[0m", "the followed miss in bold red")
				require.Contains(t, out, "\x1b[1mprobesim demo: the uprobe miss window on SMP\x1b[0m")
			} else {
				require.NotContains(t, out, "\x1b")
			}
		})
	}
}

func TestDemoUsageErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"demo", "extra"}, "probesim: demo: a PROGRAM needs --probe SPEC (what to probe in it) (see 'probesim demo --help')"},
		{[]string{"demo", "--probe", "probed"}, "probesim: demo: --probe needs a PROGRAM to probe (the built-in workload has its own probe) (see 'probesim demo --help')"},
		{[]string{"demo", "--cpus", "0"}, "probesim: --cpus 0: want 1 to 64"},
		{[]string{"demo", "--cpus", "two"}, `probesim: demo: invalid argument "two" for --cpus: want comma-separated integers (see 'probesim demo --help')`},
		{[]string{"demo", "--strategies", "inline,inline"}, "probesim: --strategies inline: listed twice"},
		{[]string{"demo", "--strategies", "emulate"}, `probesim: --strategies: unknown strategy "emulate" (have: inline, ssol-stack, xol, ssol-stack-2005, ssol-stack-2006)`},
		{[]string{"demo", "--bogus"}, "probesim: demo: unknown flag: --bogus (see 'probesim demo --help')"},
		{[]string{"demo", "--html"}, "probesim: demo: flag needs an argument: --html (see 'probesim demo --help')"},
		{[]string{"demo", "--html", "/nonexistent/dir/demo.html"}, "probesim: --html: open /nonexistent/dir/demo.html: no such file or directory"},
	} {
		res := cli(t, tc.args...)
		require.Equal(t, exitUsage, res.status, "%q", tc.args)
		require.Empty(t, res.stdout, "%q", tc.args)
		require.Equal(t, tc.want, strings.TrimSpace(string(res.stderr)), "%q", tc.args)
	}
}

func TestDemoHelp(t *testing.T) {
	t.Parallel()
	res := cli(t, "demo", "--help")
	require.Equal(t, 0, res.status)
	for _, want := range []string{
		"Usage:\n  probesim demo [flags] [--probe SPEC PROGRAM [ARGS...]]\n",
		"--cpus COUNTS", "--strategies STRATEGIES", "--seed SEED", "--probe SPEC",
		"  probesim demo --html demo.html",
		"--html FILE ",
		"--no-color ",
		"NO_COLOR",
	} {
		require.Contains(t, string(res.stdout), want)
	}
}

func TestUseColor(t *testing.T) {
	require.False(t, useColor(&bytes.Buffer{}, false), "not a terminal")
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	require.NoError(t, err)
	defer f.Close()
	require.False(t, useColor(f, false), "a regular file")
}

// TestDemoFlags: the vCPU counts, strategies, seed and workload are the
// demo's to choose; the page of such a demo renders in Chromium.
func TestDemoFlags(t *testing.T) {
	t.Parallel()
	page := filepath.Join(t.TempDir(), "demo.html")
	res := cli(t, "demo", "--no-color", "--cpus", "2,3", "--strategies", "xol,inline", "--seed", "4", "--html", page)
	require.Equal(t, 0, res.status, "stderr: %s", res.stderr)
	out := string(res.stdout)
	flat := strings.Join(strings.Fields(out), " ")
	require.Contains(t, flat, "Each row is one run: xol and inline on 2 vCPUs and 3 vCPUs, seed 4.")
	require.Contains(t, out, "\n2 vCPUs  xol            4,000  4,000")
	require.Contains(t, out, "\n3 vCPUs  xol ")
	require.Contains(t, out, "One real miss: inline on 3 vCPUs")
	require.Contains(t, out, "Why xol does not miss")
	require.NotContains(t, out, "  ssol-stack ", "no ssol-stack row")
	require.NotContains(t, out, "Why ssol-stack")
	dom := string(chromiumtest.Run(t, "--window-size=1240,900", "--dump-dom", "file://"+page))
	require.Equal(t, 4, strings.Count(dom, `<tr data-strategy=`))
	require.Equal(t, 3, strings.Count(dom, `<g class="lane"`))
	require.Equal(t, 1, strings.Count(dom, `<g class="ev followed"`))
	require.Equal(t, 1, strings.Count(dom, "<title>"), "the script ran: the titles became tooltips")

	// Any program, probed anywhere.
	threads := fixturePath(t, fixtures.ArchAMD64, "threads")
	res = cli(t, "demo", "--no-color", "--cpus", "1,3", "--strategies", "inline", "--probe", "probed+6", threads, "3", "200", "500")
	require.Equal(t, 0, res.status, "stderr: %s", res.stderr)
	out = string(res.stdout)
	flat = strings.Join(strings.Fields(out), " ")
	require.Contains(t, flat, "A uprobe on probed+6 replaces")
	require.Contains(t, flat, "The workload is threads 3 200 500.")
	require.Contains(t, flat, "1 vCPU inline 600 600 0 (0.0%)")
	require.Contains(t, flat, "✓: the program exited 0.")
	res = cli(t, "demo", "--probe", "p", "/nonexistent/prog")
	require.Equal(t, exitNotFound, res.status, "a missing program is 127, as for run")
	require.Equal(t, "probesim: /nonexistent/prog: no such file or directory\n", string(res.stderr))
	res = cli(t, "demo", "--probe", "nosuch", threads)
	require.Equal(t, exitUsage, res.status)
	require.Equal(t, `probesim: --probe: probe "nosuch": no symbol "nosuch" in `+threads+"\n", string(res.stderr))
}

// TestTimelineCommand: 'probesim timeline' draws any run's event log:
// a typical miss by default, any range with --from and --to, from a file
// or standard input; its page renders in Chromium, readable at 800 px.
func TestTimelineCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	threads := fixturePath(t, fixtures.ArchAMD64, "threads")
	ev := filepath.Join(dir, "ev.jsonl")
	res := cli(t, "run", "-q", "--stdout", filepath.Join(dir, "out.txt"), "--events", ev, "--cpus", "3", "--probe", "probed", "--strategy", "inline", threads, "3", "300", "500")
	require.Equal(t, 0, res.status, "stderr: %s", res.stderr)

	page := filepath.Join(dir, "ev.html")
	res = cli(t, "timeline", ev, "--no-color", "--html", page)
	require.Equal(t, 0, res.status, "stderr: %s", res.stderr)
	out := string(res.stdout)
	require.True(t, strings.HasPrefix(out, "A typical miss of probed on 3 vCPUs, cycles "), out)
	for _, p := range []string{"\ncpu0    ", "\ncpu1    ", "\ncpu2    ", "): ran probed() without a trap\n", "Wrote " + page + ".\n"} {
		require.Contains(t, out, p)
	}
	dom := string(chromiumtest.Run(t, "--window-size=800,900", "--dump-dom", "file://"+page))
	require.Equal(t, 3, strings.Count(dom, `<g class="lane"`))
	require.Equal(t, 1, strings.Count(dom, `<g class="ev followed"`))
	require.Equal(t, 1, strings.Count(dom, "<title>"), "the script ran")
	vb := regexp.MustCompile(`<svg id="timeline"[^>]* viewBox="0 0 ([0-9.]+) `).FindStringSubmatch(dom)
	require.NotNil(t, vb)
	w, err := strconv.ParseFloat(vb[1], 64)
	require.NoError(t, err)
	require.Less(t, w, 800.0, "at 800 px one SVG unit is one pixel: the labels keep their size")

	// A range, from standard input.
	res = execute(t, dir, runTimeout, "/bin/sh", "-c", probesimBin+" timeline - --from 50000 --to 60000 < "+ev)
	require.Equal(t, 0, res.status, "stderr: %s", res.stderr)
	require.True(t, strings.HasPrefix(string(res.stdout), "Probe probed on 3 vCPUs, cycles 50,000 to 60,000\n"), string(res.stdout))
	require.NotContains(t, string(res.stdout), "X")

	notEvents := filepath.Join(dir, "r.json")
	require.NoError(t, os.WriteFile(notEvents, []byte("{\"schema\": 1}\n"), 0o644))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{ev, "--from", "9", "--to", "9"}, ev + ": --from 9 --to 9: an empty range"},
		{[]string{notEvents}, notEvents + `: line 1: not an event of probesim run --events: json: unknown field "schema"`},
		{[]string{filepath.Join(dir, "none.jsonl")}, "open " + filepath.Join(dir, "none.jsonl") + ": no such file or directory"},
		{[]string{ev, "--probe", "main"}, ev + ": --probe main: no event of that probe (the probes: probed)"},
		{nil, "timeline: missing EVENTS.jsonl (see 'probesim timeline --help')"},
	} {
		res := cli(t, append([]string{"timeline"}, tc.args...)...)
		require.Equal(t, exitUsage, res.status, "%q", tc.args)
		require.Equal(t, "probesim: "+tc.want+"\n", string(res.stderr), "%q", tc.args)
	}
}
