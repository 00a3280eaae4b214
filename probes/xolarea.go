package probes

import (
	"math/bits"

	"github.com/probesim/probesim/mmu"
)

// Single-stepping out of line in the XOL area: what mainline Linux uprobes
// do since 3.5 (kernel/events/uprobes.c xol_area, xol_get_insn_slot,
// xol_free_insn_slot; arch/x86/kernel/uprobes.c).
//
// What Linux emulates without a step (nops, jmp and call rel, jcc, push
// reg) is emulated here too (emulate.go): no slot, no copy, no #DB. For the
// rest, the int3 stays in the text. On the process's first hit the kernel maps
// one page for it, "[uprobes]" in /proc/self/maps, as xol_add_vma does:
// _install_special_mapping of a VM_EXEC page (not readable by the VMA's
// flags, so "--xp"; x86 page tables make it readable anyway), at
// get_unmapped_area's answer to the hint TASK_SIZE - PAGE_SIZE (the hint
// when free, else top-down below mmap_base). The mapping is costed once
// (smp.Machine.KernelMapSpecialPage) and booked to that hit's step phase;
// it needs no shootdown.
//
// The page is cut into 128-byte slots (UPROBE_XOL_SLOT_BYTES): 32, of which
// slot 0 holds the return-probe trampoline, so 31 threads can step at once.
// A hit takes the lowest free slot (find_first_zero_bit on the area's
// bitmap), the kernel writes the instruction's copy into it through its own
// mapping of the page (copy_to_page; smp.Machine.KernelCopyToPage: the
// bytes, no copy-on-write, no shootdown, no NX flip: the page is
// executable and the process cannot write it), the thread steps the copy
// with TF set, and the slot is freed after the #DB. The fixups are
// ssol-stack's (defaultOps.postXOL): the default ip fix, a call's pushed return
// address, TF in pushed flags, and the RIP-relative scratch rewrite
// (riprel.go) that Linux's riprel_analyze also uses. A slot holds no stack
// data, so there is no red-zone or stack-room concern.
//
// When all 31 slots are taken, the hit sleeps until one is freed, as
// xol_get_insn_slot does (wait_event on the area's wait queue): its
// handler has run, the thread blocks in the kernel (smp.Machine.
// SleepInKernel: its vCPU runs another thread or idles), and the #DB that
// frees a slot wakes the thread that has waited longest
// (smp.Machine.WakeFromKernel at that cycle). No hit is lost and none is
// stepped in place; Stats.XOLSlotWaits counts the waits and
// XOLSlotWaitCycles the cycles from each sleep to its wake-up.
//
// Deviations from Linux:
//
//   - wake_up wakes every waiter, and they race for the slot; here the
//     longest-waiting one is woken, so only one thread pays the wake-up.
//     The woken thread comes back by trapping at the probe again: that
//     trap is no new exception (smp.Machine.ResumedTrap: not charged), but
//     the int3's block is charged as the engine runs it, a few cycles
//     Linux does not spend;
//   - a RIP-relative copy that cannot be rewritten is stepped in place
//     (counted, Stats.InlineFallback), where Linux would refuse the probe;
//     with the rewrite exact for every opcode map (riprel.go), the
//     differential test finds none;
//   - Linux copies the whole 16-byte ixol buffer into the slot
//     (arch_uprobe_copy_ixol); here the instruction's own bytes are copied,
//     as ssol-stack copies them, so the two strategies' copies are priced on
//     the same bytes (kernel.kernel_write_byte each);
//   - the area is not inherited across fork (VM_DONTCOPY) and never
//     unmapped before exit, as in Linux; probesim has no fork, so the
//     first is moot.

const (
	xolSlotBytes = 128 // UPROBE_XOL_SLOT_BYTES
	xolSlots     = mmu.PageSize / xolSlotBytes
	// xolName is the area's name in /proc/self/maps.
	xolName = "[uprobes]"
)

// xolArea is the process's XOL page and its slot bitmap.
type xolArea struct {
	base uint64 // the page's address; 0 until the first hit maps it
	used uint32 // bit i: slot i is taken; bit 0 (the trampoline) always
	// trampolineSet: slot 0 holds the return-probe trampoline's int3
	// (uretprobe.go).
	trampolineSet bool
	// waiters are the threads asleep for a slot, in the order they slept,
	// with the cycle each fell asleep at (the area's wait queue).
	waiters []slotWaiter
}

