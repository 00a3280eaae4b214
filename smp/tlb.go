package smp

// TLB shootdowns.
//
// When a syscall changes page tables that other CPUs may have cached
// (munmap, mprotect, madvise(MADV_DONTNEED/MADV_FREE), a shrinking brk),
// Linux flushes the local TLB and sends an IPI to every other CPU that runs
// the address space, then waits for them (flush_tlb_mm_range,
// native_flush_tlb_multi). probesim charges the initiator the local flush
// plus, when there are targets, the IPI round trip, and steals the
// interrupt's cost from every other vCPU running a thread of the same
// address space (each counts one IPI received): the vCPUs of the mm's
// mm_cpumask that are not in lazy TLB mode, as native_flush_tlb_multi
// skips lazy CPUs (they catch up at their next switch_mm through the
// mm's tlb_gen). vCPUs running other processes are not interrupted. The syscall happens in global cycle order,
// so the targets are at or after the initiator's clock: the stolen cycles
// land in their current quantum, an approximation within the quantum.
// Costs: timing.KernelCosts TLBShootdownInitiator, IPIDelivery,
// TLBShootdownTarget (sources in timing/doc.go).

// shootdown charges one TLB shootdown initiated by the running vCPU.
func (m *Machine) shootdown() {
	v := m.curV
	kc := m.cfg.Profile.Kernel
	cost := kc.TLBShootdownInitiator
	targets := 0
	for _, o := range m.vcpus {
		if o == v || o.cur == nil || o.mm != v.mm {
			continue
		}
		o.counters.Add(0, kc.TLBShootdownTarget<<8)
		o.ipisReceived++
		targets++
	}
	if targets > 0 {
		cost += kc.IPIDelivery
	}
	v.counters.Add(0, cost<<8)
	v.shootdowns++
}
