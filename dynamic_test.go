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
		})
	}
	entries, err := os.ReadDir(guestTmp)
	require.NoError(t, err)
	assert.Empty(t, entries)
}