// xolArea is the XOL area of the address space the trapping thread runs
// in: each process has its own (xol_get_area, per mm), made on its first
// hit; a forked child does not inherit the parent's, whose [uprobes]
// page is VM_DONTCOPY.
func (e *Engine) xolArea() *xolArea {
	mm := e.m.CurrentMM()
	a := e.xols[mm]
	if a == nil {
		a = &xolArea{}
		e.xols[mm] = a
	}
	return a
}

// xolPlace is the xol strategy's slotPlace: the running process's area.
type xolPlace struct{}

func (xolPlace) acquire(e *Engine, t *uprobeTask, p *probe) (bool, error) {
	return e.xolArea().acquire(e, t, p)
}

func (xolPlace) release(e *Engine, t *uprobeTask) error { return e.xolArea().release(e, t) }

// slotWaiter is a thread asleep for a slot.
type slotWaiter struct {
	tid   int
	since uint64
}

// sleep puts t to sleep until a slot is free (xol_get_insn_slot's
// wait_event): the ip stays at the probe, so the thread's next trap there,
// once woken, resumes the hit (Engine.onTrap).
func (a *xolArea) sleep(e *Engine, t *uprobeTask, p *probe) error {
	t.state, t.active = utaskWaitSlot, p
	a.waiters = append(a.waiters, slotWaiter{tid: t.tid, since: e.m.ClockFP() >> 8})
	e.stats.XOLSlotWaits++
	e.m.SleepInKernel()
	return e.m.SetPC(p.spec.Addr)
}

// ensure maps the area on the process's first need of it (xol_add_vma),
// booking the mapping to p's step phase.
func (a *xolArea) ensure(e *Engine, p *probe) error {
	if a.base != 0 {
		return nil
	}
	hint := e.m.CurrentMM().Config().TaskSize - mmu.PageSize
	base, c, err := e.m.KernelMapSpecialPage(hint, mmu.ProtExec, xolName)
	if err != nil {
		return err
	}
	p.cost.kernel(&p.cost.step, c)
	*a = xolArea{base: base, used: 1}
	e.stats.XOLMapCycles += c.Total()
	return nil
}

// inUse is the number of slots threads hold now (the trampoline's aside).
func (a *xolArea) inUse() uint64 { return uint64(bits.OnesCount32(a.used &^ 1)) }

// take returns the lowest free slot's address; ok is false when every slot
// is taken.
func (a *xolArea) take() (addr uint64, ok bool) {
	for i := uint64(1); i < xolSlots; i++ {
		if a.used&(1<<i) == 0 {
			a.used |= 1 << i
			return a.base + i*xolSlotBytes, true
		}
	}
	return 0, false
}

// free releases the slot at addr.
func (a *xolArea) free(addr uint64) {
	a.used &^= 1 << ((addr - a.base) / xolSlotBytes)
}

// acquire takes t the lowest free slot for p's copy and writes the copy
// into it, mapping the area first on the process's first hit.
func (a *xolArea) acquire(e *Engine, t *uprobeTask, p *probe) (bool, error) {
	if err := a.ensure(e, p); err != nil {
		return false, err
	}
	slot, ok := a.take()
	if !ok {
		return false, nil
	}
	e.stats.XOLSlotsMaxInUse = max(e.stats.XOLSlotsMaxInUse, a.inUse())
	c, err := e.m.KernelCopyToPage(slot, p.arch.ixol)
	if err != nil {
		a.free(slot)
		return false, err
	}
	p.cost.kernel(&p.cost.step, c)
	t.xolVaddr = slot
	return true, nil
}

// release frees t's slot (xol_free_insn_slot) and wakes the thread that
// has waited longest for one, if any.
func (a *xolArea) release(e *Engine, t *uprobeTask) error {
	a.free(t.xolVaddr)
	for len(a.waiters) > 0 {
		w := a.waiters[0]
		a.waiters = a.waiters[1:]
		if e.m.WakeFromKernel(w.tid) {
			e.stats.XOLSlotWaitCycles += e.m.ClockFP()>>8 - w.since
			return nil
		}
	}
	return nil
}
