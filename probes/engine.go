package probes

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/probesim/probesim/emu/uc"
	"github.com/probesim/probesim/internal/chunklog"
	"github.com/probesim/probesim/report"
	"github.com/probesim/probesim/smp"
)

// Strategy names how the original instruction runs after a hit.
type Strategy string

const (
	// Inline is the seed's first patch: put the original byte back, step
	// the instruction in place with TF, then write int3 again. While the
	// byte is back, other vCPUs run through the probe without trapping.
	Inline Strategy = "inline"
	// SSOLStack leaves int3 in place and steps a copy of the instruction
	// out of line, in free stack space below the stack pointer (ssol.go).
	SSOLStack Strategy = "ssol-stack"
	// XOL leaves int3 in place and steps a copy of the instruction in a
	// slot of a per-process executable page, as mainline Linux uprobes do
	// (xolarea.go).
	XOL Strategy = "xol"
)

// Strategies lists every strategy, in the order reports and tables use.
var Strategies = []Strategy{Inline, SSOLStack, XOL}

// StrategyNames is the list of strategies as a message spells it:
// "inline, ssol-stack, xol".
func StrategyNames() string {
	names := make([]string, len(Strategies))
	for i, s := range Strategies {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// CheckStrategy returns an error naming the known strategies unless s is
// one of them.
func CheckStrategy(s Strategy) error {
	if !slices.Contains(Strategies, s) {
		return fmt.Errorf("unknown strategy %q (have: %s)", s, StrategyNames())
	}
	return nil
}

// Hit is what a probe handler sees.
type Hit struct {
	Probe *Spec
	Cycle uint64 // the trapping vCPU's clock at the int3
	VCPU  int
	TID   int
	// Regs are the trapping thread's registers, with IP at the probe
	// address (regs.go).
	Regs Regs
	m    *smp.Machine
}

// Charge adds cycles of the handler's own simulated work to the trapping
// vCPU; they count in the probe's handler phase (overhead.go).
func (h Hit) Charge(cycles uint64) {
	if h.m != nil {
		h.m.Charge(cycles)
	}
}

// ReadMemory reads guest memory at addr as the handler's copy_from_user
// would (an i386 function's arguments are on the stack, at Regs.SP+4 on
// entry). It fails on memory the thread could not read.
func (h Hit) ReadMemory(addr uint64, buf []byte) error {
	if h.m == nil {
		return fmt.Errorf("read at %#x: no machine", addr)
	}
	return h.m.AddressSpace().Read(addr, buf)
}

// CPUCounts are one vCPU's counts for one probe.
type CPUCounts struct {
	VCPU       int    `json:"vcpu"`
	Executions uint64 `json:"executions"`
	Hits       uint64 `json:"hits"`
	Misses     uint64 `json:"misses"`
}

// Miss is one execution of a probed instruction without the handler.
type Miss struct {
	Cycle uint64 `json:"cycle"`
	VCPU  int    `json:"vcpu"`
	TID   int    `json:"tid"`
	// Spurious: the vCPU trapped on int3, but the byte was no longer int3
	// when the kernel looked (it restarts the original instruction).
	Spurious bool `json:"spurious,omitempty"`
}

// Window is a time during which the original byte was back in the text.
type Window struct {
	Start, End uint64 // cycles on the vCPU that opened and closed it
	VCPU       int
	TID        int
}

// probe is a registered probe's state.
type probe struct {
	spec    Spec
	index   uint32 // its place in Engine.order
	orig    byte
	perCPU  []CPUCounts
	misses  []Miss
	windows []Window
	open    *Window // the window now open, if any
	cost    overhead
	// inPlaceFP and copyFP are what the block hook charges for the
	// instruction stepped in place and for its out-of-line copy, 24.8
	// fixed point.
	inPlaceFP, copyFP uint64
	// copyBytes is the out-of-line copy (RIP-relative operands rewritten
	// to address off scratch); copyOK is false when no rewrite exists.
	copyBytes []byte
	scratch   uc.Reg
	copyOK    bool
}

// Engine places probes on a machine and runs the strategy on every hit.
//
// Accounting is exact by construction, and costs nothing per instruction
// while every probe's first byte is int3: an execution then traps, and the
// trap, an ordered event, counts it (a hit). Only while a probe's original
// byte is back in the text (an inline window) can an execution go without
// a trap, so only then is the probe's address watched (a code hook, an
// ordered event per execution): those executions are misses. A trap
// handled in its ordered turn that finds the original byte back counts as
// the miss it was (the thread executed the restored instruction; the trap
// is undone, smp.Machine.UndoTrap). The kernel's own in-place step does
// not count. So hits + misses = executions, and the watching cost depends
// on the windows open, not on the number of probes.
type Engine struct {
	m        *smp.Machine
	strategy Strategy
	probes   map[uint64]*probe
	order    []uint64
	stepping map[int]*probe // tid -> probe it is single-stepping in place
	// restarted: tid -> the probe whose trap was undone (onBreakpoint):
	// the thread's next watched execution of it is the one already
	// counted.
	restarted map[int]*probe
	ssol      map[int]*ssolStep // tid -> its out-of-line step
	xol       xolArea           // the XOL page and its slots (strategy XOL)
	stats     Stats
	handler   func(Hit)
	events    chunklog.Log[eventRecord]
	regBuf    [18]uint64
}

// Event kinds of the probe event log.
const (
	EventHit          = "hit"
	EventMiss         = "miss"
	EventSpuriousMiss = "spurious_miss"
	EventWindowOpen   = "window_open"  // the original byte is back in the text
	EventWindowClose  = "window_close" // int3 is written again
)

// Event is one entry of the probe event log, for timelines.
type Event struct {
	Cycle uint64 `json:"cycle"`
	VCPU  int    `json:"vcpu"`
	TID   int    `json:"tid"`
	Probe string `json:"probe"`
	Kind  string `json:"event"`
}

// eventRecord is an Event as the engine logs it: no pointers, so the log
// costs the garbage collector nothing (one is logged per probed execution).
type eventRecord struct {
	cycle uint64
	vcpu  int32
	tid   int32
	probe uint32 // index in Engine.order
	kind  eventKind
}

type eventKind uint8

const (
	kindHit eventKind = iota
	kindMiss
	kindSpuriousMiss
	kindWindowOpen
	kindWindowClose
)

var eventKindNames = [...]string{kindHit: EventHit, kindMiss: EventMiss, kindSpuriousMiss: EventSpuriousMiss,
	kindWindowOpen: EventWindowOpen, kindWindowClose: EventWindowClose}

// Events returns the probe event log in the order the events happened,
// which is cycle order (every probe event is an ordered event), in a new
// slice.
func (e *Engine) Events() []Event {
	recs := e.events.All()
	out := make([]Event, len(recs))
	for i, r := range recs {
		out[i] = Event{Cycle: r.cycle, VCPU: int(r.vcpu), TID: int(r.tid),
			Probe: e.probes[e.order[r.probe]].spec.Text, Kind: eventKindNames[r.kind]}
	}
	return out
}

func (e *Engine) log(kind eventKind, p *probe, cycle uint64, vcpu, tid int) {
	e.events.Add(eventRecord{cycle: cycle, vcpu: int32(vcpu), tid: int32(tid), probe: p.index, kind: kind})
}

// Stats returns what the strategy had to do (out-of-line slots).
func (e *Engine) Stats() Stats { return e.stats }

// Attach registers specs on m with strategy s. handler, if not nil, runs on
// every hit. Call it before m.Run: the breakpoints are written then.
func Attach(m *smp.Machine, specs []Spec, s Strategy, handler func(Hit)) (*Engine, error) {
	if err := CheckStrategy(s); err != nil {
		return nil, err
	}
	e := &Engine{m: m, strategy: s, probes: map[uint64]*probe{}, stepping: map[int]*probe{},
		restarted: map[int]*probe{}, ssol: map[int]*ssolStep{}, handler: handler}
	for _, sp := range specs {
		if _, dup := e.probes[sp.Addr]; dup {
			return nil, fmt.Errorf("probe %q: address %#x is probed twice", sp.Text, sp.Addr)
		}
		p := &probe{spec: sp, index: uint32(len(e.order)), orig: sp.Bytes[0], perCPU: make([]CPUCounts, m.CPUs())}
		for i := range p.perCPU {
			p.perCPU[i].VCPU = i
		}
		e.prepareCopy(p)
		e.probes[sp.Addr] = p
		e.order = append(e.order, sp.Addr)
		if err := m.KernelWrite(sp.Addr, []byte{int3}); err != nil {
			return nil, err
		}
	}
	m.SetTrapHandler(e.onTrap)
	m.SetStepAbortHandler(e.onStepAbort)
	return e, nil
}

const int3 = 0xcc

// runHandler runs the modelled handler and the Go one for a hit of p, and
// books what they charged the vCPU as the handler phase.
func (e *Engine) runHandler(p *probe, ev smp.TrapEvent) error {
	start := e.m.ClockFP()
	e.m.Charge(e.m.Profile().Kernel.ProbeHandler)
	if e.handler != nil {
		regs, err := readRegs(e.m, e.mode(), p.spec.Addr, e.regBuf[:])
		if err != nil {
			return err
		}
		e.handler(Hit{Probe: &p.spec, Cycle: ev.Cycle, VCPU: ev.VCPU, TID: ev.TID, Regs: regs, m: e.m})
	}
	p.cost.handler += e.m.ClockFP() - start
	return nil
}

// prepareCopy decides p's out-of-line copy and prices both ways of
// stepping it, as the block hook will (timing.Profile.CostBlock of the one
// instruction: a block stepped with TF set holds exactly one).
func (e *Engine) prepareCopy(p *probe) {
	prof, mode := e.m.Profile(), e.mode()
	p.inPlaceFP = prof.CostBlock(p.spec.Bytes, p.spec.Addr, mode).CostFP
	p.copyBytes, p.copyOK = p.spec.Bytes, true
	if p.spec.Class == ClassRIPRelative || RIPRelative(p.spec.Insn, mode) {
		p.copyBytes, p.scratch, p.copyOK = ripRewrite(p.spec)
	}
	if e.strategy != Inline && p.copyOK {
		p.copyFP = prof.CostBlock(p.copyBytes, p.spec.Addr, mode).CostFP
	}
}

// byteAt reads the current text byte at addr.
func (e *Engine) byteAt(addr uint64) byte {
	var b [1]byte
	if e.m.AddressSpace().ReadForce(addr, b[:]) != nil {
		return 0
	}
	return b[0]
}

// onExecute runs, in cycle order, before every execution of a probed
// instruction while its address is watched (an inline window is open).
func (e *Engine) onExecute(p *probe, ev smp.WatchEvent) {
	if e.stepping[ev.TID] == p {
		return // the kernel's own step of the original instruction
	}
	if e.restarted[ev.TID] == p {
		delete(e.restarted, ev.TID)
		return // counted when its trap was undone
	}
	if e.byteAt(p.spec.Addr) != int3 {
		// The original byte is back: the instruction runs without a trap.
		e.miss(p, ev.Cycle, ev.VCPU, ev.TID)
		return
	}
	// int3 is back (the window closed in this very event's cycle): the
	// trap that follows counts the execution.
}

// miss counts an execution of p that ran the original instruction.
func (e *Engine) miss(p *probe, cycle uint64, vcpu, tid int) {
	c := &p.perCPU[vcpu]
	c.Executions++
	c.Misses++
	p.misses = append(p.misses, Miss{Cycle: cycle, VCPU: vcpu, TID: tid})
	e.log(kindMiss, p, cycle, vcpu, tid)
}

// openWindow records that p's original byte is back in the text, put there
// by tid on vcpu at cycle, and starts watching p's address.
func (e *Engine) openWindow(p *probe, cycle uint64, vcpu, tid int) error {
	p.open = &Window{Start: cycle, VCPU: vcpu, TID: tid}
	e.log(kindWindowOpen, p, cycle, vcpu, tid)
	return e.m.WatchBlocks(p.spec.Addr, func(ev smp.WatchEvent) { e.onExecute(p, ev) })
}

// closeWindow records that int3 is back at p and stops watching it.
func (e *Engine) closeWindow(p *probe, cycle uint64, vcpu, tid int) error {
	if w := p.open; w != nil {
		w.End = cycle
		p.windows = append(p.windows, *w)
		e.log(kindWindowClose, p, cycle, vcpu, tid)
		p.open = nil
	}
	e.m.UnwatchBlocks(p.spec.Addr)
	return nil
}

// onTrap handles int3 at a probe and the #DB that ends a step. The
// exception's own cost, which the machine charges when this returns true,
// is booked then: to the trap phase for an int3, to the step for a #DB,
// with the stepped instruction.
func (e *Engine) onTrap(ev smp.TrapEvent) bool {
	trapFP := e.m.TrapCycles() << 8
	switch ev.Intno {
	case 3:
		p := e.probes[ev.PC-1]
		if p == nil {
			return false
		}
		if e.byteAt(p.spec.Addr) != int3 {
			return e.undoBreakpoint(p, ev)
		}
		if !e.onBreakpoint(p, ev) {
			return false
		}
		p.cost.trap += trapFP
		return true
	case 1:
		if st := e.ssol[ev.TID]; st != nil {
			delete(e.ssol, ev.TID)
			if e.strategy == XOL {
				e.xol.free(st.slot) // xol_free_insn_slot
			}
			if e.ssolDone(st) != nil {
				return false
			}
			st.p.cost.step += trapFP + st.p.copyFP
			return true
		}
		p := e.stepping[ev.TID]
		if p == nil {
			return false
		}
		delete(e.stepping, ev.TID)
		if !e.inlineDone(p, ev) {
			return false
		}
		p.cost.step += trapFP + p.inPlaceFP
		return true
	}
	return false
}

// undoBreakpoint handles a trap on p's int3 that waited for its ordered
// turn while another vCPU put the original byte back earlier in cycle
// order: at this cycle the thread executes the original instruction, not
// the int3. It is a miss, and the trap did not happen (smp's UndoTrap: no
// exception is charged, nothing is booked to the probe's overhead).
// (Linux's handle_swbp, finding no breakpoint, restarts the instruction
// too; the Spurious kind is kept for a trap on a probe that is gone.)
func (e *Engine) undoBreakpoint(p *probe, ev smp.TrapEvent) bool {
	e.miss(p, ev.Cycle, ev.VCPU, ev.TID)
	e.restarted[ev.TID] = p
	e.m.UndoTrap(p.spec.Addr)
	return e.m.SetPC(p.spec.Addr) == nil
}

// onBreakpoint handles a trap on p's int3: a hit, whose step it starts.
func (e *Engine) onBreakpoint(p *probe, ev smp.TrapEvent) bool {
	p.perCPU[ev.VCPU].Executions++
	p.perCPU[ev.VCPU].Hits++
	e.log(kindHit, p, ev.Cycle, ev.VCPU, ev.TID)
	if err := e.runHandler(p, ev); err != nil {
		return false
	}
	if e.strategy != Inline {
		hit := e.ssolHit
		if e.strategy == XOL {
			hit = e.xolHit
		}
		started, err := hit(p, ev)
		if err != nil {
			return false
		}
		if started {
			return true
		}
		e.stats.InlineFallback++
	}
	// Inline: the original byte goes back, the instruction is stepped in
	// place with TF set; the window is open until the #DB.
	c, err := e.m.KernelWriteCost(p.spec.Addr, []byte{p.orig})
	if err != nil {
		return false
	}
	p.cost.kernel(&p.cost.step, c)
	if err := e.openWindow(p, ev.Cycle, ev.VCPU, ev.TID); err != nil {
		return false
	}
	e.stepping[ev.TID] = p
	return e.m.SetPC(p.spec.Addr) == nil && e.m.SetTrapFlag(true) == nil
}

// inlineDone ends an in-place step of p after its #DB: int3 goes back.
func (e *Engine) inlineDone(p *probe, ev smp.TrapEvent) bool {
	if p.spec.Class == ClassPushf {
		// The in-place step pushed the TF set for it, as the out-of-line
		// one does: clear it, as 2.6-era kprobes did for pushfl
		// (arch/i386/kernel/kprobes.c: resume_execution).
		if err := e.clearPushedTF(p); err != nil {
			return false
		}
	}
	c, err := e.m.KernelWriteCost(p.spec.Addr, []byte{int3})
	if err != nil {
		return false
	}
	p.cost.kernel(&p.cost.step, c)
	if err := e.closeWindow(p, ev.Cycle, ev.VCPU, ev.TID); err != nil {
		return false
	}
	return e.m.SetTrapFlag(false) == nil
}

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
	// Overhead is what the hits cost the trapping vCPUs, by phase
	// (overhead.go).
	Overhead report.ProbeOverhead `json:"overhead_cycles"`
}

// Results returns every probe's account, in registration order.
func (e *Engine) Results() []Result {
	var out []Result
	for _, a := range e.order {
		p := e.probes[a]
		r := Result{Spec: p.spec.Text, Address: a, PerCPU: append([]CPUCounts(nil), p.perCPU...),
			MissList: append([]Miss(nil), p.misses...), Windows: append([]Window(nil), p.windows...)}
		for _, c := range p.perCPU {
			r.Executions += c.Executions
			r.Hits += c.Hits
			r.Misses += c.Misses
		}
		r.Overhead = p.cost.report(r.Hits)
		sort.SliceStable(r.MissList, func(i, j int) bool { return r.MissList[i].Cycle < r.MissList[j].Cycle })
		out = append(out, r)
	}
	return out
}

// OutOfLineReport is the run report's out_of_line object: what the
// ssol-stack or xol strategy had to do; nil for inline.
func (e *Engine) OutOfLineReport() *report.OutOfLine {
	st := e.stats
	switch e.strategy {
	case SSOLStack:
		return &report.OutOfLine{NXFlips: st.NXFlips, StackExpansions: st.StackGrowths, StackStartSlots: st.StackStart, InlineFallbacks: st.InlineFallback,
			NXFlipCycles: st.NXFlipCycles, StackExpansionCycles: st.StackExpansionCycles}
	case XOL:
		return &report.OutOfLine{InlineFallbacks: st.InlineFallback, XOLSlotsMaxInUse: st.XOLSlotsMaxInUse, XOLMapCycles: st.XOLMapCycles}
	}
	return nil
}

// Report converts the engine's results to the run report's probes list.
func (e *Engine) Report() []report.Probe {
	var out []report.Probe
	for _, r := range e.Results() {
		p := e.probes[r.Address]
		rp := report.Probe{Spec: r.Spec, Address: r.Address, Instruction: Disassemble(p.spec.Insn, p.spec.Addr),
			Executions: r.Executions, Hits: r.Hits, Misses: r.Misses, OverheadCycles: r.Overhead}
		for _, c := range r.PerCPU {
			rp.PerCPU = append(rp.PerCPU, report.ProbeCPU{VCPU: c.VCPU, Executions: c.Executions, Hits: c.Hits, Misses: c.Misses})
		}
		for _, w := range r.Windows {
			d := w.End - w.Start
			rp.Windows.Count++
			rp.Windows.TotalCycles += d
			rp.Windows.MaxCycles = max(rp.Windows.MaxCycles, d)
		}
		rp.MissList = []report.ProbeMiss{}
		for _, m := range r.MissList {
			rp.MissList = append(rp.MissList, report.ProbeMiss{Cycle: m.Cycle, VCPU: m.VCPU, TID: m.TID, Spurious: m.Spurious})
		}
		out = append(out, rp)
	}
	return out
}
