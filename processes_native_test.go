// Native comparisons of programs made of several processes (issue 11):
// the process fixtures on both arches and 1 and 4 vCPUs, #! scripts, and
// Debian's busybox sh, bash-static and sash running pipelines, subshells,
// $( ), here-docs, background jobs and external applets.
//
// One combination is left out of the native comparisons, and pinned by
// TestExecOfTheOtherABIIsENOEXEC instead: an i386 program exec'ing the
// host's /bin/sh, an x86-64 program. Linux runs it (a 32-bit process may
// exec a 64-bit one); probesim's one engine runs one mode, so the execve
// is ENOEXEC, counted as "execve:program of the other ABI".
package probesim_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim"
	"github.com/probesim/probesim/fixtures"
)

// Debian's static sash (make deps installs it), beside busybox and
// bashStatic (thirdparty_test.go).
const sash = "/bin/sash"

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
			if arch == fixtures.ArchI386 && f.RunsBinSh {
				continue // the host's /bin/sh is x86-64: see the file comment
			}
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
	// forkwait, pipefork, interp and preforked on both arches; forkexec,
	// spawn, hashbang.sh and spawn_musl on x86_64: 12, on 1 and 4 vCPUs.
	require.Equal(t, 24, ran)
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
			if arch == fixtures.ArchAMD64 {
				// A fixture execs a script that names a fixture as
				// interpreter (forkexec also execs /bin/sh: x86-64 only).
				fe, err := fixtures.Path(arch, "forkexec")
				require.NoError(t, err)
				runBoth(t, probesim.Config{Program: fe, CPUs: 2}, "")
			}
		})
	}
}

// appletDir makes a directory of symlinks to busybox named after the
// applets the shell cases call, for their PATH: the shells find external
// commands there natively and under probesim alike, and nothing depends
// on the host's own /usr/bin.
func appletDir(t *testing.T) string {
	dir := t.TempDir()
	for _, a := range []string{"cat", "diff", "echo", "head", "printf", "seq", "sleep", "sort", "tail", "tr", "uniq", "wc", "xargs", "grep", "sed", "true", "false"} {
		require.NoError(t, os.Symlink(busybox, filepath.Join(dir, a)))
	}
	return dir
}

// shellScript is run by busybox sh and bash-static as a file: external
// applets in pipelines, a function, a loop over a command's output.
const shellScript = `count() { wc -l < "$1"; }
printf '%s\n' pear apple fig banana apple > "$TMPDIR/fruit"
echo "lines: $(count "$TMPDIR/fruit")"
sort "$TMPDIR/fruit" | uniq -c | sort -rn | head -2
for w in $(sort -u "$TMPDIR/fruit" | tr a-z A-Z); do echo "word $w"; done
seq 1 50 | grep 5 | tr '\n' ' '; echo
exit 5
`

// sashScript is run by sash -f: its built-ins (leading '-'), external
// applets it forks and execs through PATH, and a pipeline, which sash
// hands to /bin/sh -c (it has no pipes of its own).
const sashScript = `-echo sash built-in echo
seq 1 3
echo external echo through PATH
echo a pipe | tr a-z A-Z
`

