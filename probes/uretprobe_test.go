package probes

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/arch/x86/x86asm"

	"github.com/probesim/probesim/emu/insn"
	"github.com/probesim/probesim/emu/loader"
	"github.com/probesim/probesim/fixtures"
	"github.com/probesim/probesim/smp"
)

// retRun is one run with return probes.
type retRun struct {
	out     string
	res     []Result
	hits    []Hit  // the handler's, in order
	rets    uint64 // executions of the first probe's function's ret, watched
	windows int
}

// runReturns runs a fixture with specs attached by s and a watch on the
// ret instructions of the first spec's function.
func runReturns(t *testing.T, arch, fixture string, args []string, cpus int, seed uint64, lockstep bool, s Strategy, specs ...string) retRun {
	t.Helper()
	prog, err := fixtures.Path(arch, fixture)
	require.NoError(t, err)
	m, err := smp.New(smp.Config{Program: prog, Args: args, CPUs: cpus, Seed: seed, Lockstep: lockstep})
	require.NoError(t, err)
	defer m.Close()
	var ss []Spec
	for _, text := range specs {
		sp, err := Resolve(m.Image(), text)
		require.NoError(t, err)
		ss = append(ss, sp)
	}
	var run retRun
	e, err := Attach(m, ss, s, func(h Hit) { run.hits = append(run.hits, h) })
	require.NoError(t, err)
	for _, ret := range retInstructions(m, ss[0]) {
		require.NoError(t, m.Watch(ret, func(smp.WatchEvent) { run.rets++ }))
	}
	r, err := m.Run()
	require.NoError(t, err)
	require.NoError(t, e.Err())
	require.Equal(t, "exit", r.StopReason, "stderr %q fault %+v", r.Stderr, r.Fault)
	run.out, run.res = r.Stdout, e.Results()
	for _, res := range run.res {
		require.True(t, res.Return)
		require.Equal(t, res.Executions, res.Hits+res.Misses)
		run.windows += len(res.Windows)
	}
	return run
}

// retInstructions are the addresses of the ret instructions of spec's
// function (none for one that ends in a tail call), found by decoding it.
func retInstructions(m *smp.Machine, spec Spec) []uint64 {
	sym, _ := m.Image().Lookup(spec.Symbol)
	code := make([]byte, sym.Size)
	if m.AddressSpace().ReadForce(sym.Value, code) != nil {
		return nil
	}
	mode := 64
	if m.Image().Arch == loader.ArchI386 {
		mode = 32
	}
	var out []uint64
	for off := 0; off < len(code); {
		inst, err := insn.Decode(code[off:], mode)
		if err != nil {
			break // the padding after the function
		}
		if inst.Op == x86asm.RET {
			out = append(out, sym.Value+uint64(off))
		}
		off += inst.Len
	}
	return out
}

// TestReturnProbesSeeTheReturnValues: a return probe on the threads
// fixture's probed() sees every return, on one vCPU with every strategy
// and on four out of line: the return values its handler sees, XORed per
// thread, are the "returned" values the program prints; the ip is the
// return address (inside worker_main), Func the probe; and the returns
// are the function's ret instructions' executions.
func TestReturnProbesSeeTheReturnValues(t *testing.T) {
	const threads, iters = 4, 300
	for _, arch := range []string{fixtures.ArchAMD64, fixtures.ArchI386} {
		for _, run := range []struct {
			s    Strategy
			cpus int
		}{{Inline, 1}, {SSOLStack, 1}, {XOL, 1}, {SSOLStack, 4}, {XOL, 4}} {
			t.Run(fmt.Sprintf("%s/%s/%dcpu", arch, run.s, run.cpus), func(t *testing.T) {
				r := runReturns(t, arch, "threads", []string{fmt.Sprint(threads), fmt.Sprint(iters)}, run.cpus, 1, false, run.s, "probed%return")
				res := r.res[0]
				require.Equal(t, uint64(threads*iters), res.Hits)
				require.Zero(t, res.Misses)
				require.Equal(t, r.rets, res.Executions, "returns = the ret's executions")
				require.Zero(t, res.ReturnsDropped+res.ReturnsDepthLimited+res.ReturnsPending)
				perTID := map[int]uint32{}
				for _, h := range r.hits {
					require.True(t, h.Return)
					require.Equal(t, res.Address, h.Func)
					perTID[h.TID] ^= uint32(h.Regs.AX)
				}
				var got, want []string
				for _, v := range perTID {
					got = append(got, fmt.Sprintf("%08x", v))
				}
				for _, m := range regexp.MustCompile(`returned=([0-9a-f]{8})`).FindAllStringSubmatch(r.out, -1) {
					want = append(want, m[1])
				}
				sort.Strings(got)
				sort.Strings(want)
				require.Equal(t, want, got, "the return values the handler saw")
			})
		}
	}
}

// TestReturnProbesInlineMissesOnSMP: with inline stepping on four vCPUs,
// an entry that runs in another thread's window arms nothing, so its
// return is missed: hits + misses = executions = the ret's executions, and
// misses appear.
func TestReturnProbesInlineMissesOnSMP(t *testing.T) {
	var misses uint64
	for seed := uint64(1); seed <= 3; seed++ {
		r := runReturns(t, fixtures.ArchAMD64, "threads", []string{"4", "200"}, 4, seed, false, Inline, "probed%return")
		res := r.res[0]
		require.Equal(t, uint64(800), res.Executions)
		require.Equal(t, r.rets, res.Executions)
		require.Equal(t, uint64(len(r.hits)), res.Hits)
		misses += res.Misses
	}
	require.NotZero(t, misses)
}

