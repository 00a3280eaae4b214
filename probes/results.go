package probes

import (
	"sort"

	"github.com/probesim/probesim/report"
)

// Result is one probe's account.
type Result struct {
	Spec       string      `json:"spec"`
	Address    uint64      `json:"address"`
	Executions uint64      `json:"executions"`
	Hits       uint64      `json:"hits"`
	Misses     uint64      `json:"misses"`
	PerCPU     []CPUCounts `json:"per_cpu"`
	MissList   []Miss      `json:"miss_list"`
	Windows    []Window    `json:"-"`
	// AttachedAt and DetachedAt are the cycles the probe was placed and
	// removed at (AttachAt, DetachAt): 0 for a probe placed before the
	// run, and for one never removed.
	AttachedAt uint64 `json:"attached_at,omitempty"`
	DetachedAt uint64 `json:"detached_at,omitempty"`
	// Return is a return probe (SPEC%return, uretprobe.go): its executions
	// are returns. ReturnsDropped are armed returns whose frames were gone
	// (unwound by a longjmp), ReturnsDepthLimited entries past the 64
	// instances a thread may hold (each a miss), ReturnsPending returns
	// still armed when the run ended.
	Return              bool   `json:"return,omitempty"`
	ReturnsDropped      uint64 `json:"returns_dropped,omitempty"`
	ReturnsDepthLimited uint64 `json:"returns_depth_limited,omitempty"`
	ReturnsPending      uint64 `json:"returns_pending,omitempty"`
	// Emulated are the hits run in the kernel without a step (xol:
	// emulate.go); the others were stepped.
	Emulated uint64 `json:"emulated,omitempty"`
	// Overhead is what the hits cost the trapping vCPUs, by phase
	// (overhead.go).
	Overhead report.ProbeOverhead `json:"overhead_cycles"`
	// Mappings is how many mappings of a probe's file armed it (a probe on
	// a file: fileprobe.go); Address is then the first one's address, 0
	// if none did.
	Mappings uint64 `json:"mappings,omitempty"`
}

// Results returns every probe's account, in registration order.
func (e *Engine) Results() []Result {
	var out []Result
	pending := map[*probe]uint64{}
	for _, t := range e.tasks {
		for _, ri := range t.returns {
			q := ri.p
			if q.file != nil {
				q = q.file.parent
			}
			pending[q]++
		}
	}
	for _, p := range e.all {
		r := Result{Spec: p.spec.Text, Address: p.spec.Addr, AttachedAt: p.life.attachAt, DetachedAt: p.life.detachAt, PerCPU: append([]CPUCounts(nil), p.perCPU...),
			MissList: append([]Miss(nil), p.misses...), Windows: append([]Window(nil), p.windows...)}
		cost, emulated, ret := p.cost, p.emulated, p.ret
		if p.file != nil {
			// A probe on a file: its instances' counts, summed.
			for i, q := range p.file.instances {
				if i == 0 && p.spec.File != nil {
					r.Address = q.spec.Addr // a program's probe keeps its own
				}
				for j, c := range q.perCPU {
					r.PerCPU[j].Executions += c.Executions
					r.PerCPU[j].Hits += c.Hits
					r.PerCPU[j].Misses += c.Misses
				}
				r.MissList = append(r.MissList, q.misses...)
				r.Windows = append(r.Windows, q.windows...)
				cost.add(q.cost)
				emulated += q.emulated
				ret.dropped += q.ret.dropped
				ret.depthLimited += q.ret.depthLimited
			}
			r.Mappings = uint64(len(p.file.instances))
			sort.SliceStable(r.Windows, func(i, j int) bool { return r.Windows[i].Start < r.Windows[j].Start })
		}
		for _, c := range r.PerCPU {
			r.Executions += c.Executions
			r.Hits += c.Hits
			r.Misses += c.Misses
		}
		r.Overhead = cost.report(r.Hits)
		r.Emulated = emulated
		if p.spec.Return {
			r.Return, r.ReturnsDropped, r.ReturnsDepthLimited = true, ret.dropped, ret.depthLimited
			r.ReturnsPending = pending[p]
		}
		sort.SliceStable(r.MissList, func(i, j int) bool { return r.MissList[i].Cycle < r.MissList[j].Cycle })
		out = append(out, r)
	}
	return out
}

