package main

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/fixtures"
)

// ELF e_machine values (include/uapi/linux/elf-em.h) and the field's offset,
// the same in ELFCLASS32 and ELFCLASS64 headers.
const (
	emARM          = 40
	emAARCH64      = 183
	eMachineOffset = 18
)

// writeFile writes data to a new file in dir with mode perm.
func writeFile(t *testing.T, dir, name string, data []byte, perm os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, data, perm))
	return p
}

// withMachine returns a copy of the fixture with e_machine replaced.
func withMachine(t *testing.T, arch, fixture string, machine uint16) []byte {
	t.Helper()
	data, err := os.ReadFile(fixturePath(t, arch, fixture))
	require.NoError(t, err)
	binary.LittleEndian.PutUint16(data[eMachineOffset:], machine)
	return data
}

// TestBadInputs checks that every way a command line can be wrong ends with
// one clear line on stderr and the status env(1) would give.
func TestBadInputs(t *testing.T) {
	dir := t.TempDir()
	stdio, err := os.ReadFile(fixturePath(t, fixtures.ArchAMD64, "stdio"))
	require.NoError(t, err)
	require.Greater(t, len(stdio), 2000)
	exit42 := fixturePath(t, fixtures.ArchAMD64, "exit42")
	exit42Data, err := os.ReadFile(exit42)
	require.NoError(t, err)

	text := writeFile(t, dir, "text", []byte("echo not an ELF and no #! line\n"), 0o755)
	badScript := writeFile(t, dir, "badscript", []byte("#!/nonexistent/interpreter -x\necho never\n"), 0o755)
	empty := writeFile(t, dir, "empty", nil, 0o755)
	trunc100 := writeFile(t, dir, "trunc100", stdio[:100], 0o755)
	trunc2000 := writeFile(t, dir, "trunc2000", stdio[:2000], 0o755)
	aarch64 := writeFile(t, dir, "aarch64", withMachine(t, fixtures.ArchAMD64, "exit42", emAARCH64), 0o755)
	arm := writeFile(t, dir, "arm", withMachine(t, fixtures.ArchI386, "exit42", emARM), 0o755)
	noExec := writeFile(t, dir, "noexec", exit42Data, 0o644)
	subdir := filepath.Join(dir, "subdir")
	require.NoError(t, os.Mkdir(subdir, 0o755))
	dynamic := compileC(t, "dynamic.c", fixtures.ArchAMD64, true)

	// A view without the dynamic loader, and one where it is not ELF.
	noLoader := t.TempDir()
	badLoader := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(badLoader, "lib64"), 0o755))
	writeFile(t, filepath.Join(badLoader, "lib64"), "ld-linux-x86-64.so.2", []byte("#!/bin/sh\n"), 0o755)
	const interp = "interpreter /lib64/ld-linux-x86-64.so.2"
	cases := []struct {
		name   string
		args   []string
		status int
		msg    []string // substrings of the message
	}{
		{"missing file", []string{"run", filepath.Join(dir, "missing")}, exitNotFound, []string{"missing", "no such file"}},
		{"empty path", []string{"run", ""}, exitNotFound, nil},
		{"text file", []string{"run", text}, exitCannotRun, []string{text, "not an ELF"}},
		// A #! script runs (its interpreter from the view, as execve): one
		// whose interpreter is missing is execve's ENOENT.
		{"script without its interpreter", []string{"run", badScript}, exitNotFound, []string{badScript, "/nonexistent/interpreter"}},
		{"empty file", []string{"run", empty}, exitCannotRun, []string{"not an ELF"}},
		{"dynamic ELF without its loader", []string{"run", "--root", noLoader, dynamic}, exitNotFound, []string{dynamic, interp, "no such file or directory in the guest's filesystem view"}},
		{"dynamic ELF with a loader that is not ELF", []string{"run", "--root", badLoader, dynamic}, exitCannotRun, []string{dynamic, interp, "not an ELF"}},
		{"truncated to 100 bytes", []string{"run", trunc100}, exitCannotRun, []string{trunc100, "corrupt ELF"}},
		{"truncated to 2000 bytes", []string{"run", trunc2000}, exitCannotRun, []string{trunc2000, "corrupt ELF"}},
		{"aarch64 ELF", []string{"run", aarch64}, exitCannotRun, []string{"EM_AARCH64"}},
		{"arm ELF", []string{"run", arm}, exitCannotRun, []string{"EM_ARM"}},
		{"directory", []string{"run", subdir}, exitCannotRun, []string{subdir}},
		// execve(2) refuses a file without execute permission (EACCES), and
		// env(1) then exits 126.
		{"not executable", []string{"run", noExec}, exitCannotRun, []string{noExec}},
		{"bad --seed", []string{"run", "--seed", "notanumber", exit42}, exitUsage, []string{"--seed", "notanumber"}},
		{"bad --max-cycles", []string{"run", "--max-cycles", "-5", exit42}, exitUsage, []string{"--max-cycles"}},
		{"bad --stack-limit", []string{"run", "--stack-limit", "12Q", exit42}, exitUsage, []string{"--stack-limit", "12Q"}},
		{"tiny --stack-limit", []string{"run", "--stack-limit", "1K", exit42}, exitUsage, []string{"--stack-limit"}},
		{"bad --memory-limit", []string{"run", "--memory-limit", "lots", exit42}, exitUsage, []string{"--memory-limit"}},
		{"zero --cpus", []string{"run", "--cpus", "0", exit42}, exitUsage, []string{"--cpus"}},
		{"too many --cpus", []string{"run", "--cpus", "65", exit42}, exitUsage, []string{"--cpus"}},
		{"bad --quantum", []string{"run", "--quantum", "soon", exit42}, exitUsage, []string{"--quantum"}},
		{"bad --env", []string{"run", "--env", "NOEQUALS", exit42}, exitUsage, []string{"--env", "NOEQUALS"}},
		{"unknown flag", []string{"run", "--frobnicate", exit42}, exitUsage, []string{"--frobnicate"}},
		{"no program", []string{"run"}, exitUsage, nil},
		{"unknown subcommand", []string{"frobnicate"}, exitUsage, []string{"frobnicate"}},
		{"unwritable report", []string{"run", "--json", "/nonexistent/dir/r.json", exit42}, exitUsage, []string{"--json", "/nonexistent/dir/r.json"}},
		{"report is a directory", []string{"run", "--json", dir, exit42}, exitUsage, []string{"--json"}},
		{"version with arguments", []string{"version", "extra"}, exitUsage, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res := cli(t, c.args...)
			assert.Equal(t, c.status, res.status, "status of %q (stderr %q)", c.args, res.stderr)
			assert.Empty(t, res.stdout)
			stderr := string(res.stderr)
			assert.NotContains(t, stderr, "goroutine")
			assert.NotContains(t, stderr, "panic:")
			lines := outputLines(res.stderr)
			require.Len(t, lines, 1, "stderr %q", stderr)
			assert.True(t, strings.HasPrefix(lines[0], "probesim: "), "stderr %q", stderr)
			assert.True(t, strings.HasSuffix(stderr, "\n"), "stderr %q", stderr)
			for _, m := range c.msg {
				assert.Contains(t, lines[0], m)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	res := cli(t, "version")
	require.Equal(t, 0, res.status, "stderr %q", res.stderr)
	assert.Empty(t, res.stderr)
	out := string(res.stdout)
	assert.True(t, strings.HasPrefix(out, "probesim "), "stdout %q", out)
	assert.Contains(t, out, "probesim.run/v2")
	assert.Len(t, outputLines(res.stdout), 1)
}

func TestHelp(t *testing.T) {
	res := cli(t, "run", "--help")
	require.Equal(t, 0, res.status, "stderr %q", res.stderr)
	out := string(res.stdout)
	assert.Contains(t, out, "Examples:")
	assert.Contains(t, out, "probesim run --json report.json --seed 7 fixtures/bin/i386/qsort")
	for _, flag := range []string{"--json", "--seed", "--max-cycles", "--stack-limit", "--memory-limit", "--trace-syscalls", "--env", "--inherit-env"} {
		assert.Contains(t, out, flag)
	}
	// The exit statuses are documented where users look for them.
	assert.Contains(t, out, "125")
	assert.Contains(t, out, "126")
	assert.Contains(t, out, "127")

	res = cli(t, "--help")
	require.Equal(t, 0, res.status)
	assert.Contains(t, string(res.stdout), "run")
	assert.Contains(t, string(res.stdout), "version")
}

// TestTraceSyscalls checks the strace-like trace goes to stderr and leaves
// the guest's stdout alone.
func TestTraceSyscalls(t *testing.T) {
	for _, arch := range arches {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			path := fixturePath(t, arch, "hello_asm")
			nat := native(t, path, nil, nil)
			res := cli(t, "run", "--trace-syscalls", path)
			require.Equal(t, 0, res.status, "stderr %q", res.stderr)
			assert.Equal(t, "hello from asm\n", string(res.stdout))
			assert.Equal(t, string(nat.stdout), string(res.stdout))

			lines := outputLines(res.stderr)
			require.Len(t, lines, 2, "stderr %q", res.stderr)
			assert.Contains(t, lines[0], "write(")
			assert.True(t, strings.HasSuffix(lines[0], " = 15"), "write returns its length: %q", lines[0])
			assert.Contains(t, lines[1], "exit_group(")

			// Without the flag there is no trace.
			res = cli(t, "run", path)
			assert.Empty(t, res.stderr)
		})
	}
}

