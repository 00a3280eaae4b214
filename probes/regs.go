package probes

import (
	"strconv"

	"github.com/probesim/probesim/emu/uc"
	"github.com/probesim/probesim/smp"
)

// Registers a handler sees.
//
// Linux hands a uprobe handler the pt_regs saved at the int3's exception
// entry, with the ip already set back to the probe address
// (kernel/events/uprobes.c, handle_swbp: "change it in advance for
// ->handler() and restart"). probesim reads the trapping thread's
// general-purpose registers, sp and flags from the engine in one batched
// call, and reports the probe address as the ip. Reading them is free in
// simulated cycles: the kernel saved them on exception entry anyway.

// Regs are a thread's user registers at a probe hit. In 32-bit mode the
// E-registers are in the low halves of AX..SP and R8-R15 are zero.
type Regs struct {
	Mode                           int // 32 or 64
	AX, BX, CX, DX, SI, DI, BP, SP uint64
	R8, R9, R10, R11               uint64
	R12, R13, R14, R15             uint64
	IP                             uint64 // the probe address
	Flags                          uint64 // eflags / rflags
}

// The registers read at a hit, in the order of Regs' fields (IP is not
// read: it is the probe address).
var (
	regsRead64 = []uc.Reg{uc.RAX, uc.RBX, uc.RCX, uc.RDX, uc.RSI, uc.RDI, uc.RBP, uc.RSP,
		uc.R8, uc.R9, uc.R10, uc.R11, uc.R12, uc.R13, uc.R14, uc.R15, uc.EFLAGS}
	regsRead32 = []uc.Reg{uc.EAX, uc.EBX, uc.ECX, uc.EDX, uc.ESI, uc.EDI, uc.EBP, uc.ESP, uc.EFLAGS}
)

// readRegs captures the registers of the thread m is handling, with ip.
func readRegs(m *smp.Machine, mode int, ip uint64, buf []uint64) (Regs, error) {
	list := regsRead64
	if mode == 32 {
		list = regsRead32
	}
	vals := buf[:len(list)]
	if err := m.ReadRegs(list, vals); err != nil {
		return Regs{}, err
	}
	v := vals
	r := Regs{Mode: mode, IP: ip, Flags: v[len(v)-1],
		AX: v[0], BX: v[1], CX: v[2], DX: v[3], SI: v[4], DI: v[5], BP: v[6], SP: v[7]}
	if mode == 64 {
		r.R8, r.R9, r.R10, r.R11, r.R12, r.R13, r.R14, r.R15 = v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15]
	}
	return r, nil
}

// Named returns the registers by their mode's names, in a fixed order:
// rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp, r8-r15, rip, rflags in 64-bit
// mode; eax, ebx, ecx, edx, esi, edi, ebp, esp, eip, eflags in 32-bit mode.
func (r Regs) Named() []NamedReg {
	if r.Mode == 32 {
		return []NamedReg{{"eax", r.AX}, {"ebx", r.BX}, {"ecx", r.CX}, {"edx", r.DX},
			{"esi", r.SI}, {"edi", r.DI}, {"ebp", r.BP}, {"esp", r.SP}, {"eip", r.IP}, {"eflags", r.Flags}}
	}
	return []NamedReg{{"rax", r.AX}, {"rbx", r.BX}, {"rcx", r.CX}, {"rdx", r.DX},
		{"rsi", r.SI}, {"rdi", r.DI}, {"rbp", r.BP}, {"rsp", r.SP},
		{"r8", r.R8}, {"r9", r.R9}, {"r10", r.R10}, {"r11", r.R11},
		{"r12", r.R12}, {"r13", r.R13}, {"r14", r.R14}, {"r15", r.R15},
		{"rip", r.IP}, {"rflags", r.Flags}}
}

// NamedReg is one register and its value.
type NamedReg struct {
	Name  string
	Value uint64
}

// MarshalJSON writes the registers as one object keyed by their names, in
// Named's order (a map would lose it).
func (r Regs) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 400)
	b = append(b, '{')
	for i, n := range r.Named() {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, n.Name...)
		b = append(b, '"', ':')
		b = strconv.AppendUint(b, n.Value, 10)
	}
	return append(b, '}'), nil
}
