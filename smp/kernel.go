package smp

import (
	"fmt"

	"github.com/probesim/probesim/mmu"
)

// Writes by the modelled kernel.
//
// The probe engine changes the guest's code, stack and page tables the way
// the kernel does: it writes breakpoint bytes into the text, copies
// instructions and fixed-up words to the user stack, changes a page's
// permissions for a single-step, and grows a stack. Each such change is made
// at the cycle of the ordered event that causes it (a watched address or a
// trap, whose callbacks run on the vCPU that is the lowest clock), becomes
// visible to every vCPU at once (one engine, translations dropped by mmu),
// and is charged:
//
//   - a text write (KernelWrite): the copy-on-write break of the page the
//     first time it is written (uprobe_write_opcode replaces the page), the
//     bytes, a TLB shootdown (ptep_clear_flush), and the cross-modifying-code
//     serialisation every other running vCPU needs before it may run the
//     new bytes (Intel SDM Vol. 3A, "Handling Self- and Cross-Modifying
//     Code");
//   - a copy to the user stack (KernelCopyToUser): the bytes only. The seed
//     copies the instruction with copy_to_user, and the fixups write the
//     return address or the pushed flags the same way: the thread's own
//     writable, present page needs no copy-on-write, and no other CPU
//     caches a translation that changes, so there is no shootdown; only the
//     trapping thread runs the copy, after the exception return serialises
//     its own core;
//   - a page-permission change (KernelProtectPage): the page-table update
//     and a TLB shootdown;
//   - a stack expansion (KernelExpandStack): one page-fault entry and exit
//     per page, the cost of populating the new page on its first touch
//     (expand_downwards itself only moves vm_start: mm/mmap.c does no TLB
//     flush for it, as nothing was mapped there to be cached);
//   - a special mapping (KernelMapSpecialPage), as uprobes' xol_add_vma
//     installs its "[uprobes]" page (kernel/events/uprobes.c): the VMA
//     insertion, priced as the profile's mprotect_one_page (a one-page VMA
//     change under mmap_lock, the nearest measured figure; an estimate),
//     and one page-fault entry and exit for the first touch that populates
//     the page; no shootdown, as nothing was mapped there to be cached;
//   - a write into a page the kernel owns (KernelCopyToPage), as uprobes'
//     copy_to_page writes an instruction into its XOL page through the
//     kernel's own mapping of the page: the bytes only, ignoring the user
//     page's protection (the page is not user-writable), with no
//     copy-on-write (the page is the kernel's, never shared with a file)
//     and no shootdown (no translation changes; flush_dcache_page is a no-op
//     on x86). Only the trapping thread runs the written slot, after its
//     exception return serialises its core.
//
// The variants that return a KernelCost say exactly what the change charged
// the vCPU that made it, split into its own work and the shootdown it
// initiated; the cycles the shootdown and the serialisation steal from the
// other vCPUs are theirs, not in the cost.
//
// Called before Run (probe registration), a change costs no vCPU anything
// and is recorded at cycle 0. Called from work scheduled with At (a probe
// registered or removed while the program runs, as perf does from another
// process), a text write is made by a CPU outside the machine: the
// copy-on-write break and the bytes are that CPU's, and every running
// vCPU takes the shootdown's IPI and the cross-modifying-code
// serialisation (externalTextWrite); it is recorded at the scheduled cycle
// with vCPU -1.

// KernelEvent is one change the modelled kernel made.
type KernelEvent struct {
	Cycle uint64 // clock of the vCPU that made it, before the kernel's own cost (0 before Run)
	VCPU  int    // -1 before Run
	Kind  KernelEventKind
	Addr  uint64
	Len   int
}

// KernelEventKind says what a kernel change was. It is a small integer,
// not a string, so the event log holds no pointers (internal/chunklog).
type KernelEventKind uint8

// The kinds of kernel change.
const (
	KernelTextWrite   KernelEventKind = iota + 1 // "write": bytes written into the text (KernelWrite)
	KernelCopyToStack                            // "copy_to_user": a copy to the user stack
	KernelProtect                                // "protect": a page's permissions changed
	KernelStackExpand                            // "expand_stack": a stack grown down
	KernelMapSpecial                             // "install_special_mapping": a kernel page mapped into the process
	KernelCopyToPage                             // "copy_to_page": bytes written into a kernel-owned user page
)

var kernelEventNames = [...]string{KernelTextWrite: "write", KernelCopyToStack: "copy_to_user",
	KernelProtect: "protect", KernelStackExpand: "expand_stack", KernelMapSpecial: "install_special_mapping",
	KernelCopyToPage: "copy_to_page"}

