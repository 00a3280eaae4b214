package probes

import "github.com/probesim/probesim/smp"

// Stepping in place: the seed's first patch.
//
// The original byte goes back into the text, the thread steps the
// instruction in place with TF set, and int3 is written again after the
// #DB. While the byte is back (a window), other vCPUs run through the
// probe without trapping: those executions are misses, seen by watching
// the address at block granularity only while the window is open
// (onExecute).

// inlineStep is the inline strategy, and the out-of-line strategies'
// fallback.
type inlineStep struct{}

func (inlineStep) afterHandler(e *Engine, t *uprobeTask, p *probe, ev smp.TrapEvent) error {
	c, err := e.m.KernelWriteCost(p.spec.Addr, p.arch.window)
	if err != nil {
		return err
	}
	p.cost.kernel(&p.cost.step, c)
	if err := e.openWindow(p, ev.Cycle, ev.VCPU, ev.TID); err != nil {
		return err
	}
	e.startStep(t, p, inlineStep{}, p.spec.Addr)
	if err := e.m.SetPC(p.spec.Addr); err != nil {
		return err
	}
	return e.m.SetTrapFlag(true)
}

// singlestepped ends an in-place step after its #DB: int3 goes back.
func (inlineStep) singlestepped(e *Engine, t *uprobeTask, ev smp.TrapEvent) error {
	p := t.active
	if p.arch.fixups&fixPushfTF != 0 && !t.savedTF {
		// The in-place step pushed the TF set for it, as the out-of-line
		// one does.
		if err := e.clearPushedTF(p); err != nil {
			return err
		}
	}
	if p.life.state != lifeRemoved { // else the removal closed the window
		c, err := e.m.KernelWriteCost(p.spec.Addr, []byte{int3})
		if err != nil {
			return err
		}
		p.cost.kernel(&p.cost.step, c)
		e.closeWindow(p, ev.Cycle, ev.VCPU, ev.TID)
	}
	p.cost.step += e.m.TrapCycles()<<8 + p.arch.inPlaceFP
	err := e.endStepTF(t)
	t.endStep()
	return err
}

// abortStep abandons an in-place step whose instruction faulted: int3 goes
// back, the window closes, the ip stays at the probed instruction.
func (inlineStep) abortStep(e *Engine, t *uprobeTask, ev smp.TrapEvent) error {
	p := t.active
	if p.life.state != lifeRemoved {
		c, err := e.m.KernelWriteCost(p.spec.Addr, []byte{int3})
		if err != nil {
			return err
		}
		p.cost.kernel(&p.cost.step, c)
		e.closeWindow(p, ev.Cycle, ev.VCPU, ev.TID)
	}
	return e.m.SetPC(t.vaddr)
}

// onExecute runs, in cycle order, before every execution of a probed
// instruction while its address is watched (an inline window is open).
func (e *Engine) onExecute(p *probe, ev smp.WatchEvent) {
	if t := e.tasks[ev.TID]; t != nil {
		if t.state == utaskSStep && t.active == p {
			return // the kernel's own step of the original instruction
		}
		if t.restarted == p {
			t.restarted = nil
			return // counted when its trap was undone
		}
	}
	if e.byteAt(p.spec.Addr) != int3 {
		// The original byte is back: the instruction runs without a trap.
		e.missBreakpoint(p, ev.Cycle, ev.VCPU, ev.TID)
		return
	}
	// int3 is back (the window closed in this very event's cycle): the
	// trap that follows counts the execution.
}

// openWindow records that p's original byte is back in the text, put there
// by tid on vcpu at cycle, and starts watching p's address.
func (e *Engine) openWindow(p *probe, cycle uint64, vcpu, tid int) error {
	p.open = &Window{Start: cycle, VCPU: vcpu, TID: tid}
	e.log(kindWindowOpen, p, cycle, vcpu, tid)
	return e.m.WatchBlocks(p.spec.Addr, func(ev smp.WatchEvent) { e.onExecute(p, ev) })
}

// closeWindow records that int3 is back at p and stops watching it.
func (e *Engine) closeWindow(p *probe, cycle uint64, vcpu, tid int) {
	if w := p.open; w != nil {
		w.End = cycle
		p.windows = append(p.windows, *w)
		e.log(kindWindowClose, p, cycle, vcpu, tid)
		p.open = nil
	}
	e.m.UnwatchBlocks(p.spec.Addr)
}
