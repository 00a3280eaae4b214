package probes

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/smp"
)

// TestPopfKeepsTheProgramsTF: a popf that pops TF=1 single-steps the
// program itself: natively (and in the engine, unprobed) the instruction
// after popf runs and the program gets SIGTRAP. Probed with any strategy,
// the end of the kernel's step must leave the program's TF as popf loaded
// it (Linux's UPROBE_FIX_SETF), so the program gets the same SIGTRAP at
// the same place; a popf that pops TF=0 exits normally.
func TestPopfKeepsTheProgramsTF(t *testing.T) {
	for _, mode := range []int{32, 64} {
		for _, flags := range []uint32{0x2d7 | trapFlag, 0x2d7} {
			c := xolCase{"popf", ClassPopf, bothModes(), func(_ xolLayout, a *asm) { a.raw(0x68).u32(flags) }, func(xolLayout) []byte { return []byte{0x9d} }, "next"}
			t.Run(fmt.Sprintf("%d/flags=%#x", mode, flags), func(t *testing.T) {
				p := xolProgram{c: c, l: layoutFor(mode)}
				p.build(t, t.TempDir())
				run := func(s Strategy) (string, uint64) {
					m, err := smp.New(smp.Config{Program: p.path, Seed: 1})
					require.NoError(t, err)
					defer m.Close()
					if s != "" {
						spec, err := Resolve(m.Image(), fmt.Sprintf("%#x", p.l.test))
						require.NoError(t, err)
						_, err = Attach(m, []Spec{spec}, s, nil)
						require.NoError(t, err)
					}
					r, err := m.Run()
					require.NoError(t, err)
					if r.Fault == nil {
						return r.StopReason, 0
					}
					return r.StopReason + "/" + r.Fault.Signal, r.Fault.RIP
				}
				want, wantRIP := run("")
				if flags&trapFlag != 0 {
					// The landing's first instruction (mov eax, imm32) ran.
					require.Equal(t, "fault/SIGTRAP", want)
					require.Equal(t, p.l.test+1+5, wantRIP)
				} else {
					require.Equal(t, "exit", want)
				}
				for _, s := range Strategies {
					got, rip := run(s)
					require.Equal(t, want, got, s)
					require.Equal(t, wantRIP, rip, s)
				}
			})
		}
	}
}

// TestPushfKeepsTheProgramsTF: with the program single-stepping itself
// (TF set by the popf just before it), a probed pushf stores TF=1 as the
// CPU does (the kernel's own TF is cleared from the image only when the
// program had none: saved_tf), and the program gets the SIGTRAP its own
// step raises after the pushf, at the same place.
func TestPushfKeepsTheProgramsTF(t *testing.T) {
	for _, mode := range []int{32, 64} {
		// push flags|TF; popf; pushf (probed): the popf's trap comes after
		// the pushf.
		c := xolCase{"popf; pushf", ClassPopf, bothModes(), func(_ xolLayout, a *asm) { a.raw(0x68).u32(0x2d7 | trapFlag) },
			func(xolLayout) []byte { return []byte{0x9d, 0x9c} }, "next"}
		t.Run(fmt.Sprint(mode), func(t *testing.T) {
			p := xolProgram{c: c, l: layoutFor(mode)}
			p.build(t, t.TempDir())
			run := func(s Strategy) (string, uint64, byte) {
				m, err := smp.New(smp.Config{Program: p.path, Seed: 1})
				require.NoError(t, err)
				defer m.Close()
				if s != "" {
					spec, err := Resolve(m.Image(), fmt.Sprintf("%#x", p.l.test+1))
					require.NoError(t, err)
					require.Equal(t, ClassPushf, spec.Class)
					_, err = Attach(m, []Spec{spec}, s, nil)
					require.NoError(t, err)
				}
				r, err := m.Run()
				require.NoError(t, err)
				require.NotNil(t, r.Fault, "%s: %s", s, r.StopReason)
				var b [2]byte
				require.NoError(t, m.AddressSpace().ReadForce(r.Fault.SP, b[:]))
				return r.StopReason + "/" + r.Fault.Signal, r.Fault.RIP, b[1] & 1
			}
			want, wantRIP, wantTF := run("")
			require.Equal(t, "fault/SIGTRAP", want)
			require.Equal(t, p.l.test+2, wantRIP, "the trap after the pushf")
			require.Equal(t, byte(1), wantTF, "the pushed image has TF")
			for _, s := range Strategies {
				got, rip, tf := run(s)
				require.Equal(t, want, got, s)
				require.Equal(t, wantRIP, rip, s)
				require.Equal(t, wantTF, tf, "%s: pushed TF", s)
			}
		})
	}
}

