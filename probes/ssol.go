package probes

import (
	"encoding/binary"
	"fmt"

	"github.com/probesim/probesim/emu/loader"
	"github.com/probesim/probesim/mmu"
	"github.com/probesim/probesim/smp"
)

// Single-stepping out of line on the stack: the seed's proposal ([RFC 3/3],
// 2005) with the March 2006 repost's corrections.
//
// The int3 stays in the text. On a hit the instruction is copied to the
// bottom of the page that holds the trapping thread's stack pointer, below
// everything live: the copy must leave room for the instruction's own stack
// writes (8 bytes, as the repost requires, or more for push-like
// instructions) and, on x86-64, for the 128-byte red zone below sp, and it
// never crosses the page. The copy is a copy_to_user, as in the seed
// (smp.Machine.KernelCopyToUser: the bytes' cost, no shootdown). If that
// page has no room and it is the lowest page of a growsdown stack, the stack
// grows by one page within RLIMIT_STACK (find_extend_vma;
// smp.Machine.KernelExpandStack, costed as the page fault that populates
// the new page) and the copy goes to the new page. If the page is not
// executable (NX), the kernel makes it executable for the step and restores
// it afterwards, each a page-table update with a TLB shootdown. When no slot
// can be had, the hit falls back to inline stepping, and the fallback is
// counted. The slot state is per thread, so concurrent hits on several
// vCPUs never share a slot.
//
// When sp's page has no room, the fallbacks are the 2006 repost's, in
// order: a slot at the start of the VMA holding sp (its lowest bytes, the
// deepest and normally unused part of the stack), if that lies wholly below
// the room the instruction and the red zone need; then a page grown below a
// growsdown stack whose lowest page holds sp; then inline stepping. Unlike
// the repost, which held one global lock from int3 to the end of the step,
// hits on several vCPUs may be in flight at once, so a VMA-start slot that
// another thread's step is using (two stacks merged into one VMA, as
// glibc's guard-less thread stacks can be) is not shared: that hit takes
// the next fallback. Like the repost, the mechanism trusts that the memory
// below sp in a stack's VMA is free; a stack the program carved out of a
// larger mapping (a coroutine stack inside a heap block) breaks that trust,
// which is one reason mainline Linux uses a dedicated XOL page instead.
//
// After the #DB the ip is fixed as Linux's default fixup does (ip = original
// + (ip - copy)), except after ret and indirect jumps (the ip is absolute);
// call and indirect call get their pushed return address fixed, pushf gets TF
// cleared in the pushed flags (both stack writes are costed copies to
// user). A RIP-relative operand is rewritten to use a
// scratch register (riprel.go); when no rewrite is found the hit falls back
// to inline stepping (counted).

const (
	maxInsnSize = 16
	redZone64   = 128
)

// ssolStep is a thread's out-of-line step in progress.
type ssolStep struct {
	p       *probe
	slot    uint64
	page    uint64
	restore mmu.Prot // the page's protection before the step
	flipped bool     // NX was cleared for the step
	saved   uint64   // the scratch register's value before the step
}

// Stats counts what the out-of-line strategy had to do, and what the NX
// flips and stack expansions cost the trapping vCPUs (those cycles are also
// in the probes' overhead phases: step, fixups and shootdowns).
type Stats struct {
	NXFlips        uint64 `json:"nx_flips"`
	StackGrowths   uint64 `json:"stack_expansions"`
	StackStart     uint64 `json:"stack_start_slots"`
	InlineFallback uint64 `json:"inline_fallbacks"`
	// NXFlipCycles: clearing NX and restoring it, shootdowns included.
	NXFlipCycles uint64 `json:"nx_flip_cycles"`
	// StepAborts: steps abandoned because the stepped instruction
	// faulted (abort.go).
	StepAborts uint64 `json:"step_aborts"`
	// StackExpansionCycles: growing the stack by a page for a slot.
	StackExpansionCycles uint64 `json:"stack_expansion_cycles"`
	// XOLSlotsMaxInUse: the most XOL slots taken at once (xol, at most 31).
	XOLSlotsMaxInUse uint64 `json:"xol_slots_max_in_use"`
	// XOLMapCycles: mapping the XOL page on the first hit (xol).
	XOLMapCycles uint64 `json:"xol_map_cycles"`
}

func (e *Engine) wordSize() uint64 {
	if e.m.Image().Arch == loader.ArchI386 {
		return 4
	}
	return 8
}

// ssolSlot finds where the trapping thread's copy of p goes: the bottom of
// the page holding sp, else the start of sp's VMA, else the page below a
// growsdown stack whose lowest page holds sp (grow is that stack, which must
// first grow by a page). ok is false when there is no slot.
func (e *Engine) ssolSlot(p *probe) (slot, page uint64, where slotPlace, grow *mmu.VMA, ok bool) {
	sp := e.m.SP()
	below := uint64(8)
	if w := uint64(StackWriteBytes(p.spec.Insn, e.mode())); w > below {
		below = w
	}
	if e.wordSize() == 8 {
		below += redZone64
	}
	if sp < below {
		return 0, 0, 0, nil, false
	}
	free := sp - below // the highest byte a copy may end at, exclusive
	page = sp &^ (mmu.PageSize - 1)
	if free >= page+maxInsnSize {
		return page, page, slotSPPage, nil, true
	}
	v, found := e.m.AddressSpace().FindVMA(sp)
	if !found {
		return 0, 0, 0, nil, false
	}
	if v.Start+maxInsnSize <= free && !e.slotInUse(v.Start) {
		return v.Start, v.Start, slotStackStart, nil, true
	}
	if v.Flags&mmu.GrowsDown == 0 || v.Start != page || page < mmu.PageSize {
		return 0, 0, 0, nil, false
	}
	page -= mmu.PageSize
	return page, page, slotGrown, &v, true
}

