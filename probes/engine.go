package probes

import (
	"errors"
	"fmt"
	"github.com/probesim/probesim/mmu"
	"slices"
	"strings"

	"github.com/probesim/probesim/emu/loader"
	"github.com/probesim/probesim/internal/chunklog"
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
	// (xolarea.go), emulating what Linux emulates (emulate.go).
	XOL Strategy = "xol"
	// SSOLStack2005 is the seed's code as posted in September 2005,
	// defects included and reported (seed2005.go).
	SSOLStack2005 Strategy = "ssol-stack-2005"
	// SSOLStack2006 is SSOLStack under the March 2006 repost's global
	// lock: one hit in flight system-wide, the others spinning
	// (seedlock.go).
	SSOLStack2006 Strategy = "ssol-stack-2006"
)

// Strategies lists the strategies reports, tables and sweeps compare, in
// their order.
var Strategies = []Strategy{Inline, SSOLStack, XOL}

// SeedStrategies are the historical variants of ssol-stack, accepted
// wherever a strategy is, outside the comparisons.
var SeedStrategies = []Strategy{SSOLStack2005, SSOLStack2006}

// StrategyNames is the list of strategies as a message spells it:
// "inline, ssol-stack, xol, ssol-stack-2005, ssol-stack-2006".
func StrategyNames() string {
	var names []string
	for _, s := range append(slices.Clone(Strategies), SeedStrategies...) {
		names = append(names, string(s))
	}
	return strings.Join(names, ", ")
}

// CheckStrategy returns an error naming the known strategies unless s is
// one of them.
func CheckStrategy(s Strategy) error {
	if !slices.Contains(Strategies, s) && !slices.Contains(SeedStrategies, s) {
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
	// address (regs.go); for a return, the registers at the return, with
	// IP the return address and AX the return value.
	Regs Regs
	// Return: the probed function returned (a SPEC%return probe);
	// Func is its entry address.
	Return bool
	Func   uint64
	// Args are the probe's fetch arguments' values (fetchargs.go).
	Args []ArgValue
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
	return h.m.CurrentMM().Read(addr, buf)
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
	index   uint32    // its place in Engine.all
	arch    archProbe // the instruction as registration analysed it
	perCPU  []CPUCounts
	misses  []Miss
	windows []Window
	open    *Window // the window now open, if any
	cost    overhead
	life    lifetime    // when it is in the text (attach.go)
	ret     returnStats // a return probe's other counts (uretprobe.go)
	// emulated are the hits the xol strategy emulated (emulate.go).
	emulated uint64
	// also is the probe of the other kind (entry or return) sharing this
	// one's breakpoint; rider marks that one, which owns no breakpoint
	// (consumers.go).
	also  *probe
	rider bool
	// file is a probe on a file's list of instances (its parent's, for
	// an instance too): fileprobe.go. nil for the program's probes.
	file *fileState
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
	name     Strategy
	strategy strategy
	probes   map[uint64]*probe // the probes in the text now, by address
	all      []*probe          // every probe ever registered, in registration order
	gone     map[uint64]*probe // the last probe removed at each address
	plans    map[uint64][]plannedChange
	files    *fileProbes                    // the probes on files, armed by mappings (fileprobe.go)
	err      error                          // the first error of scheduled work (Err)
	tasks    map[int]*uprobeTask            // tid -> its probe state
	stack    stackPlace                     // ssol-stack's slots
	xols     map[*mmu.AddressSpace]*xolArea // each address space's XOL page and its slots (xol)
	// perProcess counts each probe's executions by process (perprocess.go).
	perProcess map[uint32]map[int]*procCounts
	seed       seedGlobals // ssol-stack-2005's globals
	lock       *uprobeLock // ssol-stack-2006's lock
	stats      Stats
	handler    func(Hit)
	events     chunklog.Log[eventRecord]
	argTexts   []string    // the hits' fetch arguments, for the event log
	onEvent    func(Event) // OnEvent's listener, if any
	regBuf     [18]uint64
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
	// Args are a hit's fetch arguments as the trace prints them,
	// "n=5 p=0x7ffd1000" (fetchargs.go); empty without any.
	Args string `json:"args,omitempty"`
}

// eventRecord is an Event as the engine logs it: no pointers, so the log
// costs the garbage collector nothing (one is logged per probed execution).
type eventRecord struct {
	cycle uint64
	vcpu  int32
	tid   int32
	probe uint32 // index in Engine.all
	kind  eventKind
	args  uint32 // 1 + index in Engine.argTexts; 0 for none
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
		out[i] = e.event(r)
	}
	return out
}

// OnEvent makes fn receive every event as it is logged, in the log's
// order, on the goroutine running the machine (at the ordered event
// itself: a hit's event comes before its handler runs). Set it before the
// machine runs; fn must not call back into the machine.
func (e *Engine) OnEvent(fn func(Event)) { e.onEvent = fn }

func (e *Engine) event(r eventRecord) Event {
	ev := Event{Cycle: r.cycle, VCPU: int(r.vcpu), TID: int(r.tid),
		Probe: e.all[r.probe].spec.Text, Kind: eventKindNames[r.kind]}
	if r.args != 0 {
		ev.Args = e.argTexts[r.args-1]
	}
	return ev
}

