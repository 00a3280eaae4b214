//go:build linux && amd64

package ptraceinline

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/fixtures"
)

func threadsFixture(t *testing.T) (string, uint64) {
	t.Helper()
	path, err := fixtures.Path(fixtures.ArchAMD64, "threads")
	require.NoError(t, err, "build the fixtures first: make fixtures")
	addr, err := SymbolAddr(path, "probed")
	require.NoError(t, err)
	return path, addr
}

func TestSymbolAddr(t *testing.T) {
	path, _ := threadsFixture(t)
	_, err := SymbolAddr(path, "nosuch")
	require.EqualError(t, err, path+": no function symbol nosuch")
	pie, err := fixtures.Path(fixtures.ArchAMD64, "hello_pie")
	require.NoError(t, err)
	_, err = SymbolAddr(pie, "main")
	require.EqualError(t, err, pie+": want a static (ET_EXEC) x86-64 executable, got ET_DYN EM_X86_64")
}

var callsRE = regexp.MustCompile(`(?m)^calls=(\d+)$`)

func calls(t *testing.T, out string) uint64 {
	t.Helper()
	m := callsRE.FindStringSubmatch(out)
	require.NotNil(t, m, "no calls= line in %q", out)
	n, err := strconv.ParseUint(m[1], 10, 64)
	require.NoError(t, err)
	return n
}

// One thread cannot miss: every call is a hit, and the program, which
// counts its calls three ways, runs correctly through the in-place steps.
func TestOneThreadSeesEveryCall(t *testing.T) {
	path, addr := threadsFixture(t)
	var out bytes.Buffer
	res, err := Run(context.Background(), Config{Program: path, Args: []string{"1", "300"}, Addr: addr, Stdout: &out})
	require.NoError(t, err)
	require.Equal(t, 0, res.ExitStatus, out.String())
	require.Equal(t, uint64(300), calls(t, out.String()))
	require.Equal(t, uint64(300), res.Hits)
	require.Zero(t, res.Queued)
	require.Equal(t, 2, res.Threads) // main and the worker
	require.Len(t, res.WindowSamplesNS, 300)
}

// With several threads, hits never exceed the calls, every thread is
// traced, and the program's own counts still agree (exit 0): the inline
// step never corrupts a thread, it only lets others run past the probe.
func TestThreadsHitsAtMostCalls(t *testing.T) {
	path, addr := threadsFixture(t)
	var out bytes.Buffer
	res, err := Run(context.Background(), Config{Program: path, Args: []string{"3", "200", "100"}, Addr: addr, Stdout: &out})
	require.NoError(t, err)
	require.Equal(t, 0, res.ExitStatus, out.String())
	require.Equal(t, 4, res.Threads)
	require.Equal(t, uint64(600), calls(t, out.String()))
	require.LessOrEqual(t, res.Hits, uint64(600))
	require.Positive(t, res.Hits)
}

func TestRunErrors(t *testing.T) {
	path, addr := threadsFixture(t)
	_, err := Run(context.Background(), Config{Program: filepath.Join(t.TempDir(), "none"), Addr: addr})
	require.ErrorContains(t, err, "ptrace-inline: start ")
	_, err = Run(context.Background(), Config{Program: path, Args: []string{"1", "1"}, Addr: 8})
	require.EqualError(t, err, "ptrace-inline: PTRACE_PEEKTEXT at 0x8: input/output error")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Run(ctx, Config{Program: path, Args: []string{"1", "1000000"}, Addr: addr})
	require.ErrorIs(t, err, context.Canceled)
	// Nothing is left running, whichever thread started it.
	files, err := filepath.Glob("/proc/self/task/*/children")
	require.NoError(t, err)
	for _, f := range files {
		data, _ := os.ReadFile(f)
		require.Empty(t, strings.TrimSpace(string(data)), f)
	}
}
