package probesim_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim"
	"github.com/probesim/probesim/fixtures"
)

// TestProbeOnAGoFunctionCalledFromGoroutines probes main.probed, which the
// Go fixture (CGO_ENABLED=0) calls from 8 goroutines, on 4 vCPUs with
// every strategy and both arches: every call is an execution of the probe,
// each execution a hit or (inline, where the original byte is back while
// one vCPU steps) a miss, and the count equals the program's own.
func TestProbeOnAGoFunctionCalledFromGoroutines(t *testing.T) {
	const perGoroutine, goroutines = 150, 8
	for _, arch := range []string{fixtures.ArchI386, fixtures.ArchAMD64} {
		for _, s := range probesim.Strategies {
			t.Run(arch+"/"+string(s), func(t *testing.T) {
				t.Parallel()
				path, err := fixtures.Path(arch, "goprog")
				require.NoError(t, err, "make fixtures")
				res, err := probesim.Run(t.Context(), probesim.Config{Program: path,
					Args: []string{"probe", fmt.Sprint(perGoroutine)}, CPUs: 4, Seed: 1,
					Probes: []string{"main.probed"}, Strategy: s})
				require.NoError(t, err)
				rep := res.Report
				require.Equal(t, 0, rep.ExitStatus, "stderr %q", rep.Stderr)
				want := uint64(perGoroutine * goroutines)
				assert.Equal(t, fmt.Sprintf("calls %d\n", want), rep.Stdout)
				p := rep.Probes[0]
				assert.Equal(t, want, p.Executions)
				assert.Equal(t, p.Executions, p.Hits+p.Misses)
				if s != probesim.Inline {
					assert.Zero(t, p.Misses, "out-of-line strategies never miss")
				}
				busy := 0
				for _, v := range rep.VCPUs {
					if v.Instructions > 0 {
						busy++
					}
				}
				assert.Equal(t, 4, busy, "the goroutines ran on all 4 vCPUs")
			})
		}
	}
}

// TestProbeOnAGoFunctionCalledFromAnHTTPHandler probes main.handled, which
// the gonet fixture's net/http handler calls once per request, while 4
// client goroutines make the requests over loopback TCP on 4 vCPUs: every
// request is one execution, each a hit or (inline) a miss, and the count
// equals the program's own.
func TestProbeOnAGoFunctionCalledFromAnHTTPHandler(t *testing.T) {
	const requests = 60
	for _, arch := range []string{fixtures.ArchI386, fixtures.ArchAMD64} {
		for _, s := range probesim.Strategies {
			t.Run(arch+"/"+string(s), func(t *testing.T) {
				t.Parallel()
				path, err := fixtures.Path(arch, "gonet")
				require.NoError(t, err, "make fixtures")
				res, err := probesim.Run(t.Context(), probesim.Config{Program: path,
					Args: []string{"probe", fmt.Sprint(requests)}, CPUs: 4, Seed: 1,
					Probes: []string{"main.handled"}, Strategy: s})
				require.NoError(t, err)
				rep := res.Report
				require.Equal(t, 0, rep.ExitStatus, "stderr %q", rep.Stderr)
				assert.Equal(t, fmt.Sprintf("handled %d\n", requests), rep.Stdout)
				p := rep.Probes[0]
				assert.Equal(t, uint64(requests), p.Executions)
				assert.Equal(t, p.Executions, p.Hits+p.Misses)
				if s != probesim.Inline {
					assert.Zero(t, p.Misses, "out-of-line strategies never miss")
				}
			})
		}
	}
}

// TestReturnProbeOnAGoFunctionCrashesAsOnLinux: a return probe on a Go
// function whose callee grows the goroutine's stack kills the program, as
// a real uretprobe does. The Go runtime copies the stack and walks its
// frames, finds the trampoline's address where the return address was
// (prepare_uretprobe put it there) and throws "unexpected return pc".
// Measured on this project's host with the same binary: `perf probe -x
// goprog 'OFFSET%return'` on encoding/json.Marshal gives "unexpected return
// pc for encoding/json.Marshal called from 0x7fffffffe000" (the kernel's
// trampoline page) and exit status 2; under probesim the address is the
// XOL page's slot 0.
func TestReturnProbeOnAGoFunctionCrashesAsOnLinux(t *testing.T) {
	path, err := fixtures.Path(fixtures.ArchAMD64, "goprog")
	require.NoError(t, err, "make fixtures")
	res, err := probesim.Run(t.Context(), probesim.Config{Program: path, Seed: 1,
		Probes: []string{"encoding/json.Marshal%return"}, Strategy: probesim.XOL})
	require.NoError(t, err)
	rep := res.Report
	assert.Equal(t, 2, rep.ExitStatus)
	assert.Contains(t, rep.Stderr, "unexpected return pc for encoding/json.Marshal called from 0x")
	assert.Contains(t, rep.Stderr, "fatal error: unknown caller pc")
}
