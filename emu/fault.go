package emu

import (
	"fmt"

	"github.com/probesim/probesim/kernel"
	"github.com/probesim/probesim/mmu"
)

// Fault is a guest fault that ends the run, described as the kernel would
// see it.
type Fault struct {
	Signal int    // kernel.SIGSEGV, SIGILL, SIGBUS, SIGFPE, SIGTRAP
	Kind   string // "segfault", "invalid opcode", "divide error", ...
	Addr   uint64 // faulting data address (segfaults), else the instruction
	RIP    uint64
	SP     uint64
	// ErrorCode is the x86 page-fault error code for segfaults: bit 0
	// protection violation, bit 1 write, bit 2 user, bit 4 instruction fetch
	// (arch/x86/include/asm/trap_pf.h).
	ErrorCode uint64
	// Detail is the kernel's own line for a fault without a segfault
	// line: a vsyscall refused (warn_bad_vsyscall's message and
	// registers).
	Detail string
	// VMA is the mapping that holds RIP, if any (print_vma_addr).
	VMA   mmu.VMA
	InVMA bool
}

// Page-fault error code bits.
const (
	pfProt  = 1 << 0
	pfWrite = 1 << 1
	pfUser  = 1 << 2
	pfInstr = 1 << 4
)

// Message formats the fault as arch/x86/mm/fault.c show_signal_msg or
// arch/x86/kernel/traps.c do_trap print it, e.g.
//
//	nx[1000]: segfault at 7ffffffde000 ip 00007ffffffde000 sp 00007ffffffddf80 error 15 in [stack]
func (f Fault) Message(comm string, pid int, wide bool) string {
	ptr := func(v uint64) string {
		if wide {
			return fmt.Sprintf("%016x", v)
		}
		return fmt.Sprintf("%08x", v)
	}
	where := ""
	if f.InVMA {
		name := f.VMA.Name
		if name == "" {
			name = "anon"
		}
		where = fmt.Sprintf(" in %s[%x+%x]", baseName(name), f.VMA.Start, f.VMA.End-f.VMA.Start)
	}
	if f.Kind == "vsyscall" {
		// warn_bad_vsyscall (arch/x86/entry/vsyscall/vsyscall_64.c).
		return fmt.Sprintf("%s[%d] %s", comm, pid, f.Detail)
	}
	if f.Signal == kernel.SIGSEGV && f.Kind == "segfault" {
		return fmt.Sprintf("%s[%d]: segfault at %x ip %s sp %s error %x%s",
			comm, pid, f.Addr, ptr(f.RIP), ptr(f.SP), f.ErrorCode, where)
	}
	return fmt.Sprintf("traps: %s[%d] trap %s ip:%x sp:%x error:%x%s",
		comm, pid, f.Kind, f.RIP, f.SP, f.ErrorCode, where)
}

func baseName(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[i+1:]
		}
	}
	return p
}