func (k KernelEventKind) String() string {
	if int(k) < len(kernelEventNames) && kernelEventNames[k] != "" {
		return kernelEventNames[k]
	}
	return "unknown"
}

// KernelCost is what one change of the modelled kernel charged the vCPU
// that made it, in cycles (zero before Run).
type KernelCost struct {
	// Work is the change itself: copy-on-write break, bytes, page-table
	// update, page-fault entry and exit.
	Work uint64
	// Shootdown is the TLB shootdown it initiated: the local flush, plus
	// the IPI round trip when other vCPUs run threads of the process.
	Shootdown uint64
}

// Total is Work + Shootdown.
func (c KernelCost) Total() uint64 { return c.Work + c.Shootdown }

// KernelWrite writes data at addr, ignoring page protections, as the kernel
// writes text for a probe.
func (m *Machine) KernelWrite(addr uint64, data []byte) error {
	_, err := m.KernelWriteCost(addr, data)
	return err
}

// KernelWriteCost is KernelWrite, returning what the write cost the running
// vCPU.
func (m *Machine) KernelWriteCost(addr uint64, data []byte) (KernelCost, error) {
	if err := m.mmNow().WriteForce(addr, data); err != nil {
		return KernelCost{}, fmt.Errorf("kernel write at %#x: %w", addr, err)
	}
	m.recordKernel(KernelTextWrite, addr, len(data))
	v := m.curV
	if v == nil {
		if m.at.external {
			m.externalTextWrite(addr, len(data))
		}
		return KernelCost{}, nil
	}
	kc := m.cfg.Profile.Kernel
	var c KernelCost
	c.Work = kc.KernelWriteByte * uint64(len(data))
	for page := addr &^ (mmu.PageSize - 1); page < addr+uint64(len(data)); page += mmu.PageSize {
		if k := (mmPage{m.mmNow(), page}); !m.cowBroken[k] {
			m.cowBroken[k] = true
			c.Work += kc.CowBreakPage
		}
	}
	v.counters.Add(0, c.Work<<8)
	c.Shootdown = m.chargedShootdown()
	for _, o := range m.vcpus {
		// Only the vCPUs running this address space can run the new
		// bytes (a text write is in this mm's private copy of the page).
		if o != v && o.cur != nil && o.mm == v.mm {
			o.counters.Add(0, kc.CrossModifyingCodeSerialize<<8)
		}
	}
	return c, nil
}

// KernelCopyToUser writes data at addr through the user's page permissions,
// as copy_to_user does (the page must be mapped and writable), and returns
// what it cost the running vCPU: the bytes, no shootdown.
func (m *Machine) KernelCopyToUser(addr uint64, data []byte) (KernelCost, error) {
	if err := m.mmNow().Write(addr, data); err != nil {
		return KernelCost{}, fmt.Errorf("kernel copy to user at %#x: %w", addr, err)
	}
	return m.chargeCopy(KernelCopyToStack, addr, len(data)), nil
}

// chargeCopy records a kernel copy of n bytes and charges the running vCPU
// the bytes alone.
func (m *Machine) chargeCopy(kind KernelEventKind, addr uint64, n int) KernelCost {
	m.recordKernel(kind, addr, n)
	v := m.curV
	if v == nil {
		return KernelCost{}
	}
	c := KernelCost{Work: m.cfg.Profile.Kernel.KernelWriteByte * uint64(n)}
	v.counters.Add(0, c.Work<<8)
	return c
}

// KernelProtectPage sets the page-table permissions of the page holding
// addr without changing its VMA, as the kernel does when it clears NX on a
// stack page for an out-of-line step.
func (m *Machine) KernelProtectPage(addr uint64, p mmu.Prot) error {
	_, err := m.KernelProtectPageCost(addr, p)
	return err
}

// KernelProtectPageCost is KernelProtectPage, returning what the change
// cost the running vCPU.
func (m *Machine) KernelProtectPageCost(addr uint64, p mmu.Prot) (KernelCost, error) {
	if err := m.mmNow().SetPageProt(addr&^(mmu.PageSize-1), p); err != nil {
		return KernelCost{}, fmt.Errorf("kernel page protection at %#x: %w", addr, err)
	}
	m.recordKernel(KernelProtect, addr&^(mmu.PageSize-1), mmu.PageSize)
	v := m.curV
	if v == nil {
		return KernelCost{}, nil
	}
	c := KernelCost{Work: m.cfg.Profile.Kernel.MprotectOnePage}
	v.counters.Add(0, c.Work<<8)
	c.Shootdown = m.chargedShootdown()
	return c, nil
}

