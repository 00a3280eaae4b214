package probes

import (
	"errors"

	"github.com/probesim/probesim/smp"
)

// Strategies: what happens after a hit's handler.
//
// A strategy decides how the probed instruction runs once the handler
// has (Linux: handle_swbp after handler_chain). There are two shapes:
//
//   - inlineStep (inline.go): the original byte goes back and the
//     instruction is stepped in place: the seed's first patch;
//   - outOfLine: a copy is stepped at a place, a slotPlace: the stack
//     below sp (stackPlace, ssol.go: the seed's proposal as the 2006
//     repost corrected it) or the XOL page (xolArea, xolarea.go: mainline
//     Linux). When the place has no slot for the hit, the strategy's
//     fallback runs it (the repost's inline stepping).
//
// Each step records its stepper in the task, which ends the step at the
// #DB, so one strategy can end a step another one started (an
// out-of-line hit that fell back to inline stepping).

// strategy runs a hit's instruction after its handler.
type strategy interface {
	afterHandler(e *Engine, t *uprobeTask, p *probe, ev smp.TrapEvent) error
}

// stepper ends a single-step: after its #DB, or, when the stepped
// instruction faulted, by abandoning it (abortStep, after which the fault
// is the original instruction's: arch_uprobe_abort_xol).
type stepper interface {
	singlestepped(e *Engine, t *uprobeTask, ev smp.TrapEvent) error
	abortStep(e *Engine, t *uprobeTask, ev smp.TrapEvent) error
}

// slotPlace is where an out-of-line strategy steps its copies.
type slotPlace interface {
	// acquire finds t a slot for p's copy, writes the copy there and sets
	// t.xolVaddr; ok is false when there is no slot.
	acquire(e *Engine, t *uprobeTask, p *probe) (ok bool, err error)
	// release gives t's slot back after its step.
	release(e *Engine, t *uprobeTask) error
}

// outOfLine steps a copy of the instruction at a place, never removing
// the int3.
type outOfLine struct {
	place slotPlace
	// waitForSlot: with no slot free, the thread sleeps until one is
	// (mainline's XOL area) instead of stepping in place (the repost).
	waitForSlot bool
	// emulate: run what the ops can emulate without a step (mainline,
	// emulate.go); the seed's strategy steps everything.
	emulate bool
}

func (o outOfLine) afterHandler(e *Engine, t *uprobeTask, p *probe, ev smp.TrapEvent) error {
	if o.emulate {
		t.active, t.vaddr = p, p.spec.Addr
		done, err := p.arch.ops.emulate(e, t)
		t.active = nil
		if err != nil {
			return err
		}
		if done {
			for _, q := range p.consumers() {
				q.emulated++
			}
			e.stats.Emulated++
			if t.savedTF {
				return errProgramTrap // arch_uprobe_skip_sstep
			}
			return nil
		}
	}
	if p.arch.ixol != nil {
		t.vaddr = p.spec.Addr
		ok, err := o.place.acquire(e, t, p)
		if err != nil {
			return err
		}
		if !ok && o.waitForSlot {
			return e.xolArea().sleep(e, t, p)
		}
		if ok {
			e.startStep(t, p, o, t.xolVaddr)
			if err := p.arch.ops.preXOL(e, t); err != nil {
				return err
			}
			if err := e.m.SetPC(t.xolVaddr); err != nil {
				return err
			}
			return e.m.SetTrapFlag(true)
		}
	}
	// No copy or no slot: the repost's last resort.
	e.stats.InlineFallback++
	return inlineStep{}.afterHandler(e, t, p, ev)
}

// singlestepped ends the step of the copy: the ops' fixups, the slot back,
// TF off. The #DB and the stepped copy are booked to the step phase.
func (o outOfLine) singlestepped(e *Engine, t *uprobeTask, ev smp.TrapEvent) error {
	p := t.active
	if err := p.arch.ops.postXOL(e, t); err != nil {
		return err
	}
	if err := o.place.release(e, t); err != nil {
		return err
	}
	p.cost.step += e.m.TrapCycles()<<8 + p.arch.ixolFP
	err := e.endStepTF(t)
	t.endStep()
	return err
}

// abortStep abandons the step of the copy: the ops' abort (the scratch
// register back), the ip at the probed instruction, the slot back.
func (o outOfLine) abortStep(e *Engine, t *uprobeTask, _ smp.TrapEvent) error {
	return errors.Join(t.active.arch.ops.abort(e, t), e.m.SetPC(t.vaddr), o.place.release(e, t))
}