// slotPlace says which of the repost's places a slot took.
type slotPlace int

const (
	slotSPPage     slotPlace = iota + 1 // the bottom of the page holding sp
	slotStackStart                      // the start of sp's VMA
	slotGrown                           // a page grown below the stack
)

// slotInUse reports whether another thread's out-of-line step in flight
// uses the slot at addr.
func (e *Engine) slotInUse(addr uint64) bool {
	for _, st := range e.ssol {
		if st.slot == addr {
			return true
		}
	}
	return false
}

func (e *Engine) mode() int {
	if e.wordSize() == 4 {
		return 32
	}
	return 64
}

// ssolHit starts an out-of-line step of p for the trapping thread. started
// is false when the hit must fall back to inline stepping.
func (e *Engine) ssolHit(p *probe, ev smp.TrapEvent) (started bool, err error) {
	if !p.copyOK {
		return false, nil
	}
	slot, page, where, grow, ok := e.ssolSlot(p)
	if !ok {
		return false, nil
	}
	if where == slotStackStart {
		e.stats.StackStart++
	}
	if grow != nil {
		c, err := e.m.KernelExpandStack(*grow, 1)
		if err != nil {
			// RLIMIT_STACK, the guard gap or the memory budget: no slot.
			return false, nil
		}
		p.cost.kernel(&p.cost.step, c)
		e.stats.StackGrowths++
		e.stats.StackExpansionCycles += c.Total()
	}
	prot, _ := e.m.AddressSpace().PageProt(page)
	st := &ssolStep{p: p, slot: slot, page: page, restore: prot}
	c, err := e.m.KernelCopyToUser(slot, p.copyBytes)
	if err != nil {
		return false, err
	}
	p.cost.kernel(&p.cost.step, c)
	if err := e.loadScratch(st); err != nil {
		return false, err
	}
	if prot&mmu.ProtExec == 0 {
		c, err := e.m.KernelProtectPageCost(page, prot|mmu.ProtExec)
		if err != nil {
			return false, err
		}
		p.cost.kernel(&p.cost.step, c)
		st.flipped = true
		e.stats.NXFlips++
		e.stats.NXFlipCycles += c.Total()
	}
	e.ssol[ev.TID] = st
	return e.m.SetPC(slot) == nil && e.m.SetTrapFlag(true) == nil, nil
}

// loadScratch saves the scratch register of a RIP-relative copy in st and
// loads it with the address after the original instruction (riprel.go).
func (e *Engine) loadScratch(st *ssolStep) error {
	p := st.p
	if p.scratch == 0 {
		return nil
	}
	saved, err := e.m.Reg(p.scratch)
	if err != nil {
		return err
	}
	st.saved = saved
	return e.m.SetReg(p.scratch, p.spec.Addr+uint64(p.spec.Len))
}

// ssolDone finishes the step after its #DB: the fixups, then NX back.
func (e *Engine) ssolDone(st *ssolStep) error {
	p := st.p
	ip := e.m.PC()
	orig, length := p.spec.Addr, uint64(p.spec.Len)
	switch p.spec.Class {
	case ClassRet, ClassIndirectJump:
		// The ip is where the instruction sent it.
	case ClassIndirectCall:
		if err := e.fixReturnAddress(p, st.slot+length, orig+length); err != nil {
			return err
		}
	case ClassRelCall:
		if err := e.fixReturnAddress(p, st.slot+length, orig+length); err != nil {
			return err
		}
		ip = orig + (ip - st.slot)
	case ClassPushf:
		if err := e.clearPushedTF(p); err != nil {
			return err
		}
		ip = orig + (ip - st.slot)
	default:
		ip = orig + (ip - st.slot)
	}
	if err := e.m.SetPC(ip); err != nil {
		return err
	}
	if p.scratch != 0 {
		if err := e.m.SetReg(p.scratch, st.saved); err != nil {
			return err
		}
	}
	if st.flipped {
		c, err := e.m.KernelProtectPageCost(st.page, st.restore)
		if err != nil {
			return err
		}
		p.cost.kernel(&p.cost.fixups, c)
		e.stats.NXFlipCycles += c.Total()
	}
	return e.m.SetTrapFlag(false)
}

// fixReturnAddress replaces the return address a stepped call pushed, with
// a costed copy to the user stack.
func (e *Engine) fixReturnAddress(p *probe, pushed, want uint64) error {
	sp := e.m.SP()
	n := e.wordSize()
	b := make([]byte, n)
	if err := e.m.AddressSpace().Read(sp, b); err != nil {
		return err
	}
	got := uint64(binary.LittleEndian.Uint32(b))
	if n == 8 {
		got = binary.LittleEndian.Uint64(b)
	}
	if got != pushed {
		return fmt.Errorf("out-of-line call: return address %#x on the stack, expected %#x", got, pushed)
	}
	if n == 8 {
		binary.LittleEndian.PutUint64(b, want)
	} else {
		binary.LittleEndian.PutUint32(b, uint32(want))
	}
	c, err := e.m.KernelCopyToUser(sp, b)
	p.cost.kernel(&p.cost.fixups, c)
	return err
}

// clearPushedTF clears TF in the flags a stepped pushf stored, with a
// costed copy to the user stack.
func (e *Engine) clearPushedTF(p *probe) error {
	sp := e.m.SP()
	var b [2]byte
	if err := e.m.AddressSpace().Read(sp, b[:]); err != nil {
		return err
	}
	b[1] &^= 1 // TF is bit 8
	c, err := e.m.KernelCopyToUser(sp, b[:])
	p.cost.kernel(&p.cost.fixups, c)
	return err
}
