package probesim_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim"
	"github.com/probesim/probesim/fixtures"
)

// TestDebianDynamicProgramsMatchNative runs Debian 12's own dynamically
// linked programs (coreutils, grep, sed, mawk, findutils, python3) as
// they are, natively and under probesim: ld.so from the guest's view maps
// libc and the rest through openat, mmap and mprotect, and the output,
// errors and exit status equal native. The programs are the host's, so the
// test needs nothing built for it.
func TestDebianDynamicProgramsMatchNative(t *testing.T) {
	dir := thirdPartyTree(t)
	nativeTmp, guestTmp := t.TempDir(), t.TempDir()
	env := func(tmp string) []string {
		return []string{"PATH=/nonexistent", "LANG=C", "LC_ALL=C", "TZ=UTC", "HOME=" + dir, "TMPDIR=" + tmp}
	}
	in := func(p string) string { return filepath.Join(dir, p) }
	cases := []struct {
		name  string
		prog  string
		args  []string
		stdin string
	}{
		{"true", "/bin/true", nil, ""},
		{"false", "/bin/false", nil, ""},
		{"echo", "/bin/echo", []string{"dynamic", "linking", "works"}, ""},
		// -g -G: no owner or group (the guest runs as uid 1000, natively
		// the test is root); long-iso: no "recent file" heuristic against a
		// clock that is the simulation's.
		{"ls -l", "/bin/ls", []string{"-lgG", "--time-style=long-iso", dir}, ""},
		{"ls -laR", "/bin/ls", []string{"-laRgG", "--time-style=long-iso", in("sub")}, ""},
		{"ls missing", "/bin/ls", []string{in("missing")}, ""},
		{"cat", "/bin/cat", []string{in("fruits.txt"), in("sub/a.txt")}, ""},
		{"cat stdin", "/bin/cat", []string{"-n"}, "one\ntwo\n"},
		{"sort", "/usr/bin/sort", []string{in("fruits.txt")}, ""},
		{"sort -rn", "/usr/bin/sort", []string{"-rn", in("numbers.txt")}, ""},
		{"md5sum", "/usr/bin/md5sum", []string{in("fruits.txt"), in("big.txt")}, ""},
		{"sha256sum", "/usr/bin/sha256sum", []string{in("big.txt")}, ""},
		{"wc", "/usr/bin/wc", []string{in("fruits.txt"), in("big.txt")}, ""},
		{"grep -rn", "/bin/grep", []string{"-rn", "--", "hello", in("sub")}, ""},
		{"grep -P", "/bin/grep", []string{"-P", `^\w{4}$`, in("fruits.txt")}, ""},
		{"sed", "/bin/sed", []string{"-n", "s/a/A/gp", in("fruits.txt")}, ""},
		{"mawk", "/usr/bin/mawk", []string{"-F,", "NR > 1 {s += $2} END {print s}", in("csv/people.csv")}, ""},
		{"stat", "/usr/bin/stat", []string{"-c", "%n %s %F %a %h", in("fruits.txt"), in("sub")}, ""},
		{"date -u -d", "/bin/date", []string{"-u", "-d", "@1000000000", "+%Y-%m-%d %H:%M:%S %a"}, ""},
		{"tr", "/usr/bin/tr", []string{"a-z", "A-Z"}, "shout this\n"},
		{"od", "/usr/bin/od", []string{"-A", "x", "-t", "x1z", in("unicode/grüße.txt")}, ""},
		{"python3", "/usr/bin/python3", []string{"-c", "print(sum(range(10**6)))"}, ""},
		// dash, dynamically linked, forking and exec'ing dynamic programs
		// through pipes and $( ) (issue 11's processes).
		// Ten dynamic processes come and go, then another runs: the pages
		// they freed (libc's page-cache pages) are another's code now,
		// and none of their translated blocks may run there.
		{"sh -c ten processes, then cat", "/bin/sh", []string{"-c", `i=0; while [ $i -lt 10 ]; do /bin/true; i=$((i+1)); done; /bin/cat "$0/fruits.txt"`, dir}, ""},
		{"sh -c pipeline", "/bin/sh", []string{"-c", `echo a b c | /usr/bin/tr a-z A-Z | /usr/bin/wc -c; /bin/ls "$0" | /usr/bin/sort -r | /usr/bin/head -3; echo $(/bin/echo nested) $(/bin/cat "$0/sub/a.txt")`, dir}, ""},
		{"cp missing directory", "/bin/cp", []string{in("fruits.txt"), "/nonexistent-dir/x"}, ""},
		{"python3 json", "/usr/bin/python3", []string{"-c", "import json,sys; print(json.dumps(sorted(open(sys.argv[1]).read().split())))", in("fruits.txt")}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := exec.LookPath(tc.prog); err != nil {
				t.Fatalf("%s: %v (a Debian 12 base system has it)", tc.prog, err)
			}
			var stdin []byte
			if tc.stdin != "" {
				stdin = []byte(tc.stdin)
			}
			nOut, nErr, nStatus, err := fixtures.RunNative(tc.prog, tc.args, env(nativeTmp), stdin)
			require.NoError(t, err)
			var out, errb bytes.Buffer
			res, err := probesim.Run(t.Context(), probesim.Config{Program: tc.prog, Args: tc.args, Env: env(guestTmp),
				Stdin: bytes.NewReader(stdin), Stdout: &out, Stderr: &errb, HostTimes: true})
			require.NoError(t, err)
			assert.Equal(t, nStatus, res.Report.ExitStatus, "status")
			assert.Equal(t, string(nOut), out.String(), "stdout")
			assert.Equal(t, string(nErr), errb.String(), "stderr")
			for name := range res.Report.UnsupportedSyscalls {
				// ls asks for ACLs and SELinux labels, which the view does
				// not keep (kernel/xattr.go): EOPNOTSUPP, as natively on a
				// filesystem without them, and the same output.
				assert.True(t, strings.HasSuffix(name, ":extended attributes"), "unmodelled call %s", name)
			}
			require.NotEmpty(t, res.Report.Libraries, "the loader and libc are listed")
			assert.Contains(t, res.Report.Libraries[0].Path, "ld-linux-x86-64.so.2")
			if tc.prog == "/bin/sh" {
				assert.Greater(t, len(res.Report.Processes), 5, "the shell and the programs it ran")
			}
		})
	}
	entries, err := os.ReadDir(guestTmp)
	require.NoError(t, err)
	assert.Empty(t, entries)
}