// OutOfLineReport is the run report's out_of_line object: what the
// ssol-stack or xol strategy had to do; nil for inline.
func (e *Engine) OutOfLineReport() *report.OutOfLine {
	st := e.stats
	switch e.name {
	case SSOLStack, SSOLStack2005, SSOLStack2006:
		o := &report.OutOfLine{NXFlips: st.NXFlips, StackExpansions: st.StackGrowths, StackStartSlots: st.StackStart, InlineFallbacks: st.InlineFallback,
			NXFlipCycles: st.NXFlipCycles, StackExpansionCycles: st.StackExpansionCycles}
		if e.name == SSOLStack2006 {
			o.LockSpins, o.LockSpinCycles = st.LockSpins, st.LockSpinCycles
		}
		if d := st.SeedDefects; e.name == SSOLStack2005 {
			o.SeedDefects = &report.SeedDefects{LiveStackCopies: d.LiveStackCopies, EIPNotMoved: d.EIPNotMoved,
				ForeignSinglestepAddr: d.ForeignSinglestepAddr, MissingFixups: d.MissingFixups, Examples: append([]string{}, d.Examples...)}
		}
		return o
	case XOL:
		return &report.OutOfLine{InlineFallbacks: st.InlineFallback, XOLSlotsMaxInUse: st.XOLSlotsMaxInUse, XOLMapCycles: st.XOLMapCycles,
			XOLSlotWaits: st.XOLSlotWaits, XOLSlotWaitCycles: st.XOLSlotWaitCycles, EmulatedHits: st.Emulated, SteppedHits: st.Stepped}
	}
	return nil
}

// Report converts the engine's results to the run report's probes list.
func (e *Engine) Report() []report.Probe {
	var out []report.Probe
	for i, r := range e.Results() {
		p := e.all[i]
		at := p.spec.Addr
		if ft := p.spec.File; ft != nil {
			at = r.Address
			if at == 0 {
				at = ft.Vaddr // never mapped: as objdump shows the file
			}
		}
		rp := report.Probe{Spec: r.Spec, Address: r.Address, Instruction: Disassemble(p.spec.Insn, at), Note: p.spec.Note,
			AttachedAt: r.AttachedAt, DetachedAt: r.DetachedAt, Return: r.Return, EmulatedHits: r.Emulated,
			Executions: r.Executions, Hits: r.Hits, Misses: r.Misses, OverheadCycles: r.Overhead}
		for _, c := range r.PerCPU {
			rp.PerCPU = append(rp.PerCPU, report.ProbeCPU{VCPU: c.VCPU, Executions: c.Executions, Hits: c.Hits, Misses: c.Misses})
		}
		rp.PerProcess = e.processReport(p.index)
		for _, w := range r.Windows {
			d := w.End - w.Start
			rp.Windows.Count++
			rp.Windows.TotalCycles += d
			rp.Windows.MaxCycles = max(rp.Windows.MaxCycles, d)
		}
		if r.Return {
			rp.Returns = &report.ProbeReturns{Dropped: r.ReturnsDropped, DepthLimited: r.ReturnsDepthLimited, Pending: r.ReturnsPending}
		}
		if ft := p.spec.File; ft != nil {
			rp.File = &report.ProbeFile{Path: ft.Path, Offset: ft.Offset, Vaddr: ft.Vaddr, Mappings: r.Mappings}
		}
		rp.MissList = []report.ProbeMiss{}
		for _, m := range r.MissList {
			rp.MissList = append(rp.MissList, report.ProbeMiss{Cycle: m.Cycle, VCPU: m.VCPU, TID: m.TID, Spurious: m.Spurious})
		}
		out = append(out, rp)
	}
	return out
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
	// StackExpansionCycles: growing the stack by a page for a slot.
	StackExpansionCycles uint64 `json:"stack_expansion_cycles"`
	// XOLSlotsMaxInUse: the most XOL slots taken at once (xol, at most 31).
	XOLSlotsMaxInUse uint64 `json:"xol_slots_max_in_use"`
	// XOLMapCycles: mapping the XOL page on the first hit (xol).
	XOLMapCycles uint64 `json:"xol_map_cycles"`
	// StepAborts: steps abandoned because the stepped instruction faulted
	// (Engine.onStepAbort).
	StepAborts uint64 `json:"step_aborts"`
	// XOLSlotWaits: hits that found every XOL slot taken and slept until
	// one was freed; XOLSlotWaitCycles: the cycles from each one's sleep
	// to its wake-up, summed (xol).
	XOLSlotWaits      uint64 `json:"xol_slot_waits"`
	XOLSlotWaitCycles uint64 `json:"xol_slot_wait_cycles"`
	// Emulated: hits whose instruction ran in the kernel with no step
	// (xol, emulate.go); Stepped: hits whose instruction was stepped.
	Emulated uint64 `json:"emulated"`
	Stepped  uint64 `json:"stepped"`
	// SeedDefects: what ssol-stack-2005's posted code did wrong
	// (seed2005.go).
	SeedDefects SeedDefects `json:"seed_defects"`
	// LockSpins: hits that spun for ssol-stack-2006's global lock;
	// LockSpinCycles: the cycles they spun (seedlock.go).
	LockSpins      uint64 `json:"lock_spins"`
	LockSpinCycles uint64 `json:"lock_spin_cycles"`
}
