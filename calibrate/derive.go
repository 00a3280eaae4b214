package calibrate

import (
	"slices"
)

// How each parameter follows from the measurements. A rule's value is a
// time in nanoseconds computed from one repeat's measurements; a parameter
// has rules in order of preference, and the first whose measurements all
// exist in the run is used (so a host without the uprobe PMU falls back to
// the signal-based trap figure, and one CPU to the skylake estimates).

// rule derives one parameter.
type rule struct {
	source string   // "measured" or "estimate" (timing.CalibratedParam.Source)
	needs  []string // measurement names it reads
	method string
	ns     func(m map[string]float64) float64
}

// skylakeNS is the skylake profile's figure for param in nanoseconds (at
// its 3 GHz): the estimate carried over when a cost cannot be measured.
func skylakeNS(cycles uint64) func(map[string]float64) float64 {
	return func(map[string]float64) float64 { return cyclesToNS(cycles, skylakeFreq) }
}

// kwbNS is the kernel_write_byte estimate, in ns, that the trap figure's
// derivation takes out for the out-of-line copy (as the model charges it).
var kwbNS = cyclesToNS(skylake.Kernel.KernelWriteByte, skylakeFreq)

// stepInsnBytes is the length of the helper's single-stepped probe
// instruction, lea 0x1(%rdi),%rax (calib.c: calib_probe_step).
const stepInsnBytes = 4

func estimate(name string, cycles uint64) rule {
	return rule{source: "estimate", method: "not measured here: skylake's " + name + " (timing/doc.go) converted at 3 GHz to this clock",
		ns: skylakeNS(cycles)}
}

// hostRules are the host profile's parameters ("kernel." names and cpuid_cycles).
func hostRules() map[string][]rule {
	k := skylake.Kernel
	return map[string][]rule{
		"cpuid_cycles": {{source: "measured", needs: []string{"cpuid_ns"},
			method: "cpuid leaf 0 in a loop (a VM exit under a hypervisor)",
			ns:     func(m map[string]float64) float64 { return m["cpuid_ns"] }}},
		"kernel.syscall_entry_exit": {{source: "measured", needs: []string{"syscall_ns"},
			method: "getppid through the syscall instruction in a loop",
			ns:     func(m map[string]float64) float64 { return m["syscall_ns"] }}},
		"kernel.exception_entry_exit": {
			{source: "measured", needs: []string{"uprobe_step_ns", "uprobe_handler_ns"},
				method: "half of a real uprobe hit on a single-stepped lea (int3, out-of-line step, #DB: two traps) less its handler and the model's copy of the 4-byte instruction to the XOL slot, so that the model's two traps add up to the measured hit",
				ns: func(m map[string]float64) float64 {
					return (m["uprobe_step_ns"] - m["uprobe_handler_ns"] - stepInsnBytes*kwbNS) / 2
				}},
			{source: "measured", needs: []string{"int3_signal_ns", "step_signal_ns", "syscall_ns"},
				method: "mean of an int3 and a single-step #DB delivered as SIGTRAP and returned from, less one syscall for the sigreturn: an upper estimate (signal frame set-up is in it), used because the uprobe PMU was not available",
				ns: func(m map[string]float64) float64 {
					return (m["int3_signal_ns"]+m["step_signal_ns"])/2 - m["syscall_ns"]
				}},
		},
		"kernel.iret": {{source: "measured", needs: []string{"iret_ns"},
			method: "IRET to self at CPL 3 (the sync_core() of Linux), in a loop",
			ns:     func(m map[string]float64) float64 { return m["iret_ns"] }}},
		"kernel.page_fault_entry_exit": {{source: "measured", needs: []string{"pagefault_ns"},
			method: "first write to each page of a fresh anonymous mapping (4 KiB pages, MADV_NOHUGEPAGE): entry, allocation, zeroing, exit",
			ns:     func(m map[string]float64) float64 { return m["pagefault_ns"] }}},
		"kernel.tlb_shootdown_initiator": {{source: "measured", needs: []string{"mprotect_down_ns", "syscall_ns"},
			method: "mprotect of one present page to read-only on one CPU, less a syscall round trip: the page-table change and the local flush",
			ns:     func(m map[string]float64) float64 { return m["mprotect_down_ns"] - m["syscall_ns"] }}},
		"kernel.tlb_shootdown_target": {
			{source: "measured", needs: []string{"shootdown_ipi_stolen_ns"},
				method: "median gap a spinning thread of the same process on another CPU loses while the mprotect runs (the shootdown IPI), less its loop period",
				ns:     func(m map[string]float64) float64 { return m["shootdown_ipi_stolen_ns"] }},
			estimate("tlb_shootdown_target", k.TLBShootdownTarget)},
		"kernel.ipi_delivery": {
			{source: "measured", needs: []string{"shootdown_down_ns", "mprotect_down_ns"},
				method: "the same mprotect while one spinning thread per further CPU runs the process, less the mprotect alone: sending the IPIs and waiting for their acks",
				ns:     func(m map[string]float64) float64 { return m["shootdown_down_ns"] - m["mprotect_down_ns"] }},
			estimate("ipi_delivery", k.IPIDelivery)},
		"kernel.cross_modifying_code_serialize": {
			{source: "measured", needs: []string{"xmc_stolen_ns"},
				method: "a thread on another CPU rewrites the immediate of an instruction a thread runs in a loop: median extra length of the loop iteration that sees the new code",
				ns:     func(m map[string]float64) float64 { return m["xmc_stolen_ns"] }},
			estimate("cross_modifying_code_serialize", k.CrossModifyingCodeSerialize)},
		"kernel.context_switch": {{source: "measured", needs: []string{"pingpong_ns", "pipe_ns"},
			method: "pipe ping-pong between two threads pinned to one CPU: half the round trip less one write+read of a pipe without switching (lmbench's lat_ctx method)",
			ns:     func(m map[string]float64) float64 { return (m["pingpong_ns"] - 2*m["pipe_ns"]) / 2 }}},
		"kernel.mprotect_one_page": {{source: "measured", needs: []string{"mprotect_down_ns"},
			method: "mprotect of one present page to read-only on one CPU, syscall included, no other thread running",
			ns:     func(m map[string]float64) float64 { return m["mprotect_down_ns"] }}},
		"kernel.cow_break_page": {{source: "measured", needs: []string{"cow_ns"},
			method: "first write to a private mapping of a page-cache page (copy-on-write: fault, allocation, 4 KiB copy)",
			ns:     func(m map[string]float64) float64 { return m["cow_ns"] }}},
		"kernel.kernel_write_byte":    {estimate("kernel_write_byte", k.KernelWriteByte)},
		"kernel.address_space_switch": {estimate("address_space_switch", k.AddressSpaceSwitch)},
		"kernel.probe_handler": {
			{source: "measured", needs: []string{"uprobe_handler_ns"},
				method: "what a second counting perf consumer on the same uprobe adds per hit (uprobe_dispatcher and a perf count)",
				ns:     func(m map[string]float64) float64 { return m["uprobe_handler_ns"] }},
			estimate("probe_handler", k.ProbeHandler)},
	}
}

