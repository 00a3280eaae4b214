package probes

import (
	"bytes"
	"fmt"

	"github.com/probesim/probesim/smp"
)

// Probes placed and removed while the program runs.
//
// Linux registers a uprobe from another process (perf, bpftrace):
// uprobe_register writes int3 into the probed text (install_breakpoint,
// set_swbp), and uprobe_unregister writes the original byte back
// (remove_breakpoint, set_orig_insn). AttachAt and DetachAt do the same at
// a cycle of global time (smp.Machine.At): the text write is made by a CPU
// outside the machine, so every running vCPU takes the shootdown's IPI and
// the cross-modifying-code serialisation, and no vCPU pays for the write
// itself (smp.Machine.KernelWriteCost). A probe's executions are counted
// only while it is in the text, so hits + misses = executions holds for
// its lifetime.
//
// Removing a probe races with hits in flight. A thread that executed the
// int3 before the removal, but reaches the kernel's lookup of the probe
// after it, finds no probe and, the byte being the original again,
// restarts the instruction (handle_swbp in kernel/events/uprobes.c:
// find_active_uprobe finds nothing and is_swbp_at_addr is false, so the
// ip goes back to the probe address): the hit is lost, a spurious trap.
// probesim places the lookup halfway through the trap's exception cost
// (kernel.exception_entry_exit is entry and exit together, which are not
// measured apart): an int3 executed within that time before its probe's
// scheduled removal is a spurious miss (Miss.Spurious, event
// spurious_miss), charged as the exception it was and booked to the trap
// phase. The thread resumes at the probe address after the removal (its
// exception return is later than the lookup) and runs the original
// instruction. An int3 whose ordered turn comes after the removal finds
// the original byte, as one in an inline window does (undoBreakpoint): at
// that cycle the thread runs the original instruction, the trap is undone,
// and no probe counts it.
//
// A thread stepping the probe when it is removed finishes its step, as
// Linux keeps a uprobe alive until its last user is done with it; an
// inline window open at the removal closes then, and the step's end
// writes no int3.

// lifeState is where a probe is in its life.
type lifeState uint8

const (
	lifePending lifeState = iota // scheduled, not yet in the text
	lifeInText                   // int3 is (or, in an inline window, stands for) the first byte
	lifeRemoved                  // removed: the original byte is back for good
)

// lifetime is when a probe is in the text.
type lifetime struct {
	state lifeState
	// attachAt and detachAt are the scheduled cycles; 0 for placed
	// before the run, and for never removed.
	attachAt, detachAt uint64
}

// plannedChange is a scheduled attach or detach at one address.
type plannedChange struct {
	cycle  uint64
	attach bool
}

// AttachAt registers spec and places it at cycle of global time: at once
// for cycle 0, which must be before the machine runs. The changes at one
// address must be scheduled in cycle order, each attach after the
// address's previous probe (if any) was detached: one probe per address at
// a time, as in Linux.
func (e *Engine) AttachAt(cycle uint64, spec Spec) error {
	if spec.File != nil {
		return e.attachFileAt(cycle, spec)
	}
	plan := e.plans[spec.Addr]
	p := &probe{spec: spec, index: uint32(len(e.all)), perCPU: make([]CPUCounts, e.m.CPUs()),
		life: lifetime{attachAt: cycle}}
	for i := range p.perCPU {
		p.perCPU[i].VCPU = i
	}
	if n := len(plan); n > 0 {
		last := plan[n-1]
		switch {
		case last.attach:
			if err := e.share(e.placedAt(spec.Addr), p, cycle); err != nil {
				return err
			}
			e.followProgramFile(p)
			return e.err
		case cycle < last.cycle:
			return fmt.Errorf("probe %q: placed at cycle %d, before the probe at %#x is removed at %d", spec.Text, cycle, spec.Addr, last.cycle)
		}
	}
	p.arch = analyze(spec, e.m, e.mode(), e.name != Inline)
	e.plans[spec.Addr] = append(plan, plannedChange{cycle: cycle, attach: true})
	e.all = append(e.all, p)
	if cycle == 0 {
		if err := e.install(p); err != nil {
			return err
		}
		e.followProgramFile(p)
		return e.err
	}
	e.m.At(cycle, func() {
		if err := e.install(p); err != nil {
			e.fail(err)
		}
		e.followProgramFile(p)
	})
	return nil
}

