package probes

import (
	"fmt"

	"github.com/probesim/probesim/smp"
)

// An entry probe and a return probe on one address.
//
// Linux keeps one uprobe per (inode, offset) with a list of consumers
// (struct uprobe_consumer): perf or bpftrace asking for `func` and
// `func%return` (uprobe:BIN:func and uretprobe:BIN:func, the usual way to
// time a function) add two consumers to the same uprobe, and one int3
// serves both. handler_chain runs each consumer's handler at the hit, then,
// if any consumer has a return handler, prepare_uretprobe arms the return
// once (kernel/events/uprobes.c). probesim does the same with at most two
// consumers, one of each kind: the probe registered first owns the
// breakpoint and its strategy (the step, the window, the slot), the other
// rides on it (probe.also) and has its own counts, events and handler
// cost. Every execution of the address is an execution of both: a miss of
// the breakpoint (an inline window, an undone trap) is a miss of each, so
// hits + misses = executions holds for each probe.
//
// Both must be placed before the run, and neither can be removed while it
// runs: a shared breakpoint placed or removed mid-run would need Linux's
// consumer filtering (uprobe_apply) and is refused with a one-line error.

// share registers p, a new probe at the address of q (the probe placed
// there, if any), as a rider on q's breakpoint. Anything but one entry
// and one return probe is the address probed twice.
func (e *Engine) share(q, p *probe, cycle uint64) error {
	if q == nil || q.spec.Return == p.spec.Return || q.also != nil {
		return fmt.Errorf("probe %q: address %#x is probed twice", p.spec.Text, p.spec.Addr)
	}
	if cycle != 0 || q.life.attachAt != 0 {
		return fmt.Errorf("probe %q: an entry and a return probe share %#x only when both are placed before the run", p.spec.Text, p.spec.Addr)
	}
	q.also = p
	p.rider = true
	p.life.state = lifeInText
	e.all = append(e.all, p)
	return nil
}

// consumers are the probes a hit of p's breakpoint runs, entry probes
// first (handler_chain runs the handlers before prepare_uretprobe).
func (p *probe) consumers() []*probe {
	switch {
	case p.also == nil:
		return []*probe{p}
	case p.spec.Return:
		return []*probe{p.also, p}
	}
	return []*probe{p, p.also}
}

// missBreakpoint counts an execution of p's address that ran the original
// instruction: a miss of every consumer.
func (e *Engine) missBreakpoint(p *probe, cycle uint64, vcpu, tid int) {
	for _, q := range p.consumers() {
		e.miss(q, cycle, vcpu, tid)
	}
}

// consume runs q's part of a hit: an entry probe's hit and handler, or a
// return probe's arming (an entry that arms nothing is its return's miss).
func (e *Engine) consume(t *uprobeTask, q *probe, ev smp.TrapEvent) error {
	if q.spec.Return {
		armed, err := e.prepareUretprobe(t, q, ev)
		if err != nil {
			return err
		}
		if !armed {
			e.miss(q, ev.Cycle, ev.VCPU, ev.TID)
		}
		return nil
	}
	q.perCPU[ev.VCPU].Executions++
	q.perCPU[ev.VCPU].Hits++
	return e.logHit(q, ev, q.spec.Addr, 0)
}
