//go:build probesim_processes

// Native comparisons of programs made of several processes (issue 11),
// still behind a build tag because some cases fail; run them with
//
//	go test -tags probesim_processes -run 'ProcessFixtures|ProcessScripts' .
//
// What fails, and why (everything else in them passes):
//
//   - i386 forkexec and spawn (and the scripts test's forkexec on i386):
//     they exec /bin/sh, which on the host is an x86-64 program; one
//     engine runs one mode, so execve of the other ABI is ENOEXEC
//     (counted "execve:program of the other ABI");
//
//   - the shells' "bash jobs" case is racy natively: whether the three
//     background jobs have exited, and bash has reaped them, before
//     $(jobs -p) runs decides the loop, and the host prints "sum 0",
//     "sum 3" or "sum 5" from run to run; probesim's run is deterministic
//     ("sum 3"), so the comparison passes or fails with the host's race.
//     Every other shell case passes.
//
// Every test runs the native half first and requires it to pass, so a
// failure is probesim's alone. The tests that pass are in
// processes_test.go (the shells' among them) and processes_limit_test.go.
package probesim_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim"
	"github.com/probesim/probesim/fixtures"
)

// runBoth runs prog natively and under probesim with the same argv, env
// and stdin, and checks they agree: stdout, stderr, status, and no
// syscall answered ENOSYS. It returns probesim's result.
func runBoth(t *testing.T, cfg probesim.Config, stdin string) *probesim.Result {
	t.Helper()
	var in []byte
	if stdin != "" {
		in = []byte(stdin)
	}
	stdout, stderr, status, err := fixtures.RunNative(cfg.Program, cfg.Args, cfg.Env, in)
	require.NoError(t, err)
	if stdin != "" {
		cfg.Stdin = strings.NewReader(stdin)
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	res, err := probesim.Run(t.Context(), cfg)
	require.NoError(t, err)
	rep := res.Report
	assert.Equal(t, status, rep.ExitStatus, "status (stderr %q)", rep.Stderr)
	assert.Equal(t, string(stdout), rep.Stdout, "stdout")
	assert.Equal(t, string(stderr), rep.Stderr, "stderr")
	assert.Empty(t, rep.UnsupportedSyscalls, "syscalls answered ENOSYS")
	return res
}

// TestProcessFixturesMatchNative runs every process fixture but forkbomb
// natively and under probesim, on 1 and 4 vCPUs, both arches: the same
// bytes out, the same status. The fixtures find the programs they exec
// beside their argv[0], which under probesim is the same host path.
func TestProcessFixturesMatchNative(t *testing.T) {
	ran := 0
	for _, f := range fixtures.Processes() {
		if f.NeedsProcessLimit {
			continue
		}
		for _, arch := range f.Arches {
			for _, cpus := range []int{1, 4} {
				ran++
				t.Run(fmt.Sprintf("%s/%s/cpus%d", arch, f.Name, cpus), func(t *testing.T) {
					t.Parallel()
					path, err := fixtures.Path(arch, f.Name)
					require.NoError(t, err, "make fixtures")
					_, _, status, err := fixtures.RunNative(path, f.Args, f.Env, nil)
					require.NoError(t, err)
					require.Equal(t, f.ExitStatus, status, "native status")
					runBoth(t, probesim.Config{Program: path, Args: f.Args, Env: f.Env, CPUs: cpus}, "")
				})
			}
		}
	}
	// forkwait, forkexec, pipefork, spawn, hashbang.sh, interp and
	// preforked on both arches, spawn_musl on x86_64: 15, on 1 and 4 vCPUs.
	require.Equal(t, 30, ran)
}

// TestProcessScriptsWithFixtureInterpreter runs "#!" scripts whose
// interpreter is the interp fixture, written at run time (a #! line holds
// an absolute path), as the program itself: the kernel's binfmt_script
// rules (one optional argument, the script's path after it, nesting five
// deep) hold under probesim too.
func TestProcessScriptsWithFixtureInterpreter(t *testing.T) {
	for _, arch := range []string{fixtures.ArchI386, fixtures.ArchAMD64} {
		t.Run(arch, func(t *testing.T) {
			interp, err := fixtures.Path(arch, "interp")
			require.NoError(t, err, "make fixtures")
			dir := t.TempDir()
			s1, err := fixtures.WriteScript(dir, "s1", interp, "-o an option", "print from s1\nargs\nenv WHO\nexit 3\n")
			require.NoError(t, err)
			runBoth(t, probesim.Config{Program: s1, Args: []string{"a", "b c"}, Env: []string{"WHO=me"}}, "")
			prev := s1
			for depth := 2; depth <= 5; depth++ {
				p, err := fixtures.WriteScript(dir, fmt.Sprintf("nest%d", depth), prev, "", "print unused\n")
				require.NoError(t, err)
				runBoth(t, probesim.Config{Program: p, Args: []string{"x"}}, "")
				prev = p
			}
			// A fixture execs a script that names a fixture as interpreter.
			fe, err := fixtures.Path(arch, "forkexec")
			require.NoError(t, err)
			runBoth(t, probesim.Config{Program: fe, CPUs: 2}, "")
		})
	}
}