// attachFileAt registers a probe on a file, placed at cycle: at once for
// 0, else at that cycle of global time, when the file's mappings then are
// armed (register_for_each_vma) and the later ones as they come.
func (e *Engine) attachFileAt(cycle uint64, spec Spec) error {
	p := e.registerFile(spec, cycle)
	if cycle == 0 {
		p.life.state = lifeInText
		e.files.armExisting(p)
		return e.err
	}
	e.m.At(cycle, func() {
		p.life.state = lifeInText
		e.files.armExisting(p)
	})
	return nil
}

// DetachAt removes, at cycle of global time (after 0), the probe that is
// placed at addr then.
func (e *Engine) DetachAt(cycle uint64, addr uint64) error {
	plan := e.plans[addr]
	n := len(plan)
	if n == 0 || !plan[n-1].attach {
		return fmt.Errorf("detach at cycle %d: no probe is placed at %#x then", cycle, addr)
	}
	if cycle <= plan[n-1].cycle {
		return fmt.Errorf("detach at cycle %d: the probe at %#x is placed at cycle %d", cycle, addr, plan[n-1].cycle)
	}
	p := e.placedAt(addr)
	if p.also != nil {
		return fmt.Errorf("detach at cycle %d: an entry and a return probe share %#x; they cannot be removed while the program runs", cycle, addr)
	}
	p.life.detachAt = cycle
	e.plans[addr] = append(plan, plannedChange{cycle: cycle})
	e.m.At(cycle, func() {
		if err := e.remove(p, cycle); err != nil {
			e.fail(err)
		}
		if p.file != nil {
			// uprobe_unregister removes the breakpoint from every
			// mapping of the file.
			for _, q := range p.file.instances {
				if q.life.state == lifeInText {
					q.life.detachAt = cycle
					if err := e.remove(q, cycle); err != nil {
						e.fail(err)
					}
				}
			}
		}
	})
	return nil
}

// placedAt is the probe that owns the breakpoint placed (or scheduled) at
// addr with no removal scheduled, or nil.
func (e *Engine) placedAt(addr uint64) *probe {
	var p *probe
	for _, q := range e.all {
		if q.spec.Addr == addr && !q.rider && q.life.state != lifeRemoved && q.life.detachAt == 0 {
			p = q
		}
	}
	return p
}

// install writes p's int3.
func (e *Engine) install(p *probe) error {
	if err := e.m.KernelWrite(p.spec.Addr, []byte{int3}); err != nil {
		return fmt.Errorf("probe %q: %w", p.spec.Text, err)
	}
	p.life.state = lifeInText
	e.probes[p.spec.Addr] = p
	return nil
}

// remove writes p's original byte back (unless an inline window has it
// there already, which closes now) at cycle.
func (e *Engine) remove(p *probe, cycle uint64) error {
	delete(e.probes, p.spec.Addr)
	e.gone[p.spec.Addr] = p
	p.life.state = lifeRemoved
	orig := p.spec.Bytes[:len(p.arch.window)]
	if p.open != nil {
		e.closeWindow(p, cycle, -1, 0)
		if bytes.Equal(p.arch.window, orig) {
			return nil // the window's byte is the original
		}
	}
	if err := e.m.KernelWrite(p.spec.Addr, orig); err != nil {
		return fmt.Errorf("probe %q: %w", p.spec.Text, err)
	}
	return nil
}

// fail records an error of scheduled work, which has no caller to return
// it to: it is Err's answer after the run.
func (e *Engine) fail(err error) {
	if e.err == nil {
		e.err = err
	}
}

// Err is the first error of a scheduled attach or detach, or nil.
func (e *Engine) Err() error { return e.err }

// racesRemoval reports whether the kernel's lookup for an int3 of p
// executed at ev.Cycle comes after p's scheduled removal: the lookup is
// halfway through the exception (see above).
func (e *Engine) racesRemoval(p *probe, ev smp.TrapEvent) bool {
	d := p.life.detachAt
	return d != 0 && ev.Cycle < d && d <= ev.Cycle+e.m.TrapCycles()/2
}

// spuriousTrap handles an int3 of p whose lookup finds p gone and the
// original byte back: the thread restarts the instruction, and the
// execution is a spurious miss that cost the exception.
func (e *Engine) spuriousTrap(p *probe, ev smp.TrapEvent) bool {
	c := &p.perCPU[ev.VCPU]
	c.Executions++
	c.Misses++
	p.misses = append(p.misses, Miss{Cycle: ev.Cycle, VCPU: ev.VCPU, TID: ev.TID, Spurious: true})
	e.log(kindSpuriousMiss, p, ev.Cycle, ev.VCPU, ev.TID)
	p.cost.trap += e.m.TrapCycles() << 8
	return e.m.SetPC(p.spec.Addr) == nil
}