// TestStackSlotNeedsAWritablePage: with sp pointing into the program's
// code (read-only), an ssol-stack hit finds no writable slot there, nor at
// the start of that VMA, and falls back to inline stepping instead of
// failing the copy (a SIGTRAP); the program runs as in place.
func TestStackSlotNeedsAWritablePage(t *testing.T) {
	for _, mode := range []int{32, 64} {
		c := xolCase{"add with sp in code", ClassPlain, bothModes(), func(l xolLayout, a *asm) { a.movImm(l.mode, 4, l.code+0xe00) },
			func(xolLayout) []byte { return []byte{0x01, 0xd8} }, "next"}
		t.Run(fmt.Sprint(mode), func(t *testing.T) {
			p := xolProgram{c: c, l: layoutFor(mode)}
			p.build(t, t.TempDir())
			want, _ := p.run(t, "")
			got, e := p.run(t, SSOLStack)
			require.Equal(t, want.Regs, got.Regs)
			require.Equal(t, uint64(1), e.Stats().InlineFallback, "no writable slot")
			require.Zero(t, e.Stats().NXFlips)
		})
	}
}

// TestFaultOfTheSteppedInstruction: when the stepped instruction (the
// copy out of line, or the original in place) faults, the step is
// abandoned as arch_uprobe_abort_xol does and the fault is the original
// instruction's: reported at the probed address with the same data
// address, the scratch register and TF as before, no NX flip left.
func TestFaultOfTheSteppedInstruction(t *testing.T) {
	for _, mode := range []int{32, 64} {
		for _, c := range []xolCase{
			{"load from page 0", ClassPlain, bothModes(), func(xolLayout, *asm) {}, func(xolLayout) []byte { return []byte{0x8b, 0x04, 0x25, 0x40, 0, 0, 0} }, "next"},
			{"div by zero", ClassPlain, bothModes(), func(l xolLayout, a *asm) { a.movImm(l.mode, 1, 0) }, func(xolLayout) []byte { return []byte{0xf7, 0xf1} }, "next"},
		} {
			if mode == 32 && c.insn(layoutFor(32))[1] == 0x04 {
				c.insn = func(xolLayout) []byte { return []byte{0x8b, 0x05, 0x40, 0, 0, 0} }
			}
			t.Run(fmt.Sprintf("%d/%s", mode, c.name), func(t *testing.T) {
				p := xolProgram{c: c, l: layoutFor(mode)}
				p.build(t, t.TempDir())
				run := func(s Strategy) (*smp.Machine, *Engine, string, uint64, uint64) {
					m, err := smp.New(smp.Config{Program: p.path, Seed: 1})
					require.NoError(t, err)
					t.Cleanup(func() { m.Close() })
					var e *Engine
					if s != "" {
						spec, err := Resolve(m.Image(), fmt.Sprintf("%#x", p.l.test))
						require.NoError(t, err)
						e, err = Attach(m, []Spec{spec}, s, nil)
						require.NoError(t, err)
					}
					r, err := m.Run()
					require.NoError(t, err)
					require.NotNil(t, r.Fault, "%s: %s", s, r.StopReason)
					return m, e, r.Fault.Signal, r.Fault.RIP, r.Fault.Address
				}
				_, _, sig, rip, addr := run("")
				require.Equal(t, p.l.test, rip)
				for _, s := range Strategies {
					m, e, gotSig, gotRIP, gotAddr := run(s)
					require.Equal(t, sig, gotSig, s)
					require.Equal(t, rip, gotRIP, "%s: the fault is the probed instruction's", s)
					require.Equal(t, addr, gotAddr, s)
					require.Equal(t, uint64(1), e.Stats().StepAborts, s)
					require.NoError(t, e.Err())
					require.NotContains(t, string(m.AddressSpace().MapsText()), "rwxp", "%s: no NX flip left behind", s)
				}
			})
		}
	}
}
