package smp

import (
	"fmt"

	"github.com/probesim/probesim/mmu"
)

// Writes by the modelled kernel.
//
// The probe engine changes the guest's code and page tables the way the
// kernel does: it writes breakpoint bytes and copied instructions, and it
// changes a page's permissions for a single-step. Each such change is made
// at the cycle of the ordered event that causes it (a watched address or a
// trap, whose callbacks run on the vCPU that is the lowest clock), becomes
// visible to every vCPU at once (one engine, translations dropped by mmu),
// and is charged:
//
//   - a text write: the copy-on-write break of the page the first time it
//     is written (uprobe_write_opcode replaces the page), the bytes, a TLB
//     shootdown (ptep_clear_flush), and the cross-modifying-code
//     serialisation every other running vCPU needs before it may run the
//     new bytes (Intel SDM Vol. 3A, "Handling Self- and Cross-Modifying
//     Code");
//   - a page-permission change: the page-table update and a TLB shootdown.
//
// Called before Run (probe registration), a change costs no vCPU anything
// and is recorded at cycle 0.

// KernelEvent is one change the modelled kernel made.
type KernelEvent struct {
	Cycle uint64 // clock of the vCPU that made it, before the kernel's own cost (0 before Run)
	VCPU  int    // -1 before Run
	Kind  string // "write" or "protect"
	Addr  uint64
	Len   int
}

// KernelWrite writes data at addr, ignoring page protections, as the kernel
// writes text for a probe.
func (m *Machine) KernelWrite(addr uint64, data []byte) error {
	if err := m.as.WriteForce(addr, data); err != nil {
		return fmt.Errorf("kernel write at %#x: %w", addr, err)
	}
	m.recordKernel("write", addr, len(data))
	kc := m.cfg.Profile.Kernel
	if v := m.curV; v != nil {
		cost := kc.KernelWriteByte * uint64(len(data))
		for page := addr &^ (mmu.PageSize - 1); page < addr+uint64(len(data)); page += mmu.PageSize {
			if !m.cowBroken[page] {
				m.cowBroken[page] = true
				cost += kc.CowBreakPage
			}
		}
		v.counters.Add(0, cost<<8)
		m.shootdown()
		for _, o := range m.vcpus {
			if o != v && o.cur != nil {
				o.counters.Add(0, kc.CrossModifyingCodeSerialize<<8)
			}
		}
	}
	return nil
}

// KernelProtectPage sets the page-table permissions of the page holding
// addr without changing its VMA, as the kernel does when it clears NX on a
// stack page for an out-of-line step.
func (m *Machine) KernelProtectPage(addr uint64, p mmu.Prot) error {
	if err := m.as.SetPageProt(addr&^(mmu.PageSize-1), p); err != nil {
		return fmt.Errorf("kernel page protection at %#x: %w", addr, err)
	}
	m.recordKernel("protect", addr&^(mmu.PageSize-1), mmu.PageSize)
	if v := m.curV; v != nil {
		v.counters.Add(0, m.cfg.Profile.Kernel.MprotectOnePage<<8)
		m.shootdown()
	}
	return nil
}

// KernelEvents returns the kernel's changes, in order.
func (m *Machine) KernelEvents() []KernelEvent { return m.kernelEvents }

func (m *Machine) recordKernel(kind string, addr uint64, n int) {
	ev := KernelEvent{VCPU: -1, Kind: kind, Addr: addr, Len: n}
	if v := m.curV; v != nil {
		ev.Cycle, ev.VCPU = v.clockFP()>>8, v.id
	}
	m.kernelEvents = append(m.kernelEvents, ev)
}
