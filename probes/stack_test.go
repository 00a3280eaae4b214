package probes

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/arch/x86/x86asm"

	"github.com/probesim/probesim/fixtures"
	"github.com/probesim/probesim/mmu"
	"github.com/probesim/probesim/smp"
	"github.com/probesim/probesim/timing"
)

// The stack edge cases of ssol-stack: a page with no room for the slot
// (the stack grows by a page) and an NX page (cleared for the step and
// restored), each visible in the report with its cost.

// stackgrowKiB makes the stackgrow fixture walk 64 pages down, past the
// initial stack VMA (33 pages).
const stackgrowKiB = "256"

// stackgrowProbe returns the address of the dec that follows the store in
// stackgrow's page-walking loop ("sub $4096,sp; mov cx,(sp); dec cx; jnz"):
// it runs once per page, with sp at the same offset in each new page.
func stackgrowProbe(t *testing.T, m *smp.Machine, mode int) uint64 {
	t.Helper()
	start, ok := m.Image().Lookup("_start")
	require.True(t, ok)
	code := make([]byte, 256)
	require.NoError(t, m.AddressSpace().ReadForce(start.Value, code))
	prevStore := false
	for off := 0; off < len(code); {
		inst, err := x86asm.Decode(code[off:], mode)
		require.NoError(t, err, "_start+%#x", off)
		if inst.Op == x86asm.DEC && prevStore {
			return start.Value + uint64(off)
		}
		mem, isMem := inst.Args[0].(x86asm.Mem)
		prevStore = inst.Op == x86asm.MOV && isMem && (mem.Base == x86asm.RSP || mem.Base == x86asm.ESP)
		off += inst.Len
	}
	t.Fatal("no dec after a store to (sp) in stackgrow's _start")
	return 0
}

// initialSP runs stackgrow with env up to its first instruction and returns
// the stack pointer there.
func initialSP(t *testing.T, prog string, env []string) uint64 {
	t.Helper()
	m, err := smp.New(smp.Config{Program: prog, Args: []string{stackgrowKiB}, Env: env})
	require.NoError(t, err)
	defer m.Close()
	start, ok := m.Image().Lookup("_start")
	require.True(t, ok)
	var sp uint64
	require.NoError(t, m.Watch(start.Value, func(smp.WatchEvent) {
		if sp == 0 {
			sp = m.SP()
		}
	}))
	_, err = m.Run()
	require.NoError(t, err)
	require.NotZero(t, sp)
	return sp
}

// envPlacingSP returns an environment that puts stackgrow's initial stack
// pointer at byte off of its page, by padding one variable: every byte of
// it moves the stack image down by one, and the loader aligns sp to 16.
func envPlacingSP(t *testing.T, prog string, off uint64) ([]string, uint64) {
	t.Helper()
	pad := 0
	for range 8 {
		env := []string{"PAD=" + strings.Repeat("x", pad)}
		sp := initialSP(t, prog, env)
		if sp%mmu.PageSize == off {
			return env, sp
		}
		pad += int((sp%mmu.PageSize - off) % mmu.PageSize)
		if pad > 2*mmu.PageSize {
			pad -= mmu.PageSize
		}
	}
	t.Fatalf("no padding put sp at offset %#x of its page", off)
	return nil, 0
}

// stackgrowWalk prepares stackgrow for arch with sp 16 bytes into its page
// and returns its decode mode, path, environment, initial sp and native
// output.
func stackgrowWalk(t *testing.T, arch string) (mode int, prog string, env []string, sp uint64, want []byte) {
	t.Helper()
	mode = 64
	if arch == fixtures.ArchI386 {
		mode = 32
	}
	prog, err := fixtures.Path(arch, "stackgrow")
	require.NoError(t, err)
	env, sp = envPlacingSP(t, prog, 16)
	want, _, status, err := fixtures.RunNative(prog, []string{stackgrowKiB}, env, nil)
	require.NoError(t, err)
	require.Zero(t, status)
	return mode, prog, env, sp, want
}