// dynamicProbeC prints what a dynamic program learns from its loader: the
// arguments, AT_BASE being set, its interpreter's line in
// /proc/self/maps, and a computation through libc.
const dynamicProbeC = `#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
int main(int argc, char **argv) {
	char line[512];
	int interp = 0;
	FILE *f = strcmp(argv[argc - 1], "nomaps") ? fopen("/proc/self/maps", "r") : NULL;
	while (f && fgets(line, sizeof line, f))
		if ((strstr(line, "/ld-") || strstr(line, "-musl/")) && strstr(line, "r-xp"))
			interp++;
	char *s = malloc(64);
	snprintf(s, 64, "%s:%d", argv[argc - 1], argc);
	printf("%s base=%s exec-interp-lines=%d entry=%s\n", s, getauxval(AT_BASE) ? "set" : "zero", interp,
		getauxval(AT_ENTRY) ? "set" : "zero");
	free(s);
	return 5;
}
`

// TestDynamicLoadersOfEachLibc builds one program against glibc (x86-64
// PIE, i386 PIE, i386 non-PIE) and musl (x86-64) and runs it natively and
// under probesim: each loader (ld-linux-x86-64.so.2, ld-linux.so.2,
// ld-musl-x86_64.so.1) is found in the view and started, with the same
// output and status as natively.
func TestDynamicLoadersOfEachLibc(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "p.c")
	require.NoError(t, os.WriteFile(src, []byte(dynamicProbeC), 0o644))
	for _, b := range []struct {
		name string
		cc   string
		args []string
	}{
		{"glibc x86_64 pie", "gcc", nil},
		{"glibc i386 pie", "gcc", []string{"-m32"}},
		{"glibc i386 no-pie", "gcc", []string{"-m32", "-no-pie"}},
		{"musl x86_64", "musl-gcc", nil},
	} {
		t.Run(b.name, func(t *testing.T) {
			bin := filepath.Join(dir, strings.ReplaceAll(b.name, " ", "-"))
			out, err := exec.Command(b.cc, append(b.args, "-O2", "-o", bin, src)...).CombinedOutput()
			require.NoError(t, err, "%s", out)
			args := []string{"one", "two"}
			nOut, nErr, nStatus, err := fixtures.RunNative(bin, args, nil, nil)
			require.NoError(t, err)
			require.Equal(t, 5, nStatus, "native: %s", nErr)
			var gOut, gErr bytes.Buffer
			res, err := probesim.Run(t.Context(), probesim.Config{Program: bin, Args: args, Stdout: &gOut, Stderr: &gErr})
			require.NoError(t, err)
			assert.Equal(t, nStatus, res.Report.ExitStatus)
			assert.Equal(t, string(nOut), gOut.String())
			assert.Equal(t, string(nErr), gErr.String())
			assert.Contains(t, gOut.String(), "base=set exec-interp-lines=1")
		})
	}
}

