package probesim

import (
	"github.com/probesim/probesim/probes"
)

// What callbacks see. These are probesim's own types, not aliases of the
// probe engine's, so that `go doc` shows every field; they are converted
// from the engine's at each call.

// Hit is what a probe handler (Config.OnHit) sees: the probe, the cycle,
// vCPU and thread of the trap, and the thread's registers.
type Hit struct {
	Probe Probe
	Cycle uint64 // the trapping vCPU's clock at the int3
	VCPU  int
	TID   int
	// Regs are the trapping thread's registers as the kernel saved them
	// on exception entry, with IP at the probe address; for a return
	// probe's hit, the registers at the return, with IP the return address
	// and AX the return value. Reading them costs the guest nothing.
	Regs Regs
	// Return: the probed function returned (a SPEC%return probe); Func is
	// its entry address.
	Return bool
	Func   uint64
	// Args are the probe's fetch arguments' values, in the spec's order:
	// "probed n=%di:s32" gives [{n -3}].
	Args []ArgValue

	hit probes.Hit
}

// ArgValue is a fetch argument's value at a hit, as the trace prints it.
type ArgValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Charge adds cycles of the handler's own simulated work to the trapping
// vCPU; the report counts them in the probe's handler phase.
func (h Hit) Charge(cycles uint64) { h.hit.Charge(cycles) }

// ReadMemory reads guest memory at addr as the handler's copy_from_user
// would (an i386 function's arguments are on the stack, at Regs.SP+4 on
// entry). It fails on memory the thread could not read.
func (h Hit) ReadMemory(addr uint64, buf []byte) error { return h.hit.ReadMemory(addr, buf) }

func hitOf(h probes.Hit) Hit {
	var args []ArgValue
	if len(h.Args) > 0 {
		args = make([]ArgValue, len(h.Args))
		for i, a := range h.Args {
			args[i] = ArgValue(a)
		}
	}
	return Hit{
		Probe: probeOf(h.Probe), Cycle: h.Cycle, VCPU: h.VCPU, TID: h.TID, Regs: Regs(h.Regs),
		Return: h.Return, Func: h.Func, Args: args, hit: h,
	}
}

// Probe is a placed probe: where its spec resolved.
type Probe struct {
	Spec        string // as given: "probed", "probed+6", "0x401a16"
	Address     uint64 // the probed instruction's address
	Symbol      string // the symbol containing Address ("" when none does)
	Offset      uint64 // Address - the symbol's start
	Instruction string // the probed instruction, Intel syntax
	Return      bool   // a return probe (SPEC%return): Address is the function's entry
}

func probeOf(s *probes.Spec) Probe {
	if s == nil {
		return Probe{}
	}
	return Probe{Spec: s.Text, Address: s.Addr, Symbol: s.Symbol, Offset: s.Offset, Instruction: probes.Disassemble(s.Insn, s.Addr), Return: s.Return}
}

// Regs are a thread's user registers at a probe hit. In 32-bit mode
// (Mode 32) the E-registers are in the low halves of AX..SP and R8-R15
// are zero. As JSON they are one object keyed by the mode's register
// names (rax ... r15, rip, rflags; or eax ... eip, eflags).
type Regs struct {
	Mode                           int // 32 or 64
	AX, BX, CX, DX, SI, DI, BP, SP uint64
	R8, R9, R10, R11               uint64
	R12, R13, R14, R15             uint64
	IP                             uint64 // the probe address
	Flags                          uint64 // eflags / rflags
}

// NamedReg is one register and its value.
type NamedReg struct {
	Name  string
	Value uint64
}

// Named returns the registers by their mode's names, in a fixed order:
// rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp, r8-r15, rip, rflags in 64-bit
// mode; eax, ebx, ecx, edx, esi, edi, ebp, esp, eip, eflags in 32-bit mode.
func (r Regs) Named() []NamedReg {
	named := probes.Regs(r).Named()
	out := make([]NamedReg, len(named))
	for i, n := range named {
		out[i] = NamedReg(n)
	}
	return out
}

// MarshalJSON writes the registers as one object keyed by their names, in
// Named's order.
func (r Regs) MarshalJSON() ([]byte, error) { return probes.Regs(r).MarshalJSON() }

// Event is one entry of the probe event log (Result.Events, OnEvent).
type Event struct {
	Cycle uint64 `json:"cycle"` // the clock of the vCPU it happened on
	VCPU  int    `json:"vcpu"`
	TID   int    `json:"tid"`
	Probe string `json:"probe"` // the probe's spec, as given
	Kind  string `json:"event"` // one of the Event* kinds
	// Args are a hit's fetch arguments as the trace prints them,
	// "n=5 p=0x7ffd1000"; empty without any.
	Args string `json:"args,omitempty"`
}

// The kinds of Event.
const (
	// EventHit: the handler ran.
	EventHit = probes.EventHit
	// EventMiss: the probed instruction ran without a trap, while its
	// original byte was back in the text (inline).
	EventMiss = probes.EventMiss
	// EventSpuriousMiss: the vCPU trapped on an int3 that was gone by the
	// time the kernel looked; the instruction restarts without a hit.
	EventSpuriousMiss = probes.EventSpuriousMiss
	// EventWindowOpen: inline wrote the original byte back for a step.
	EventWindowOpen = probes.EventWindowOpen
	// EventWindowClose: int3 is written again.
	EventWindowClose = probes.EventWindowClose
)

// IsMiss says whether the event is a miss of either kind.
func (e Event) IsMiss() bool { return e.Kind == EventMiss || e.Kind == EventSpuriousMiss }

func eventsOf(evs []probes.Event) []Event {
	out := make([]Event, len(evs))
	for i, e := range evs {
		out[i] = Event(e)
	}
	return out
}