// TestCobraErrorsAreOneFriendlyLine: every error cobra and pflag would
// word themselves is one line with one "probesim: " prefix, naming the
// command and what it wants.
func TestCobraErrorsAreOneFriendlyLine(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"runn"}, `probesim: unknown command "runn" (did you mean "run"?): the commands are calibrate, check, completion, demo, merge, plot, run, sweep, timeline, version (see 'probesim --help')`},
		{[]string{"run"}, "probesim: run: missing PROGRAM (see 'probesim run --help')"},
		{[]string{"run", "--seed", "-1", "x"}, `probesim: run: invalid argument "-1" for --seed: want a non-negative integer (see 'probesim run --help')`},
		{[]string{"run", "--cpus", "two", "x"}, `probesim: run: invalid argument "two" for --cpus: want an integer (see 'probesim run --help')`},
		{[]string{"run", "--lockstep=maybe", "x"}, `probesim: run: invalid argument "maybe" for --lockstep: want true or false (see 'probesim run --help')`},
		{[]string{"run", "--frobnicate", "x"}, "probesim: run: unknown flag: --frobnicate (see 'probesim run --help')"},
		{[]string{"--frobnicate"}, "probesim: unknown flag: --frobnicate (see 'probesim --help')"},
		{[]string{"plot", "a.csv", "b.csv"}, "probesim: plot: want RESULTS, got 2 arguments: a.csv b.csv (see 'probesim plot --help')"},
		{[]string{"sweep", "s.yaml"}, "probesim: sweep: --out is required (see 'probesim sweep --help')"},
		{[]string{"version", "now"}, "probesim: version: takes no arguments, got now (see 'probesim version --help')"},
		{[]string{"calibrate", "x"}, "probesim: calibrate: takes no arguments, got x (see 'probesim calibrate --help')"},
	} {
		res := cli(t, tc.args...)
		assert.Equal(t, exitUsage, res.status, "%q", tc.args)
		assert.Equal(t, tc.want+"\n", string(res.stderr), "%q", tc.args)
		assert.Empty(t, res.stdout)
	}
}

