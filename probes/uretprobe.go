package probes

import (
	"encoding/binary"
	"fmt"

	"github.com/probesim/probesim/smp"
)

// Return probes, as Linux's uretprobes (kernel/events/uprobes.c:
// prepare_uretprobe, uprobe_handle_trampoline, cleanup_return_instances;
// arch/x86/kernel/uprobes.c: arch_uretprobe_hijack_return_addr,
// arch_uretprobe_is_alive).
//
// A return probe (SPEC%return) is an int3 at a function's first
// instruction like any probe, but what runs there is not a handler: the
// entry hit replaces the return address at sp with the address of the
// trampoline, an int3 in slot 0 of the XOL page (mapped then if it is not
// yet, whatever the strategy: the 2005 seed had no return probes, so every
// strategy uses mainline's trampoline), and pushes a return instance (the
// function, sp, the original return address) on the thread's stack of
// them; the entry instruction then runs as the strategy runs any probed
// instruction. When the function returns, it returns to the trampoline:
// that int3 pops the instance, runs the handler with the thread's
// registers at the return (AX is the return value, IP the original return
// address: Hit.Return, Hit.Func) and sends the thread to the original
// return address.
//
// As in Linux:
//
//   - at most MAX_URETPROBE_DEPTH (64) instances per thread: a deeper entry
//     arms nothing ("omit uretprobe due to nestedness limit"), and its
//     return is missed (ReturnsDepthLimited);
//   - an entry whose return address already is the trampoline is a tail
//     call from a probed function (or recursion through one): the instance
//     is chained, keeps the original return address of the first caller,
//     and the one trampoline hit returns all the chain's instances, each
//     with its handler;
//   - instances whose frames are gone (a longjmp or an exception unwound
//     past them) are dropped by comparing stack pointers: at an entry, those
//     below sp (arch_uretprobe_is_alive, RP_CHECK_CALL; RP_CHECK_CHAIN_CALL
//     for a chained one), and at a return, a chain whose next chain is below
//     sp is dropped without its handlers (RP_CHECK_RET). Dropped instances
//     are no returns: ReturnsDropped counts them;
//   - a new thread starts with no instances (uprobe_copy_process copies
//     them only to a forked child; probesim has no fork).
//
// Counts. A return probe's executions are the returns of the calls made
// while it is in the text: every return through the trampoline is a hit,
// and an entry that armed nothing (missed in an inline window, or past
// the depth limit) is a miss, counted when the entry runs, on the
// assumption that the call returns (it may instead be unwound, which
// nothing sees). So hits + misses = executions, and, without unwinding,
// executions are the function's returns (TestReturnProbes checks that
// against a watch on its ret). A return after the probe was removed runs
// no handler and is a miss.
//
// Costs. The entry costs its trap and step as any hit, plus the hijack
// (copy_to_user of the trampoline's address, in the handler phase); the
// return costs its trap (the trampoline's int3) and the handler. No step.
//
// As on Linux, a return probe is not safe in a Go program: when the Go
// runtime copies a goroutine's stack it walks the frames, finds the
// trampoline's address in place of a return address and throws
// "unexpected return pc" (TestReturnProbeOnAGoFunctionCrashesAsOnLinux; a
// real uretprobe on the same binary dies the same way). probesim models
// the mechanism, not a fix of it.
//
// Deviations from Linux: a trampoline int3 with no instance, which Linux
// answers with SIGILL, is a SIGTRAP here (the trap handler can only
// decline); Linux's x86-64 trampoline is a uretprobe syscall since 6.11,
// probesim's the int3 that 32-bit processes still get.

// maxURetprobeDepth is MAX_URETPROBE_DEPTH (include/linux/uprobes.h).
const maxURetprobeDepth = 64

// returnInstance is one armed return (struct return_instance).
type returnInstance struct {
	p       *probe
	fn      uint64 // the function (ri->func)
	stack   uint64 // sp at the entry, where the return address is (ri->stack)
	origRet uint64 // the return address the trampoline's replaced
	chained bool
}

// returnStats are a return probe's counts besides hits and misses.
type returnStats struct {
	dropped, depthLimited uint64
}

// trampoline is the trampoline's address, mapping the XOL page and writing
// the trampoline's int3 into slot 0 first if needed (get_xol_area; Linux
// writes slot 0 when it creates the area, probesim only once a return
// probe needs it).
func (e *Engine) trampoline(p *probe) (uint64, error) {
	a := e.xolArea()
	if err := a.ensure(e, p); err != nil {
		return 0, err
	}
	if !a.trampolineSet {
		c, err := e.m.KernelCopyToPage(a.base, []byte{int3})
		if err != nil {
			return 0, err
		}
		p.cost.kernel(&p.cost.handler, c)
		a.trampolineSet = true
	}
	return a.base, nil
}

