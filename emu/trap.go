package emu

import (
	"github.com/probesim/probesim/emu/uc"
	"github.com/probesim/probesim/kernel"
)

// Breakpoint and single-step traps.
//
// The probe engine handles int3 (vector 3) and the single-step #DB
// (vector 1) itself. A trap gate installed by the machine decides, inside
// Unicorn's interrupt hook, what happens: the trap is handled there (the
// gate may move the ip and set or clear TF, which Unicorn honours when the
// hook returns), deferred until the other vCPUs have caught up (the ip is
// left alone: writing it and stopping in the same hook loses the stop on
// 2.0.1), or not the engine's, in which case it is a guest fault (SIGTRAP)
// as before.

// TrapAction is a trap gate's decision.
type TrapAction int

const (
	TrapFault   TrapAction = iota // not a probe's trap: SIGTRAP
	TrapHandled                   // handled; continue at the (possibly new) ip
	TrapDefer                     // stop now; the machine handles it later
	TrapBlock                     // handled, and the thread sleeps in the kernel (EventBlock)
)

// eflagsTF is the trap flag.
const eflagsTF = 1 << 8

// SetTrapGate installs the gate consulted on int3 and #DB.
func (c *Core) SetTrapGate(gate func(intno uint32) TrapAction) { c.trapGate = gate }

// SetPC moves the running thread's ip (inside a trap gate, when the gate
// returns: see trapregs.go).
func (c *Core) SetPC(pc uint64) error {
	if c.regs.valid {
		c.regs.pc, c.regs.dirtyPC = pc, true
		return nil
	}
	r := uc.RIP
	if c.arch == kernel.I386 {
		r = uc.EIP
	}
	return c.eng.RegWrite(r, pc)
}

// SetTrapFlag sets or clears EFLAGS.TF of the running thread: with TF set,
// #DB arrives after the next instruction.
func (c *Core) SetTrapFlag(on bool) error {
	if c.regs.valid {
		if on {
			c.regs.fl |= eflagsTF
		} else {
			c.regs.fl &^= eflagsTF
		}
		c.regs.dirtyFlags = true
		return nil
	}
	var set uint64
	if on {
		set = eflagsTF
	}
	_, err := c.eng.RegUpdate(uc.EFLAGS, eflagsTF, set)
	return err
}

// Flags returns the running thread's EFLAGS (inside a trap gate, from the
// gate's register cache: no engine call).
func (c *Core) Flags() (uint64, error) {
	if c.regs.valid {
		return c.regs.fl, nil
	}
	return c.eng.RegRead(uc.EFLAGS)
}