// zeroShootdown is the ptrace-inline profile's rule for the shootdown costs.
var zeroShootdown = rule{source: "mechanism",
	method: "zero: a ptrace poke writes the tracee's already private text page through the kernel's mapping (access_process_vm), changing no page-table entry, so it sends no shootdown; the model charges a text write one (uprobe_write_opcode replaces the page), hence zero, which also drops the guest's own mprotect and munmap shootdowns",
	ns:     func(map[string]float64) float64 { return 0 }}

// ptraceRules replace the trap, handler and text-write costs with those of
// the ptrace tracer that is the inline mechanism (cmd/ptrace-inline).
func ptraceRules() map[string][]rule {
	r := hostRules()
	r["kernel.exception_entry_exit"] = []rule{{source: "measured", needs: []string{"ptrace_int3_ns", "ptrace_step_ns"},
		method: "mean of an int3 stop and a single-step stop served by a ptrace tracer (trap, stop, tracer wakeup in wait4, resume), tracer unpinned as in the miss-rate experiment",
		ns:     func(m map[string]float64) float64 { return (m["ptrace_int3_ns"] + m["ptrace_step_ns"]) / 2 }}}
	r["kernel.probe_handler"] = []rule{{source: "measured", needs: []string{"ptrace_regs_ns"},
		method: "the tracer's PTRACE_GETREGS and PTRACE_SETREGS that find the hit and rewind the ip",
		ns:     func(m map[string]float64) float64 { return m["ptrace_regs_ns"] }}}
	r["kernel.kernel_write_byte"] = []rule{{source: "measured", needs: []string{"ptrace_poke_ns"},
		method: "one text byte written by the tracer (PTRACE_PEEKTEXT and PTRACE_POKETEXT of its word)",
		ns:     func(m map[string]float64) float64 { return m["ptrace_poke_ns"] }}}
	r["kernel.cow_break_page"] = []rule{{source: "measured", needs: []string{"ptrace_cow_ns"},
		method: "the tracer's first write to a text page (PTRACE_POKETEXT breaking copy-on-write)",
		ns:     func(m map[string]float64) float64 { return m["ptrace_cow_ns"] }}}
	for _, p := range []string{"kernel.tlb_shootdown_initiator", "kernel.tlb_shootdown_target", "kernel.ipi_delivery"} {
		r[p] = []rule{zeroShootdown}
	}
	return r
}

// pick returns the first rule whose measurements every repeat has.
func pick(rules []rule, repeats []map[string]float64) (rule, bool) {
	for _, r := range rules {
		ok := len(repeats) > 0
		for _, m := range repeats {
			for _, need := range r.needs {
				if _, has := m[need]; !has {
					ok = false
				}
			}
		}
		if ok || len(r.needs) == 0 {
			return r, true
		}
	}
	return rule{}, false
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