// TestDynamicProgramInAMinimalRoot runs a dynamic program under --root
// on a directory holding only the program, the loader and libc, and
// compares it with chroot(8) into the same directory natively (the test
// runs as root, as CI does): the loader and the libraries come from the
// guest's view, not the host's paths, and a missing libc gives ld.so's
// own error and status.
func TestDynamicProgramInAMinimalRoot(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatal("needs root for chroot(8), the native reference (CI runs as root)")
	}
	root := t.TempDir()
	src := filepath.Join(t.TempDir(), "p.c")
	require.NoError(t, os.WriteFile(src, []byte(dynamicProbeC), 0o644))
	out, err := exec.Command("gcc", "-O2", "-o", filepath.Join(root, "prog"), src).CombinedOutput()
	require.NoError(t, err, "%s", out)
	copyInto := func(host, guest string) {
		data, err := os.ReadFile(host)
		require.NoError(t, err)
		p := filepath.Join(root, guest)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, data, 0o755))
	}
	copyInto("/lib64/ld-linux-x86-64.so.2", "lib64/ld-linux-x86-64.so.2")
	libc := filepath.Join(root, "lib/x86_64-linux-gnu/libc.so.6")
	for _, withLibc := range []bool{true, false} {
		if withLibc {
			copyInto("/lib/x86_64-linux-gnu/libc.so.6", "lib/x86_64-linux-gnu/libc.so.6")
		} else {
			require.NoError(t, os.Remove(libc))
		}
		// nomaps: the chroot has no /proc mounted; probesim's view has one.
		nOut, nErr, nStatus, err := fixtures.RunNative("/usr/sbin/chroot", []string{root, "/prog", "nomaps"}, nil, nil)
		require.NoError(t, err)
		var gOut, gErr bytes.Buffer
		res, err := probesim.Run(t.Context(), probesim.Config{Program: filepath.Join(root, "prog"), GuestPath: "/prog",
			Args: []string{"nomaps"}, Root: root, Stdout: &gOut, Stderr: &gErr})
		require.NoError(t, err)
		assert.Equal(t, nStatus, res.Report.ExitStatus, "libc present: %v", withLibc)
		assert.Equal(t, string(nOut), gOut.String())
		assert.Equal(t, string(nErr), gErr.String()) // ld.so's message names argv[0]
		var libs []string
		for _, l := range res.Report.Libraries {
			libs = append(libs, l.Path)
		}
		if withLibc {
			assert.Equal(t, []string{"/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/libc.so.6"}, libs)
		} else {
			assert.Equal(t, 127, res.Report.ExitStatus)
			assert.Equal(t, []string{"/lib64/ld-linux-x86-64.so.2"}, libs)
		}
	}
}

// dlopenC opens libm three times, calls cos and closes it each time (the
// library is mapped, unmapped and mapped again), then fails to open a
// missing library.
const dlopenC = `#include <dlfcn.h>
#include <stdio.h>
int main(void) {
	for (int round = 0; round < 3; round++) {
		void *h = dlopen("libm.so.6", RTLD_NOW | RTLD_LOCAL);
		if (!h) { printf("dlopen: %s\n", dlerror()); return 1; }
		double (*c)(double) = (double (*)(double))dlsym(h, "cos");
		printf("round %d cos(0.5)=%.12f\n", round, c(0.5));
		dlclose(h);
	}
	void *bad = dlopen("libnotthere.so.9", RTLD_NOW);
	printf("missing: %s\n", bad ? "loaded?" : dlerror());
	return 0;
}
`

// TestDlopenMapsAndUnmapsLibraries runs dlopenC natively and under
// probesim: the same output; libm is listed once among the libraries.
func TestDlopenMapsAndUnmapsLibraries(t *testing.T) {
	dir := t.TempDir()
	src, bin := filepath.Join(dir, "dl.c"), filepath.Join(dir, "dl")
	require.NoError(t, os.WriteFile(src, []byte(dlopenC), 0o644))
	out, err := exec.Command("gcc", "-O2", "-o", bin, src).CombinedOutput()
	require.NoError(t, err, "%s", out)
	nOut, _, nStatus, err := fixtures.RunNative(bin, nil, nil, nil)
	require.NoError(t, err)
	var gOut bytes.Buffer
	res, err := probesim.Run(t.Context(), probesim.Config{Program: bin, Stdout: &gOut})
	require.NoError(t, err)
	assert.Equal(t, nStatus, res.Report.ExitStatus)
	assert.Equal(t, string(nOut), gOut.String())
	var libm int
	for _, l := range res.Report.Libraries {
		if strings.HasSuffix(l.Path, "/libm.so.6") {
			libm++
		}
	}
	assert.Equal(t, 1, libm, "libm once, however often it was mapped")
}
