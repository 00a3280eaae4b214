package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// demoParts are pieces every demo prints, whatever the numbers.
var demoParts = []string{
	"probesim demo: the uprobe miss window on SMP\n",
	"                1 vCPU ",
	"                      inline    ssol-stack        inline    ssol-stack\n",
	"\nprogram output  calls=4000 ✓  calls=4000 ✓  calls=4000 ✓  calls=4000 ✓\n",
	"One real miss: inline on 4 vCPUs, cycles ",
	"\ncpu0    ", "\ncpu1    ", "\ncpu2    ", "\ncpu3    ",
	"): ran probed() without a trap\n",
	"): original byte put back\n",
	": int3 written again",
	"What happened\n",
	"Why ssol-stack does not miss",
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
		{[]string{"demo", "extra"}, "probesim: demo: takes no arguments, got extra (see 'probesim demo --help')"},
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
		"Usage:\n  probesim demo [flags]\n",
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