// prepareUretprobe arms p's return for the thread t that hit its entry
// (prepare_uretprobe). It reports false when nothing was armed, which
// makes the return a miss.
func (e *Engine) prepareUretprobe(t *uprobeTask, p *probe, ev smp.TrapEvent) (bool, error) {
	if len(t.returns) >= maxURetprobeDepth {
		p.ret.depthLimited++
		return false, nil
	}
	tramp, err := e.trampoline(p)
	if err != nil {
		return false, err
	}
	sp := e.m.SP()
	n := e.wordSize()
	var b [8]byte
	if err := e.m.CurrentMM().Read(sp, b[:n]); err != nil {
		return false, nil // Linux: the hijack fails, nothing is armed
	}
	orig := binary.LittleEndian.Uint64(b[:])
	if n == 4 {
		orig = uint64(binary.LittleEndian.Uint32(b[:]))
	}
	chained := orig == tramp
	e.cleanupReturns(t, chained, sp)
	if chained {
		if len(t.returns) == 0 {
			return false, fmt.Errorf("return probe %q: a return to the trampoline with no instance (handle tail call)", p.spec.Text)
		}
		orig = t.returns[len(t.returns)-1].origRet
	} else {
		binary.LittleEndian.PutUint64(b[:], tramp)
		c, err := e.m.KernelCopyToUser(sp, b[:n])
		if err != nil {
			return false, nil
		}
		p.cost.kernel(&p.cost.handler, c)
	}
	t.returns = append(t.returns, returnInstance{p: p, fn: p.spec.Addr, stack: sp, origRet: orig, chained: chained})
	return true, nil
}

// cleanupReturns drops t's instances whose frames are gone at an entry
// with stack pointer sp (cleanup_return_instances).
func (e *Engine) cleanupReturns(t *uprobeTask, chained bool, sp uint64) {
	for len(t.returns) > 0 {
		ri := t.returns[len(t.returns)-1]
		alive := sp < ri.stack // RP_CHECK_CALL: the call just pushed below it
		if chained {
			alive = sp <= ri.stack // RP_CHECK_CHAIN_CALL
		}
		if alive {
			return
		}
		e.dropReturn(t, ri)
	}
}

// dropReturn pops t's top instance ri without its handler: its frame is
// gone.
func (e *Engine) dropReturn(t *uprobeTask, ri returnInstance) {
	t.returns = t.returns[:len(t.returns)-1]
	ri.p.ret.dropped++
}

// onTrampoline handles the trampoline's int3: the thread returned from a
// function with a return probe (uprobe_handle_trampoline).
func (e *Engine) onTrampoline(ev smp.TrapEvent) bool {
	t := e.tasks[ev.TID]
	if t == nil || len(t.returns) == 0 {
		return false
	}
	sp := e.m.SP()
	first := t.returns[len(t.returns)-1].p
	for {
		top := len(t.returns) - 1
		// The chain is the top instance and the chained ones below it
		// down to the first unchained one; the next chain follows.
		end := top
		for end > 0 && t.returns[end].chained {
			end--
		}
		valid := end == 0 || sp <= t.returns[end-1].stack // RP_CHECK_RET
		ret := t.returns[top].origRet
		if err := e.m.SetPC(ret); err != nil {
			return false
		}
		for i := top; i >= end; i-- {
			ri := t.returns[i]
			t.returns = t.returns[:i]
			if !valid {
				ri.p.ret.dropped++
				continue
			}
			if err := e.returnHit(ri, ret, ev); err != nil {
				e.fail(err)
				return false
			}
		}
		if valid || len(t.returns) == 0 {
			break
		}
	}
	first.cost.trap += e.m.TrapCycles() << 8
	return true
}

// returnHit counts ri's return and runs its handler with the registers at
// the return (ip the original return address).
func (e *Engine) returnHit(ri returnInstance, ret uint64, ev smp.TrapEvent) error {
	p := ri.p
	if p.life.state == lifeRemoved {
		e.miss(p, ev.Cycle, ev.VCPU, ev.TID) // the consumer is gone: no handler
		return nil
	}
	c := &p.perCPU[ev.VCPU]
	c.Executions++
	c.Hits++
	return e.logHit(p, ev, ret, ri.fn)
}
