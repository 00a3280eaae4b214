package loader

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// The test programs are compiled once per `go test` run into a directory
// TestMain removes afterwards; gcc and musl-gcc are installed by the
// project's Makefile.

const progC = `#include <stdio.h>
int probe_counter = 42;
char probe_buf[100];
__thread int probe_tls = 7;
__attribute__((noinline)) int probe_func(int x) { return x * 3 + probe_counter + probe_tls; }
int main(int argc, char **argv) { printf("%d %s\n", probe_func(argc), probe_buf); return 0; }
`

// tinyC has no libc at all: the smallest program gcc can link, used as the
// fuzz seed.
const tinyC = `void _start(void) { for (;;) ; }
`

type variant struct {
	cc    string
	src   string
	flags []string
}

var variants = map[string]variant{
	"x64":      {"gcc", progC, []string{"-static", "-mno-avx", "-O1"}},
	"x64pie":   {"gcc", progC, []string{"-static-pie", "-mno-avx", "-O1"}},
	"x64strip": {"gcc", progC, []string{"-static", "-mno-avx", "-O1", "-s"}},
	"i386":     {"gcc", progC, []string{"-m32", "-static", "-no-pie", "-mno-avx", "-O1"}},
	"i386pie":  {"gcc", progC, []string{"-m32", "-static-pie", "-mno-avx", "-O1"}},
	"musl":     {"musl-gcc", progC, []string{"-static", "-O1"}},
	"dyn":      {"gcc", progC, []string{"-O1"}},
	"dyn32":    {"gcc", progC, []string{"-m32", "-O1"}},
	"obj":      {"gcc", progC, []string{"-c", "-O1"}},
	"tiny64":   {"gcc", tinyC, []string{"-static", "-nostdlib", "-O1"}},
	"tiny32":   {"gcc", tinyC, []string{"-m32", "-static", "-nostdlib", "-O1"}},
}

var (
	buildDir  string
	buildMu   sync.Mutex
	buildDone = map[string]string{}
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "loader-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buildDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildProg compiles the named variant (once) and returns its path.
func buildProg(tb testing.TB, name string) string {
	tb.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := buildDone[name]; ok {
		return p
	}
	v, ok := variants[name]
	require.True(tb, ok, "unknown variant %q", name)
	src := filepath.Join(buildDir, name+".c")
	require.NoError(tb, os.WriteFile(src, []byte(v.src), 0o644))
	out := filepath.Join(buildDir, name)
	args := append(append([]string{}, v.flags...), "-o", out, src)
	cmd := exec.Command(v.cc, args...)
	msg, err := cmd.CombinedOutput()
	require.NoError(tb, err, "%s %v: %s", v.cc, args, msg)
	buildDone[name] = out
	return out
}

func readProg(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(buildProg(tb, name))
	require.NoError(tb, err)
	return data
}
