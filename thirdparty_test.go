package probesim_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim"
	"github.com/probesim/probesim/fixtures"
)

// Debian's static busybox and bash (busybox-static, bash-static: make
// deps installs them), x86_64 binaries not built for probesim.
const (
	busybox    = "/bin/busybox"
	bashStatic = "/usr/bin/bash-static"
)

// thirdPartyTree makes a directory of files for the applets to read.
func thirdPartyTree(t *testing.T) string {
	dir := t.TempDir()
	files := map[string]string{
		"fruits.txt":            "pear\napple\nfig\nbanana\napple\n",
		"numbers.txt":           "10\n9\n100\n-3\n42\n",
		"sub/a.txt":             "hello\n",
		"sub/deeper/b.txt":      "world\nhello again\n",
		"sub/deeper/empty.dat":  "",
		"big.txt":               strings.Repeat("0123456789abcdef\n", 1000),
		"csv/people.csv":        "name,age,city\nann,31,oslo\nbob,27,rome\ncid,45,kyiv\n",
		"unicode/grüße.txt":     "grüße, 世界\n",
		"script/builtins.bash":  bashScript,
		"script/builtins.ash":   ashScript,
		"script/input-file.txt": "one\ntwo\nthree\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
	require.NoError(t, os.Symlink("fruits.txt", filepath.Join(dir, "link-to-fruits")))
	return dir
}

// bashScript uses builtins only: no command substitution, pipe or other
// program (each would fork, which probesim does not model).
const bashScript = `declare -A count
n=0
while IFS= read -r line; do
  n=$((n + 1))
  count[${line:0:1}]=$(( ${count[${line:0:1}]:-0} + 1 ))
done < "$1/fruits.txt"
echo "lines: $n, first letters: ${#count[@]}, a: ${count[a]}"
fib() { local a=0 b=1 i t; for ((i = 0; i < $1; i++)); do t=$((a + b)); a=$b; b=$t; done; result=$a; }
fib 40; echo "fib 40: $result"
s="Hello, World"
echo "${s^^} ${s,,} ${#s} ${s/World/bash} ${s:7:3}"
mapfile -t arr < "$1/numbers.txt"
sum=0; for x in "${arr[@]}"; do sum=$((sum + x)); done
echo "mapfile: ${arr[*]} sum $sum"
out=$TMPDIR/bash-out.txt
printf '%s\n' "${arr[@]}" > "$out"
printf 'appended\n' >> "$out"
while read -r w; do echo "back: $w"; done < "$out"
[[ -f $out && -s $out ]] && echo "written in the overlay"
[[ -d $1/sub && ! -e $1/missing ]] && echo "tests work"
printf -v padded '%05d|%-6s|%x' 42 ab 255; echo "$padded"
case "$s" in Hello*) echo matched;; esac
shopt -s nullglob; files=("$1"/sub/deeper/*); echo "glob: ${#files[@]} ${files[*]##*/}"
exec 3< "$1/csv/people.csv"; read -r header <&3; IFS=, read -r name age city <&3; exec 3<&-
echo "header=$header name=$name age=$age city=$city"
echo "done" >&2
exit 7
`

// ashScript is the same kind of script for busybox sh.
const ashScript = `n=0
while read -r line; do n=$((n + 1)); echo "$n: $line"; done < "$1/script/input-file.txt"
out=$TMPDIR/ash-out.txt
echo first > "$out"; echo second >> "$out"
while read -r l; do echo "read back $l"; done < "$out"
i=0; s=""; while [ $i -lt 10 ]; do s="$s$i"; i=$((i + 1)); done; echo "$s"
x=abcdef; echo "${x#ab} ${x%ef} ${#x}"
[ -f "$1/fruits.txt" ] && [ ! -d "$1/fruits.txt" ] && echo "test works"
set -- a b c; echo "args $# $2"
`

// TestThirdPartyProgramsMatchNative runs busybox file applets and bash
// and busybox sh scripts, natively and under probesim: the same stdout,
// stderr and exit status.
func TestThirdPartyProgramsMatchNative(t *testing.T) {
	for _, p := range []string{busybox, bashStatic} {
		_, err := os.Stat(p)
		require.NoError(t, err, "install busybox-static and bash-static: make deps")
	}
	dir := thirdPartyTree(t)
	// The scripts write under $TMPDIR: natively into one directory, under
	// probesim into another, which must stay empty (the overlay).
	nativeTmp, guestTmp := t.TempDir(), t.TempDir()
	env := func(tmp string) []string {
		return []string{"PATH=/nonexistent", "LANG=C", "LC_ALL=C", "HOME=" + dir, "TMPDIR=" + tmp}
	}
	in := func(p string) string { return filepath.Join(dir, p) }
	cases := []struct {
		name  string
		prog  string
		args  []string
		stdin string
		// unordered: the output follows the directory order, which is the
		// host filesystem's hash order natively and sorted by name under
		// probesim (deterministic on every host): compare sorted lines.
		unordered bool
	}{
		{"ls", busybox, []string{"ls", dir}, "", false},
		{"ls -R", busybox, []string{"ls", "-R", dir}, "", false},
		{"ls -1a sub", busybox, []string{"ls", "-1a", in("sub")}, "", false},
		{"cat", busybox, []string{"cat", in("fruits.txt"), in("sub/a.txt")}, "", false},
		{"cat missing", busybox, []string{"cat", in("missing")}, "", false},
		{"sort", busybox, []string{"sort", in("fruits.txt")}, "", false},
		{"sort -rn", busybox, []string{"sort", "-r", "-n", in("numbers.txt")}, "", false},
		{"sort -u stdin", busybox, []string{"sort", "-u"}, "b\na\nb\nc\n", false},
		{"uniq -c", busybox, []string{"uniq", "-c", in("fruits.txt")}, "", false},
		{"wc", busybox, []string{"wc", in("fruits.txt"), in("big.txt"), in("unicode/grüße.txt")}, "", false},
		{"head tail", busybox, []string{"tail", "-n", "2", in("big.txt")}, "", false},
		{"find -type f", busybox, []string{"find", dir, "-type", "f"}, "", true},
		{"find -name", busybox, []string{"find", dir, "-name", "*.txt", "-size", "-2"}, "", true},
		{"find -type l", busybox, []string{"find", dir, "-type", "l"}, "", true},
		{"stat", busybox, []string{"stat", "-c", "%n %s %F %a %h %b", in("fruits.txt"), in("sub"), in("link-to-fruits"), in("sub/deeper/empty.dat")}, "", false},
		{"du", busybox, []string{"du", "-s", dir}, "", false},
		{"md5sum", busybox, []string{"md5sum", in("fruits.txt"), in("big.txt")}, "", false},
		{"sha256sum", busybox, []string{"sha256sum", in("big.txt")}, "", false},
		{"cut", busybox, []string{"cut", "-d,", "-f1,3", in("csv/people.csv")}, "", false},
		{"grep -r", busybox, []string{"grep", "-r", "-n", "hello", dir}, "", true},
		{"readlink -f", busybox, []string{"readlink", "-f", in("link-to-fruits")}, "", false},
		{"realpath", busybox, []string{"realpath", in("sub/../sub/deeper")}, "", false},
		{"tr stdin", busybox, []string{"tr", "a-z", "A-Z"}, "shout this\n", false},
		{"od", busybox, []string{"od", "-A", "x", "-t", "x1z", in("unicode/grüße.txt")}, "", false},
		{"cmp", busybox, []string{"cmp", in("fruits.txt"), in("numbers.txt")}, "", false},
		{"diff", busybox, []string{"diff", in("fruits.txt"), in("sub/deeper/b.txt")}, "", false},
		{"sh script", busybox, []string{"sh", in("script/builtins.ash"), dir}, "", false},
		{"bash script", bashStatic, []string{in("script/builtins.bash"), dir}, "", false},
		{"bash -c", bashStatic, []string{"-c", `for i in 1 2 3; do echo "$i$((i * i))"; done; printf '%s\n' "$0" "$@"`, "zero", "one"}, "", false},
		// Text tools, calculators and archives (the end-of-session reality
		// sweep of issue 10's note).
		{"awk", busybox, []string{"awk", "-F,", "NR > 1 {s += $2; n++} END {print s, s / n, toupper($3)}", in("csv/people.csv")}, "", false},
		{"sed", busybox, []string{"sed", "-n", "-e", "s/a/A/gp", in("fruits.txt")}, "", false},
		{"xxd", busybox, []string{"xxd", in("sub/deeper/b.txt")}, "", false},
		{"hexdump -C", busybox, []string{"hexdump", "-C", in("unicode/grüße.txt")}, "", false},
		{"base64", busybox, []string{"base64", in("big.txt")}, "", false},
		{"bc -l", busybox, []string{"bc", "-l"}, "scale=20\n4*a(1)\n2^100\n", false},
		{"dc", busybox, []string{"dc", "-e", "2 64 ^ 1 - p"}, "", false},
		{"factor", busybox, []string{"factor", "360", "9973", "1234567890"}, "", false},
		{"nl", busybox, []string{"nl", in("fruits.txt")}, "", false},
		{"fold", busybox, []string{"fold", "-w", "5", in("csv/people.csv")}, "", false},
		{"seq", busybox, []string{"seq", "-s", ",", "3", "3", "30"}, "", false},
		{"date -u -d", busybox, []string{"date", "-u", "-d", "@1000000000", "+%Y-%m-%d %H:%M:%S %a"}, "", false},
		{"tar t", busybox, []string{"tar", "-c", "-f", "/dev/null", "-v", in("sub")}, "", true},
		{"bash trap signal", bashStatic, []string{"-c", `trap 'echo "got USR1"' USR1; trap 'echo "exit trap"' EXIT; kill -USR1 $$; echo after; exit 4`}, "", false},
		{"bash kill self", bashStatic, []string{"-c", `kill -TERM $$; echo not reached`}, "", false},
		{"bash cd pwd", bashStatic, []string{"-c", `cd "$0/sub/deeper" && pwd && cd .. && echo "$PWD" && cd - >/dev/null && echo back: "${PWD##*/}"`, dir}, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdin []byte
			if tc.stdin != "" {
				stdin = []byte(tc.stdin)
			}
			nOut, nErr, nStatus, err := fixtures.RunNative(tc.prog, tc.args, env(nativeTmp), stdin)
			require.NoError(t, err)
			var out, errb bytes.Buffer
			res, err := probesim.Run(t.Context(), probesim.Config{Program: tc.prog, Args: tc.args, Env: env(guestTmp),
				Stdin: bytes.NewReader(stdin), Stdout: &out, Stderr: &errb})
			require.NoError(t, err)
			assert.Equal(t, nStatus, res.Report.ExitStatus, "status")
			got, want := out.String(), string(nOut)
			if tc.unordered {
				got, want = sortedLines(got), sortedLines(want)
			}
			assert.Equal(t, want, got, "stdout")
			assert.Equal(t, string(nErr), errb.String(), "stderr")
		})
	}
	// Nothing was written on the host: the scripts' files stayed in the
	// overlay.
	entries, err := os.ReadDir(guestTmp)
	require.NoError(t, err)
	assert.Empty(t, entries)
}

func sortedLines(s string) string {
	lines := strings.Split(s, "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