// KernelExpandStack grows the growsdown VMA v down by pages pages within
// RLIMIT_STACK (mmu.AddressSpace.ExpandDown), as find_extend_vma does for a
// kernel that needs room below a stack, and returns what it cost the running
// vCPU: a page-fault entry and exit per page.
func (m *Machine) KernelExpandStack(v mmu.VMA, pages int) (KernelCost, error) {
	if err := m.mmNow().ExpandDown(v, pages); err != nil {
		return KernelCost{}, fmt.Errorf("kernel stack expansion at %#x: %w", v.Start, err)
	}
	grown := uint64(pages) * mmu.PageSize
	m.recordKernel(KernelStackExpand, v.Start-grown, int(grown))
	cur := m.curV
	if cur == nil {
		return KernelCost{}, nil
	}
	var c KernelCost
	for range pages {
		c.Work += m.jittered(cur.cur, m.cfg.Profile.Kernel.PageFaultEntryExit)
	}
	cur.counters.Add(0, c.Work<<8)
	return c, nil
}

// KernelMapSpecialPage maps one zeroed private page with permissions prot
// and the /proc/self/maps name name, placed as get_unmapped_area places a
// hinted anonymous mapping (the hint if it is free, else top-down below
// mmap_base: mmu.AddressSpace.Mmap), as uprobes' xol_add_vma installs the
// XOL page with _install_special_mapping. It returns the page's address
// and what the mapping cost the running vCPU.
func (m *Machine) KernelMapSpecialPage(hint uint64, prot mmu.Prot, name string) (uint64, KernelCost, error) {
	mm := m.mmNow()
	addr, errno := mm.Mmap(hint, mmu.PageSize, prot, mmu.MapPrivate|mmu.MapAnonymous, name)
	if errno != 0 {
		return 0, KernelCost{}, fmt.Errorf("kernel special mapping %q: %w", name, errno)
	}
	// VM_DONTCOPY, as xol_add_vma maps [uprobes]: a forked child gets
	// its own at its first hit.
	_ = mm.Madvise(addr, mmu.PageSize, mmu.MadvDontFork)
	m.recordKernel(KernelMapSpecial, addr, mmu.PageSize)
	cur := m.curV
	if cur == nil {
		return addr, KernelCost{}, nil
	}
	c := KernelCost{Work: m.cfg.Profile.Kernel.MprotectOnePage + m.jittered(cur.cur, m.cfg.Profile.Kernel.PageFaultEntryExit)}
	cur.counters.Add(0, c.Work<<8)
	return addr, c, nil
}

// KernelCopyToPage writes data at addr ignoring the user page's protection,
// as uprobes' copy_to_page writes into the XOL page (which the process
// cannot write), and returns what it cost the running vCPU: the bytes, no
// copy-on-write and no shootdown (unlike KernelWrite's text writes).
func (m *Machine) KernelCopyToPage(addr uint64, data []byte) (KernelCost, error) {
	if err := m.mmNow().WriteForce(addr, data); err != nil {
		return KernelCost{}, fmt.Errorf("kernel copy to page at %#x: %w", addr, err)
	}
	return m.chargeCopy(KernelCopyToPage, addr, len(data)), nil
}

// chargedShootdown initiates a TLB shootdown from the running vCPU and
// returns what it charged that vCPU.
func (m *Machine) chargedShootdown() uint64 {
	before := m.curV.clockFP()
	m.shootdown()
	return (m.curV.clockFP() - before) >> 8
}

// KernelEvents returns the kernel's changes, in order.
func (m *Machine) KernelEvents() []KernelEvent { return m.kernelEvents.All() }

func (m *Machine) recordKernel(kind KernelEventKind, addr uint64, n int) {
	ev := KernelEvent{VCPU: -1, Kind: kind, Addr: addr, Len: n}
	if v := m.curV; v != nil {
		ev.Cycle, ev.VCPU = v.clockFP()>>8, v.id
	} else if m.at.external {
		ev.Cycle = m.at.cycle
	}
	m.kernelEvents.Add(ev)
}

// externalTextWrite charges the running vCPUs for a text write made by a
// CPU outside the machine: the write's TLB shootdown reaches every one of
// them (each takes the IPI), and each serialises before it may run the new
// bytes. The page's copy-on-write break is done, for later writes.
func (m *Machine) externalTextWrite(addr uint64, n int) {
	for page := addr &^ (mmu.PageSize - 1); page < addr+uint64(n); page += mmu.PageSize {
		m.cowBroken[mmPage{m.as, page}] = true
	}
	kc := m.cfg.Profile.Kernel
	for _, o := range m.vcpus {
		if o.cur != nil {
			o.counters.Add(0, (kc.TLBShootdownTarget+kc.CrossModifyingCodeSerialize)<<8)
			o.ipisReceived++
		}
	}
}