// TestSSOLStackExpansion: stackgrow, with sp 16 bytes into each page it
// walks down to, leaves no room for a slot below sp (and the red zone on
// x86-64) in that page. While the page is inside the stack VMA and not its
// lowest, the slot goes to the VMA's start; from the lowest page on,
// every hit grows the stack by one page for its slot, which is then the
// page the next iteration walks into, so the guest never faults its stack
// itself. The report shows each expansion, and its cost, a page-fault entry
// and exit, is in the step phase.
func TestSSOLStackExpansion(t *testing.T) {
	k := timing.Default().Kernel
	for _, arch := range []string{fixtures.ArchAMD64, fixtures.ArchI386} {
		t.Run(arch, func(t *testing.T) {
			mode, prog, env, sp, want := stackgrowWalk(t, arch)

			m, err := smp.New(smp.Config{Program: prog, Args: []string{stackgrowKiB}, Env: env, Profile: exact()})
			require.NoError(t, err)
			defer m.Close()
			var stack mmu.VMA
			for _, v := range m.AddressSpace().VMAs() {
				if v.Flags&mmu.GrowsDown != 0 {
					stack = v
				}
			}
			require.NotZero(t, stack.End)
			addr := stackgrowProbe(t, m, mode)
			spec, err := Resolve(m.Image(), fmt.Sprintf("%#x", addr))
			require.NoError(t, err)
			e, err := Attach(m, []Spec{spec}, SSOLStack, nil)
			require.NoError(t, err)
			r, err := m.Run()
			require.NoError(t, err)
			require.Equal(t, "exit", r.StopReason, "stderr %q fault %+v", r.Stderr, r.Fault)
			require.Equal(t, string(want), r.Stdout)

			pages := uint64(256 / 4)
			res, st := e.Results()[0], e.Stats()
			require.Equal(t, pages, res.Hits)
			require.Zero(t, res.Misses)
			// Iteration i (1-based) runs the probe with sp in page
			// spPage - i pages, 16 bytes into it: no room there. While that
			// page is above the VMA's lowest, the slot goes to the VMA's
			// start; from the lowest page on, the stack grows.
			above := (sp&^(mmu.PageSize-1)-stack.Start)/mmu.PageSize - 1
			t.Logf("sp %#x, %d pages above the lowest, %d expansions", sp, above, st.StackGrowths)
			require.Equal(t, above, st.StackStart, "hits in pages of the VMA above its lowest")
			require.Zero(t, st.InlineFallback)
			require.Equal(t, pages-above, st.StackGrowths, "every hit from the lowest page on grows the stack")
			require.Equal(t, st.StackGrowths, r.Memory.StackGrowths, "the guest never faulted its stack down itself")
			require.Equal(t, st.StackGrowths*k.PageFaultEntryExit, st.StackExpansionCycles)

			ool := e.OutOfLineReport()
			require.Equal(t, st.StackGrowths, ool.StackExpansions)
			require.Equal(t, st.StackExpansionCycles, ool.StackExpansionCycles)
			require.Equal(t, st.StackGrowths+st.StackStart, ool.NXFlips, "the VMA's start and the new pages are NX too")
			require.Equal(t, st.StackStart, ool.StackStartSlots)
			rp := e.Report()[0]
			require.Equal(t, res.Overhead, rp.OverheadCycles)
			// Step, exactly: every hit the #DB and the instruction, the
			// slot copy and NX cleared; the expansions their page fault.
			insn := timing.Default().CostBlock(spec.Bytes, spec.Addr, mode).CostFP
			grown := st.StackGrowths
			wantStepFP := pages*(k.ExceptionEntryExit<<8+insn) +
				pages*(uint64(spec.Len)*k.KernelWriteByte+k.MprotectOnePage)<<8 +
				grown*k.PageFaultEntryExit<<8
			require.Equal(t, wantStepFP>>8, rp.OverheadCycles.Step)
			require.Equal(t, pages*k.MprotectOnePage, rp.OverheadCycles.Fixups)
		})
	}
}