// depthValues is depth(0..n) of the retprobe fixture.
func depthValues(n int) []int64 {
	v := []int64{1}
	for i := 1; i <= n; i++ {
		v = append(v, (3*v[i-1]+int64(i))%1000003)
	}
	return v
}

// TestReturnProbesRecursion: depth(n) recurses n levels. With 50 levels
// every return is seen, innermost first, each with its level's value, the
// last the value the program prints. With 100, a thread holds at most 64
// return instances: the 37 innermost calls arm nothing and their returns
// are misses, reported as depth-limited.
func TestReturnProbesRecursion(t *testing.T) {
	for _, arch := range []string{fixtures.ArchAMD64, fixtures.ArchI386} {
		for _, n := range []int{50, 100} {
			t.Run(fmt.Sprintf("%s/%d", arch, n), func(t *testing.T) {
				r := runReturns(t, arch, "retprobe", []string{"recurse", strconv.Itoa(n)}, 1, 1, false, XOL, "depth%return")
				res := r.res[0]
				values := depthValues(n)
				armed := min(n+1, maxURetprobeDepth)
				require.Equal(t, uint64(n+1), res.Executions)
				require.Equal(t, r.rets, res.Executions)
				require.Equal(t, uint64(armed), res.Hits)
				require.Equal(t, uint64(n+1-armed), res.Misses)
				require.Equal(t, uint64(n+1-armed), res.ReturnsDepthLimited)
				require.Len(t, r.hits, armed)
				for i, h := range r.hits {
					level := n + 1 - armed + i // the innermost armed level returns first
					got := int64(h.Regs.AX)
					if arch == fixtures.ArchI386 {
						got = int64(int32(h.Regs.AX))
					}
					require.Equal(t, values[level], got, "depth(%d)", level)
				}
				require.Equal(t, fmt.Sprintf("depth(%d) = %d\n", n, values[n]), r.out)
			})
		}
	}
}

// TestReturnProbesLongjmp: descend() calls itself five levels down and
// longjmp()s out, a hundred times: no armed return ever returns. Each new
// entry drops the instances below its stack pointer (their frames are
// gone), so a thread never holds more than one descent's six, nothing is
// depth-limited, and at the end only the last descent's are pending.
func TestReturnProbesLongjmp(t *testing.T) {
	for _, arch := range []string{fixtures.ArchAMD64, fixtures.ArchI386} {
		for _, s := range Strategies {
			t.Run(arch+"/"+string(s), func(t *testing.T) {
				r := runReturns(t, arch, "retprobe", []string{"longjmp", "100"}, 1, 1, false, s, "descend%return")
				res := r.res[0]
				require.Equal(t, "longjmp: 100 times back\n", r.out)
				require.Zero(t, res.Executions, "no descend() returned")
				require.Zero(t, r.rets)
				require.Zero(t, res.ReturnsDepthLimited)
				require.Equal(t, uint64(6), res.ReturnsPending)
				require.Equal(t, uint64(99*6), res.ReturnsDropped)
			})
		}
	}
}

// TestReturnProbesTailCall: tail_outer() tail-calls tail_inner(), which
// returns to tail_outer's caller. tail_inner's entry finds the trampoline
// as its return address already: its instance is chained to tail_outer's,
// and the one return through the trampoline runs both handlers, the inner
// first, each seeing the value the caller gets.
func TestReturnProbesTailCall(t *testing.T) {
	for _, arch := range []string{fixtures.ArchAMD64, fixtures.ArchI386} {
		for _, s := range Strategies {
			t.Run(arch+"/"+string(s), func(t *testing.T) {
				r := runReturns(t, arch, "retprobe", []string{"tail", "10"}, 1, 1, false, s, "tail_outer%return", "tail_inner%return")
				outer, inner := r.res[0], r.res[1]
				require.Equal(t, uint64(10), outer.Hits)
				require.Equal(t, uint64(10), inner.Hits)
				var sum int64
				require.Len(t, r.hits, 20)
				for i := 0; i < 20; i += 2 {
					require.Equal(t, inner.Address, r.hits[i].Func, "the inner instance first")
					require.Equal(t, outer.Address, r.hits[i+1].Func)
					require.Equal(t, r.hits[i].Regs.AX, r.hits[i+1].Regs.AX)
					sum += int64(int32(r.hits[i].Regs.AX))
				}
				require.Equal(t, fmt.Sprintf("tail: sum %d\n", sum), r.out)
			})
		}
	}
}

// TestReturnProbesAgreeWithLockstep: a return probe's counts per vCPU are
// the same in the fast mode and in lockstep.
func TestReturnProbesAgreeWithLockstep(t *testing.T) {
	for _, s := range []Strategy{SSOLStack, XOL} {
		fast := runReturns(t, fixtures.ArchAMD64, "threads", []string{"4", "100"}, 4, 3, false, s, "probed%return")
		lock := runReturns(t, fixtures.ArchAMD64, "threads", []string{"4", "100"}, 4, 3, true, s, "probed%return")
		require.Equal(t, lock.res[0].PerCPU, fast.res[0].PerCPU, s)
	}
}
