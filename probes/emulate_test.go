package probes

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/fixtures"
	"github.com/probesim/probesim/smp"
	"github.com/probesim/probesim/timing"
)

// TestEmulationChoosesLinuxsInstructions: the instructions xol emulates
// are those Linux's branch_setup_xol_ops and push_setup_xol_ops take,
// but 90 after REX.B (xchg with r8, which Linux would emulate as a nop).
func TestEmulationChoosesLinuxsInstructions(t *testing.T) {
	for _, c := range []struct {
		name string
		mode int
		code []byte
		want bool
	}{
		{"nop", 64, []byte{0x90}, true},
		{"pause", 64, []byte{0xf3, 0x90}, true},
		{"rex.w nop", 64, []byte{0x48, 0x90}, true},
		{"xchg r8d, eax", 64, []byte{0x41, 0x90}, false},
		{"nopl 5", 64, []byte{0x0f, 0x1f, 0x44, 0x00, 0x00}, true},
		{"nopw 8", 64, []byte{0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00}, true},
		{"cs nopw 10: not a kernel nop", 64, []byte{0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00}, false},
		{"jmp rel8", 32, []byte{0xeb, 0x10}, true},
		{"jmp rel32", 64, []byte{0xe9, 1, 0, 0, 0}, true},
		{"call rel32", 32, []byte{0xe8, 1, 0, 0, 0}, true},
		{"jz rel8", 64, []byte{0x74, 0x10}, true},
		{"jg rel32", 64, []byte{0x0f, 0x8f, 1, 0, 0, 0}, true},
		{"loop: stepped", 64, []byte{0xe2, 0x10}, false},
		{"push rbp", 64, []byte{0x55}, true},
		{"push r12", 64, []byte{0x41, 0x54}, true},
		{"rex.w push: stepped", 64, []byte{0x48, 0x55}, false},
		{"push ebp", 32, []byte{0x55}, true},
		{"push imm: stepped", 64, []byte{0x6a, 0x01}, false},
		{"ret: stepped", 64, []byte{0xc3}, false},
		{"call rax: stepped", 64, []byte{0xff, 0xd0}, false},
	} {
		inst, err := Check(c.code, c.mode)
		require.NoError(t, err, c.name)
		s := Spec{Insn: inst, Len: inst.Len, Bytes: c.code, Class: Classify(inst, c.mode)}
		require.Equal(t, c.want, emulatedOps(s, c.mode) != nil, c.name)
	}
}

// TestEmulatedHitCost: with xol, an emulated hit costs one trap and the
// handler, nothing else; the same instruction stepped out of line costs
// two traps, the handler, the slot copy and the instruction. With the
// default profile that puts an emulated hit at 0.42 of a stepped one for a
// 5-byte jmp (bare metal: uprobe-nop 0.33 us against uprobe-ret 0.91 us,
// 0.36; the model's step has no price for the slot bookkeeping and
// uprobe_notify_resume's second pass, which calibrate folds into the
// measured trap).
func TestEmulatedHitCost(t *testing.T) {
	prof := exact()
	k := prof.Kernel
	prog, err := fixtures.Path(fixtures.ArchAMD64, "fixups")
	require.NoError(t, err)
	perHit := func(emulate bool) (uint64, Stats, Spec) {
		m, err := smp.New(smp.Config{Program: prog, Seed: 1, Profile: prof})
		require.NoError(t, err)
		defer m.Close()
		spec, err := Resolve(m.Image(), "fx_jmp32")
		require.NoError(t, err)
		e, err := Attach(m, []Spec{spec}, XOL, nil)
		require.NoError(t, err)
		e.strategy = outOfLine{place: xolPlace{}, waitForSlot: true, emulate: emulate}
		_, err = m.Run()
		require.NoError(t, err)
		res := e.Results()[0]
		require.Equal(t, uint64(fixupIterations), res.Hits)
		o := res.Overhead
		// The first stepped hit also maps the XOL page: leave it out.
		return (o.Total - e.Stats().XOLMapCycles) / res.Hits, e.Stats(), spec
	}
	emulated, est, spec := perHit(true)
	stepped, sst, _ := perHit(false)
	require.Equal(t, uint64(fixupIterations), est.Emulated)
	require.Zero(t, est.Stepped)
	require.Equal(t, uint64(fixupIterations), sst.Stepped)
	require.Equal(t, k.ExceptionEntryExit+k.ProbeHandler, emulated, "one trap and the handler")
	insn := timing.Default().CostBlock(spec.Bytes, spec.Addr, 64).CostFP >> 8
	require.InDelta(t, 2*k.ExceptionEntryExit+k.ProbeHandler+uint64(spec.Len)*k.KernelWriteByte+insn, stepped, 1,
		"two traps, the handler, the copy and the instruction")
	ratio := float64(emulated) / float64(stepped)
	t.Logf("emulated %d cycles, stepped %d: %.2f (bare metal 0.33/0.91 = 0.36)", emulated, stepped, ratio)
	require.InDelta(t, 0.4, ratio, 0.1)
}