// TestSSOLNXFlipCost: the threads fixture's stacks are NX, so every
// out-of-line step clears NX on the slot's page and restores it, each a
// page-table update with a shootdown. Raising mprotect_one_page by d raises
// the step and fixups phases by d per flip each, and the report's
// nx_flip_cycles by 2d per flip; nothing else moves.
func TestSSOLNXFlipCost(t *testing.T) {
	const d = 777
	for _, arch := range []string{fixtures.ArchAMD64, fixtures.ArchI386} {
		t.Run(arch, func(t *testing.T) {
			base := runOverhead(t, arch, 1, []string{"1", "200"}, SSOLStack, nil)
			dear := exact()
			dear.Kernel.MprotectOnePage += d
			more := runOverhead(t, arch, 1, []string{"1", "200"}, SSOLStack, dear)
			flips := base.stats.NXFlips
			require.Equal(t, base.res.Hits, flips, "every step flips NX")
			require.Equal(t, flips, more.stats.NXFlips)
			bo, mo := base.res.Overhead, more.res.Overhead
			require.Equal(t, bo.Step+d*flips, mo.Step)
			require.Equal(t, bo.Fixups+d*flips, mo.Fixups)
			require.Equal(t, bo.Trap, mo.Trap)
			require.Equal(t, bo.Shootdowns, mo.Shootdowns)
			require.Equal(t, base.stats.NXFlipCycles+2*d*flips, more.stats.NXFlipCycles)
			k := timing.Default().Kernel
			require.Equal(t, 2*flips*(k.MprotectOnePage+k.TLBShootdownInitiator), base.stats.NXFlipCycles)
			require.Equal(t, base.rep.VCPUs[0].Cycles+2*d*flips, more.rep.VCPUs[0].Cycles)
		})
	}
}

// TestSSOLStackLimitFallsBackInline: the same walk, with RLIMIT_STACK
// ending exactly at the page the last iteration walks into. Every hit but
// the last finds its slot (the VMA's start, then a grown page); the last
// hit's page is the lowest the limit allows, so the stack may not grow for
// its slot and it falls back to inline stepping, the repost's last resort.
// The guest, which never goes lower, is unharmed.
func TestSSOLStackLimitFallsBackInline(t *testing.T) {
	for _, arch := range []string{fixtures.ArchAMD64, fixtures.ArchI386} {
		t.Run(arch, func(t *testing.T) {
			mode, prog, env, sp, want := stackgrowWalk(t, arch)

			probe := func(limit uint64) (*smp.Machine, *Engine, mmu.VMA) {
				m, err := smp.New(smp.Config{Program: prog, Args: []string{stackgrowKiB}, Env: env, StackLimit: limit})
				require.NoError(t, err)
				t.Cleanup(func() { m.Close() })
				var stack mmu.VMA
				for _, v := range m.AddressSpace().VMAs() {
					if v.Flags&mmu.GrowsDown != 0 {
						stack = v
					}
				}
				spec, err := Resolve(m.Image(), fmt.Sprintf("%#x", stackgrowProbe(t, m, mode)))
				require.NoError(t, err)
				e, err := Attach(m, []Spec{spec}, SSOLStack, nil)
				require.NoError(t, err)
				return m, e, stack
			}
			_, _, stack := probe(0)
			pages := uint64(256 / 4)
			lastPage := sp&^(mmu.PageSize-1) - pages*mmu.PageSize
			m, e, _ := probe(stack.End - lastPage)
			r, err := m.Run()
			require.NoError(t, err)
			require.Equal(t, "exit", r.StopReason, "stderr %q fault %+v", r.Stderr, r.Fault)
			require.Equal(t, string(want), r.Stdout)
			res, st := e.Results()[0], e.Stats()
			require.Equal(t, pages, res.Hits)
			require.Zero(t, res.Misses)
			require.Equal(t, uint64(1), st.InlineFallback, "the last hit")
			require.Equal(t, pages-1, st.StackStart+st.StackGrowths)
			require.Equal(t, uint64(1), e.OutOfLineReport().InlineFallbacks)
		})
	}
}