func (e *Engine) log(kind eventKind, p *probe, cycle uint64, vcpu, tid int) {
	e.record(eventRecord{cycle: cycle, vcpu: int32(vcpu), tid: int32(tid), probe: p.index, kind: kind})
}

// record appends r to the event log and hands it to the OnEvent listener,
// at the ordered event itself.
func (e *Engine) record(r eventRecord) {
	e.events.Add(r)
	if r.kind <= kindSpuriousMiss {
		e.countProcess(r)
	}
	if e.onEvent != nil {
		e.onEvent(e.event(r))
	}
}

// Stats returns what the strategy had to do (out-of-line slots).
func (e *Engine) Stats() Stats { return e.stats }

// Attach makes an engine on m with strategy s and registers specs, whose
// breakpoints are written at once. handler, if not nil, runs on every hit.
// Call it before m.Run; AttachAt and DetachAt schedule more changes.
func Attach(m *smp.Machine, specs []Spec, s Strategy, handler func(Hit)) (*Engine, error) {
	if err := CheckStrategy(s); err != nil {
		return nil, err
	}
	e := &Engine{m: m, name: s, probes: map[uint64]*probe{}, gone: map[uint64]*probe{}, plans: map[uint64][]plannedChange{}, tasks: map[int]*uprobeTask{},
		stack: stackPlace{inFlight: map[uint64]int{}}, handler: handler, xols: map[*mmu.AddressSpace]*xolArea{}}
	switch s {
	case Inline:
		e.strategy = inlineStep{}
	case SSOLStack:
		e.strategy = outOfLine{place: &e.stack}
	case XOL:
		e.strategy = outOfLine{place: xolPlace{}, waitForSlot: true, emulate: true}
	case SSOLStack2005:
		e.strategy = seedStack2005{}
	case SSOLStack2006:
		e.strategy = outOfLine{place: &e.stack}
		e.lock = &uprobeLock{}
	}
	for _, sp := range specs {
		if err := e.AttachAt(0, sp); err != nil {
			return nil, err
		}
	}
	m.SetTrapHandler(e.onTrap)
	m.SetStepAbortHandler(e.onStepAbort)
	return e, nil
}

const int3 = 0xcc

func (e *Engine) wordSize() uint64 {
	if e.m.Image().Arch == loader.ArchI386 {
		return 4
	}
	return 8
}

func (e *Engine) mode() int {
	if e.wordSize() == 4 {
		return 32
	}
	return 64
}

// logHit logs a hit of p, with its fetch arguments, and runs its handler.
func (e *Engine) logHit(p *probe, ev smp.TrapEvent, ip, fn uint64) error {
	var regs Regs
	var args []ArgValue
	if e.handler != nil || len(p.spec.Args) > 0 {
		var err error
		if regs, err = readRegs(e.m, e.mode(), ip, e.regBuf[:]); err != nil {
			return err
		}
		args = e.fetchArgs(p, regs)
	}
	rec := eventRecord{cycle: ev.Cycle, vcpu: int32(ev.VCPU), tid: int32(ev.TID), probe: p.index, kind: kindHit}
	if len(args) > 0 {
		e.argTexts = append(e.argTexts, argsText(args))
		rec.args = uint32(len(e.argTexts))
	}
	e.record(rec)
	return e.runHandler(p, ev, regs, args, fn)
}

// fetchArgs evaluates p's fetch arguments with the registers at the hit.
func (e *Engine) fetchArgs(p *probe, regs Regs) []ArgValue {
	if len(p.spec.Args) == 0 {
		return nil
	}
	env := fetchEnv{regs: regs, read: e.m.CurrentMM().Read, comm: e.m.Comm(), word: int(e.wordSize())}
	out := make([]ArgValue, len(p.spec.Args))
	for i, a := range p.spec.Args {
		out[i] = ArgValue{Name: a.Name, Value: env.fetch(a)}
	}
	return out
}

// argsText is fetched arguments as the trace prints them.
func argsText(args []ArgValue) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(a.Name)
		b.WriteByte('=')
		b.WriteString(a.Value)
	}
	return b.String()
}

// runHandler runs the modelled handler and the Go one for a hit of p, and
// books what they charged the vCPU as the handler phase. regs are the
// registers the handler sees (read by logHit when there is one).
func (e *Engine) runHandler(p *probe, ev smp.TrapEvent, regs Regs, args []ArgValue, fn uint64) error {
	start := e.m.ClockFP()
	e.m.Charge(e.m.Profile().Kernel.ProbeHandler)
	if e.handler != nil {
		e.handler(Hit{Probe: &p.spec, Cycle: ev.Cycle, VCPU: ev.VCPU, TID: ev.TID, Regs: regs,
			Return: p.spec.Return, Func: fn, Args: args, m: e.m})
	}
	p.cost.handler += e.m.ClockFP() - start
	return nil
}