// TestRunTakesBuiltinProfiles: --profile skylake is the built-in profile,
// as in a sweep; an unknown name says what it looked for.
func TestRunTakesBuiltinProfiles(t *testing.T) {
	exit42 := fixturePath(t, fixtures.ArchAMD64, "exit42")
	_, named, _, _ := runReport(t, []string{"--profile", "skylake"}, exit42)
	_, plain, _, _ := runReport(t, nil, exit42)
	named.Host, plain.Host = nil, nil
	assert.Equal(t, plain, named)
	res := cli(t, "run", "--profile", "nosuch", exit42)
	assert.Equal(t, exitUsage, res.status)
	assert.Equal(t, "probesim: --profile: nosuch: neither a built-in profile (skylake) nor a file\n", string(res.stderr))
}

// TestCompletion: the scripts are generated, and the values of
// --strategy and --profile complete.
func TestCompletion(t *testing.T) {
	res := cli(t, "completion", "bash")
	require.Equal(t, 0, res.status, "stderr %s", res.stderr)
	assert.Contains(t, string(res.stdout), "__start_probesim")
	res = cli(t, "__complete", "run", "--strategy", "")
	require.Equal(t, 0, res.status)
	assert.Equal(t, "inline\nssol-stack\nxol\nssol-stack-2005\nssol-stack-2006\n:4\n", string(res.stdout))
	res = cli(t, "__complete", "run", "--profile", "")
	assert.Equal(t, "skylake\njson\n:8\n", string(res.stdout))
	res = cli(t, "__complete", "sweep", "")
	assert.Equal(t, "yaml\nyml\n:8\n", string(res.stdout))
}

// TestManPages: make install's pages cover every command, say what its
// help says, and are the same bytes each time.
func TestManPages(t *testing.T) {
	dir := t.TempDir()
	res := cli(t, "man", dir)
	require.Equal(t, 0, res.status, "stderr %s", res.stderr)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{"probesim-calibrate.1", "probesim-check.1", "probesim-completion.1", "probesim-demo.1", "probesim-merge.1",
		"probesim-plot.1", "probesim-run.1", "probesim-sweep.1", "probesim-timeline.1", "probesim-version.1", "probesim.1"}, names)
	run := string(readFile(t, filepath.Join(dir, "probesim-run.1")))
	assert.True(t, strings.HasPrefix(run, ".TH PROBESIM-RUN 1 "), run[:40])
	for _, s := range []string{".SH SYNOPSIS\n.B probesim run [flags] PROGRAM [ARGS...]", ".SH OPTIONS", `.B \-\-strategy string`, ".SH EXAMPLES", "126 when PROGRAM cannot be run"} {
		assert.Contains(t, run, s)
	}
	again := t.TempDir()
	cli(t, "man", again)
	assert.Equal(t, run, string(readFile(t, filepath.Join(again, "probesim-run.1"))))
	if _, err := exec.LookPath("man"); err == nil {
		out, err := exec.Command("man", "-l", "-Tutf8", filepath.Join(dir, "probesim-run.1")).CombinedOutput()
		require.NoError(t, err, "%s", out)
		assert.Contains(t, string(out), "PROBESIM-RUN(1)")
	}
}
