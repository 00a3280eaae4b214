package probes

import "github.com/probesim/probesim/mmu"

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
// it afterwards, each a page-table update with a TLB shootdown. A page the
// program cannot write (sp pointed into its code or read-only data) is no
// place for a slot: copy_to_user would fail there, so the next place is
// tried. When no slot can be had, the hit falls back to inline stepping,
// and the fallback is counted. The slot state is per thread, so concurrent hits on several
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

// stackPlace is ssol-stack's place: slots below sp on the thread's own
// stack. inFlight counts the steps in flight per slot address, so that a
// VMA-start slot is never shared.
type stackPlace struct {
	inFlight map[uint64]int
}

// acquire finds t's slot for p (stackSlot), grows the stack for it if
// that is where it is, copies the instruction there with copy_to_user
// and clears NX on its page if needed.
func (s *stackPlace) acquire(e *Engine, t *uprobeTask, p *probe) (bool, error) {
	slot, page, where, grow, ok := s.slot(e, p)
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
	prot, _ := e.m.CurrentMM().PageProt(page)
	c, err := e.m.KernelCopyToUser(slot, p.arch.ixol)
	if err != nil {
		return false, err
	}
	p.cost.kernel(&p.cost.step, c)
	t.xolVaddr, t.slotPage, t.slotRestore, t.slotFlipped = slot, page, prot, false
	if prot&mmu.ProtExec == 0 {
		c, err := e.m.KernelProtectPageCost(page, prot|mmu.ProtExec)
		if err != nil {
			return false, err
		}
		p.cost.kernel(&p.cost.step, c)
		t.slotFlipped = true
		e.stats.NXFlips++
		e.stats.NXFlipCycles += c.Total()
	}
	s.inFlight[slot]++
	return true, nil
}

// release restores the page's protection if NX was cleared for the step.
func (s *stackPlace) release(e *Engine, t *uprobeTask) error {
	if n := s.inFlight[t.xolVaddr]; n > 1 {
		s.inFlight[t.xolVaddr] = n - 1
	} else {
		delete(s.inFlight, t.xolVaddr)
	}
	if !t.slotFlipped {
		return nil
	}
	c, err := e.m.KernelProtectPageCost(t.slotPage, t.slotRestore)
	if err != nil {
		return err
	}
	t.active.cost.kernel(&t.active.cost.fixups, c)
	e.stats.NXFlipCycles += c.Total()
	return nil
}

// slot finds where the trapping thread's copy of p goes: the bottom of the
// page holding sp, else the start of sp's VMA, else the page below a
// growsdown stack whose lowest page holds sp (grow is that stack, which
// must first grow by a page). ok is false when there is no slot.
func (s *stackPlace) slot(e *Engine, p *probe) (slot, page uint64, where stackSlotKind, grow *mmu.VMA, ok bool) {
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
	as := e.m.CurrentMM()
	if free >= page+maxInsnSize && writable(as, page) {
		return page, page, slotSPPage, nil, true
	}
	v, found := as.FindVMA(sp)
	if !found {
		return 0, 0, 0, nil, false
	}
	if v.Start+maxInsnSize <= free && s.inFlight[v.Start] == 0 && writable(as, v.Start) {
		return v.Start, v.Start, slotStackStart, nil, true
	}
	if v.Flags&mmu.GrowsDown == 0 || v.Start != page || page < mmu.PageSize {
		return 0, 0, 0, nil, false
	}
	page -= mmu.PageSize
	return page, page, slotGrown, &v, true
}

// stackSlotKind says which of the repost's places a slot took.
type stackSlotKind int

const (
	slotSPPage     stackSlotKind = iota + 1 // the bottom of the page holding sp
	slotStackStart                          // the start of sp's VMA
	slotGrown                               // a page grown below the stack
)

// writable reports whether copy_to_user could write the page at addr: sp
// may point into memory the program cannot write (a jmp into code it
// pointed sp at), and the slot must then be sought elsewhere.
func writable(as *mmu.AddressSpace, addr uint64) bool {
	prot, ok := as.PageProt(addr)
	return ok && prot&mmu.ProtWrite != 0
}