// byteAt reads the current text byte at addr.
func (e *Engine) byteAt(addr uint64) byte {
	var b [1]byte
	if e.m.CurrentMM().ReadForce(addr, b[:]) != nil {
		return 0
	}
	return b[0]
}

// miss counts an execution of p that ran the original instruction.
func (e *Engine) miss(p *probe, cycle uint64, vcpu, tid int) {
	c := &p.perCPU[vcpu]
	c.Executions++
	c.Misses++
	p.misses = append(p.misses, Miss{Cycle: cycle, VCPU: vcpu, TID: tid})
	e.log(kindMiss, p, cycle, vcpu, tid)
}

// onTrap handles int3 at a probe and the #DB that ends a step. The
// exception's own cost, which the machine charges when this returns true,
// is booked then: to the trap phase for an int3, to the step for a #DB,
// with the stepped instruction.
func (e *Engine) onTrap(ev smp.TrapEvent) bool {
	switch ev.Intno {
	case 3:
		if a := e.xolArea(); a.trampolineSet && ev.PC-1 == a.base {
			return e.onTrampoline(ev)
		}
		p := e.probes[ev.PC-1]
		if p == nil {
			if p = e.gone[ev.PC-1]; p != nil && e.byteAt(p.spec.Addr) != int3 {
				if t := e.tasks[ev.TID]; t != nil && t.state == utaskWaitSlot {
					t.endStep() // it slept for a slot for a probe now removed
				}
				// An int3 of a removed probe that waited for its ordered
				// turn past the removal: at this cycle the original byte
				// is back for good, so the thread runs the original
				// instruction, which no probe counts (attach.go).
				e.m.UndoTrap(p.spec.Addr)
				return e.m.SetPC(p.spec.Addr) == nil
			}
			return false
		}
		if t := e.tasks[ev.TID]; t != nil && t.state == utaskWaitSlot {
			// Woken for a slot: the thread is back in the kernel where it
			// slept, with the hit's handler run (xolarea.go).
			e.m.ResumedTrap()
			t.state = utaskRunning
			return e.strategy.afterHandler(e, t, t.active, ev) == nil
		}
		if e.byteAt(p.spec.Addr) != int3 {
			return e.undoBreakpoint(p, ev)
		}
		if e.racesRemoval(p, ev) {
			return e.spuriousTrap(p, ev)
		}
		if e.lock != nil {
			t := e.task(ev.TID)
			resumed := t.state == utaskSpinLock
			if resumed {
				e.resumeSpinner(t, ev)
			}
			if !e.lockOrSpin(t, p) {
				if !resumed {
					p.cost.trap += e.m.TrapCycles() << 8
				}
				return true
			}
			if resumed {
				return e.onBreakpoint(p, ev) == nil
			}
		}
		if e.onBreakpoint(p, ev) != nil {
			return false
		}
		p.cost.trap += e.m.TrapCycles() << 8
		return true
	case 1:
		t := e.stepping(ev.TID)
		if t == nil {
			return false
		}
		err := t.step.singlestepped(e, t, ev)
		if e.lock != nil {
			e.unlock(t)
		}
		return err == nil
	}
	return false
}

// onStepAbort ends the step of ev.TID, whose stepped instruction faulted
// (arch_uprobe_abort_xol): the step's own abort, then TF as the program
// had it. The machine then reports the fault at the probed instruction.
func (e *Engine) onStepAbort(ev smp.TrapEvent) {
	t := e.stepping(ev.TID)
	if t == nil {
		return
	}
	err := t.step.abortStep(e, t, ev)
	if !t.savedTF {
		err = errors.Join(err, e.m.SetTrapFlag(false))
	}
	if e.lock != nil {
		e.unlock(t)
	}
	if err != nil {
		e.fail(err)
	}
	e.stats.StepAborts++
	t.endStep()
}

// undoBreakpoint handles a trap on p's int3 that waited for its ordered
// turn while another vCPU put the original byte back earlier in cycle
// order: at this cycle the thread executes the original instruction, not
// the int3. It is a miss, and the trap did not happen (smp's UndoTrap: no
// exception is charged, nothing is booked to the probe's overhead).
// (Linux's handle_swbp, finding no breakpoint, restarts the instruction
// too; the Spurious kind is kept for a trap on a probe that is gone.)
func (e *Engine) undoBreakpoint(p *probe, ev smp.TrapEvent) bool {
	e.missBreakpoint(p, ev.Cycle, ev.VCPU, ev.TID)
	e.task(ev.TID).restarted = p
	e.m.UndoTrap(p.spec.Addr)
	return e.m.SetPC(p.spec.Addr) == nil
}

// onBreakpoint handles a trap on p's int3: a hit, its handler, then the
// strategy.
func (e *Engine) onBreakpoint(p *probe, ev smp.TrapEvent) error {
	t := e.task(ev.TID)
	for _, q := range p.consumers() {
		if err := e.consume(t, q, ev); err != nil {
			return err
		}
	}
	fl, err := e.m.Flags()
	if err != nil {
		return err
	}
	t.savedTF = fl&trapFlag != 0
	return e.strategy.afterHandler(e, t, p, ev)
}