// TestShellsRunProcessesLikeNative runs Debian's busybox sh, bash-static
// and sash on pipelines, subshells, $( ), here-docs, background jobs with
// wait and scripts calling external busybox applets, natively and under
// probesim: the same stdout, stderr and status. PATH is a directory of
// busybox applet links (appletDir); sash's pipeline runs /bin/sh (dash,
// dynamically linked).
func TestShellsRunProcessesLikeNative(t *testing.T) {
	for _, p := range []string{busybox, bashStatic, sash} {
		_, err := os.Stat(p)
		require.NoError(t, err, "install busybox-static, bash-static and sash: make deps")
	}
	bin := appletDir(t)
	scripts := t.TempDir()
	for name, body := range map[string]string{"script.sh": shellScript, "script.sash": sashScript} {
		require.NoError(t, os.WriteFile(filepath.Join(scripts, name), []byte(body), 0o644))
	}
	// The scripts write under $TMPDIR: natively into one directory, under
	// probesim into another (its writes go to the overlay).
	nativeTmp, guestTmp := t.TempDir(), t.TempDir()
	env := func(tmp string) []string {
		return []string{"PATH=" + bin, "LANG=C", "LC_ALL=C", "HOME=" + scripts, "TMPDIR=" + tmp}
	}
	sh := func(script string) []string { return []string{"sh", "-c", script} }
	bash := func(script string) []string { return []string{"-c", script} }
	cases := []struct {
		name  string
		prog  string
		args  []string
		stdin string
	}{
		{"sh pipeline", busybox, sh(`seq 1 20000 | sort -rn | head -3`), ""},
		{"sh pipeline status", busybox, sh(`false | true; echo "last $?"; set -o pipefail; true | false | true; echo "pipefail $?"`), ""},
		{"sh subshell", busybox, sh(`x=outer; (x=inner; echo "in $x"; exit 3); echo "status $? x $x"; (cd / && pwd); pwd >/dev/null`), ""},
		{"sh command substitution", busybox, sh(`n=$(seq 1 10 | wc -l); echo "n=$n nested=$(echo $(echo deep) | tr a-z A-Z) backquote=` + "`echo bq`" + `"`), ""},
		{"sh here-doc", busybox, sh("cat <<EOF | tr a-z A-Z\nhello $((6 * 7))\nline two\nEOF\ncat <<'RAW'\nnot $expanded\nRAW"), ""},
		{"sh background and wait", busybox, sh(`(exit 7) & p=$!; (sleep 0; exit 2) & wait $p; echo "first $?"; wait; echo "all done"; echo bg & wait`), ""},
		{"sh xargs execs", busybox, sh(`seq 1 7 | xargs -n 3 echo row`), ""},
		{"sh script with applets", busybox, []string{"sh", filepath.Join(scripts, "script.sh")}, ""},
		{"sh reads stdin through a pipeline", busybox, sh(`sort | uniq -c`), "b\na\nb\nc\n"},
		{"bash pipeline PIPESTATUS", bashStatic, bash(`seq 1 100 | grep 7 | wc -l; (exit 3) | (exit 4); echo "${PIPESTATUS[@]}"`), ""},
		{"bash process substitution", bashStatic, bash(`while read -r l; do echo "got $l"; done < <(seq 3); diff <(echo a) <(echo a) >/dev/null 2>&1; echo "diff $?"`), ""},
		{"bash here-string and $( )", bashStatic, bash(`tr a-z A-Z <<< "$(echo here string)"; a=( $(seq 4 6) ); echo "${#a[@]} ${a[*]}"`), ""},
		// $! of each job, not $(jobs -p): whether a job has already been
		// reaped when jobs runs is a race natively (sum 0, 3 or 5 from
		// run to run); wait PID gives a reaped job's status all the same.
		{"bash jobs", bashStatic, bash(`p=(); for i in 1 2 3; do (exit $i) & p+=($!); done; s=0; for j in "${p[@]}"; do wait $j; s=$((s + $?)); done; echo "sum $s"`), ""},
		{"bash exec replaces the shell", bashStatic, bash(`echo before; exec seq 2; echo never`), ""},
		{"bash script with applets", bashStatic, []string{filepath.Join(scripts, "script.sh")}, ""},
		{"sash built-in", sash, []string{"-c", "-echo no fork here"}, ""},
		{"sash external", sash, []string{"-c", "seq 1 4"}, ""},
		{"sash pipeline through /bin/sh", sash, []string{"-c", "seq 1 5 | sort -rn | head -2"}, ""},
		{"sash script", sash, []string{"-f", filepath.Join(scripts, "script.sash")}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, status, err := fixtures.RunNative(c.prog, c.args, env(nativeTmp), []byte(c.stdin))
			require.NoError(t, err)
			require.NotEmpty(t, stdout, "native run printed nothing (stderr %q)", stderr)
			cfg := probesim.Config{Program: c.prog, Args: c.args, Env: env(guestTmp), Seed: 1, CPUs: 2}
			if c.stdin != "" {
				cfg.Stdin = strings.NewReader(c.stdin)
			}
			res, err := probesim.Run(t.Context(), cfg)
			require.NoError(t, err)
			rep := res.Report
			assert.Equal(t, status, rep.ExitStatus, "status (stderr %q)", rep.Stderr)
			assert.Equal(t, string(stdout), rep.Stdout, "stdout")
			assert.Equal(t, string(stderr), rep.Stderr, "stderr")
			assert.Empty(t, rep.UnsupportedSyscalls, "syscalls answered ENOSYS")
		})
	}
	entries, err := os.ReadDir(guestTmp)
	require.NoError(t, err)
	assert.Empty(t, entries, "the guest's writes stay in the overlay")
}

// TestExecOfTheOtherABIIsENOEXEC pins the deviation the file comment
// names: an i386 guest exec'ing an x86-64 program gets ENOEXEC (Linux
// would run it), counted by name, and the guest goes on as a failed execve
// lets it.
func TestExecOfTheOtherABIIsENOEXEC(t *testing.T) {
	path, err := fixtures.Path(fixtures.ArchI386, "spawn")
	require.NoError(t, err, "make fixtures")
	res, err := probesim.Run(t.Context(), probesim.Config{Program: path, Seed: 1})
	require.NoError(t, err)
	assert.Positive(t, res.Report.UnsupportedSyscalls["execve:program of the other ABI"], "%v", res.Report.UnsupportedSyscalls)
}
