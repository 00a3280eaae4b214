package emu

import (
	"fmt"
	"syscall"

	"github.com/probesim/probesim/emu/uc"
	"github.com/probesim/probesim/kernel"
	"github.com/probesim/probesim/mmu"
)

// The legacy vsyscall page of x86-64 (arch/x86/entry/vsyscall/
// vsyscall_64.c), as Linux 5.3 and later give it by default
// (vsyscall=xonly): the page at VsyscallAddr is not readable, and a call
// to one of its three entry points (gettimeofday at +0x000, time at
// +0x400, getcpu at +0x800) faults on the instruction fetch, which the
// kernel emulates (emulate_vsyscall): the syscall runs with the caller's
// rdi and rsi, rax gets its result, and a ret is emulated (the ip is the
// return address on the stack, rsp moves up 8). Old static programs
// (dietlibc's and klibc's time functions, Go before 1.5) call it.
//
// Emulated as emulate_vsyscall does in Linux 6.x:
//   - a fetch anywhere else in the page ("misaligned vsyscall"), a stack
//     the return address cannot be read from, or a syscall that returns
//     EFAULT (a bad pointer) is a SIGSEGV with si_code SI_KERNEL and the
//     ip left on the page; a pointer argument beyond TASK_SIZE
//     (write_ok_or_segv) is a SIGSEGV with SEGV_MAPERR at that address;
//     NULL pointers are fine (nothing is written);
//   - a read or write of the page is an ordinary segfault (the page has no
//     VMA here: probesim's address space ends at TASK_SIZE), and an i386
//     task has no vsyscall page at all.
//
// The call is served in cycle order like any syscall (the machine's gate),
// charged the profile's syscall entry/exit (the page fault that carries
// it on Linux costs more; the emulation is a syscall's work), and counted
// in the report as the syscall it emulates, with a kernel note
// "NAME:vsyscall page".

// VsyscallAddr is the address of the x86-64 vsyscall page.
const VsyscallAddr uint64 = 0xffffffffff600000

// vsyscallCall is one entry point: the syscall it stands for and the
// sizes of what its two pointer arguments point to (0: unused).
type vsyscallCall struct {
	name  string
	sysnr uint64
	sizes [2]uint64
}

var vsyscallCalls = [3]vsyscallCall{
	{name: "gettimeofday", sysnr: 96, sizes: [2]uint64{16, 8}}, // struct __kernel_old_timeval, struct timezone
	{name: "time", sysnr: 201, sizes: [2]uint64{8, 0}},         // __kernel_old_time_t
	{name: "getcpu", sysnr: 309, sizes: [2]uint64{4, 4}},       // unsigned cpu, node
}

// inVsyscallPage reports whether a fetch fault at pc is a vsyscall.
func (c *Core) inVsyscallPage(pc uint64) bool {
	return c.arch == kernel.X8664 && pc&^(mmu.PageSize-1) == VsyscallAddr
}

// vsyscallFault is what Run does with a fetch fault in the vsyscall page:
// the emulation, now or (when other vCPUs must catch up first) as a
// pending syscall the machine runs later (RunPendingSyscall). The bool
// says the returned event ends the slice.
func (c *Core) vsyscallFault() (Event, bool) {
	if c.syscallGate != nil && !c.syscallGate() {
		return Event{Kind: EventSyscall}, true
	}
	return c.emulateVsyscall()
}

// emulateVsyscall is emulate_vsyscall for the running thread, whose ip is
// in the vsyscall page.
func (c *Core) emulateVsyscall() (Event, bool) {
	regs := []uc.Reg{uc.RIP, uc.RSP, uc.RAX, uc.RDI, uc.RSI}
	vals := make([]uint64, len(regs))
	if err := c.eng.RegReadBatch(regs, vals); err != nil {
		return c.faultEvent(kernel.SIGSEGV, "general protection", 0, 0, 0), true
	}
	ip, sp, di, si := vals[0], vals[1], vals[3], vals[4]
	bad := func(why string, addr uint64) (Event, bool) {
		ev := c.faultEvent(kernel.SIGSEGV, "vsyscall", addr, ip, 0)
		ev.Fault.Detail = fmt.Sprintf("%s ip:%x cs:33 sp:%x ax:%x si:%x di:%x", why, ip, sp, vals[2], si, di)
		if addr != 0 {
			ev.Fault.ErrorCode = pfUser | pfWrite
		}
		return ev, true
	}
	off := ip - VsyscallAddr
	if off&0x3ff != 0 || off>>10 >= uint64(len(vsyscallCalls)) {
		return bad("misaligned vsyscall (exploit attempt or buggy program) -- look up the vsyscall kernel parameter if you need a workaround", 0)
	}
	call := vsyscallCalls[off>>10]
	var ret [8]byte
	if c.as.Read(sp, ret[:]) != nil {
		return bad("vsyscall with bad stack (exploit attempt?)", 0)
	}
	caller := uint64(ret[0]) | uint64(ret[1])<<8 | uint64(ret[2])<<16 | uint64(ret[3])<<24 |
		uint64(ret[4])<<32 | uint64(ret[5])<<40 | uint64(ret[6])<<48 | uint64(ret[7])<<56
	for i, p := range [2]uint64{di, si} {
		// write_ok_or_segv: access_ok, which NULL passes.
		if n := call.sizes[i]; n != 0 && p != 0 && (p > mmu.TaskSize64 || n > mmu.TaskSize64-p) {
			return bad("vsyscall fault (exploit attempt?)", p)
		}
	}
	c.counters.Add(0, c.kernelCostFP(c.prof.Kernel.SyscallEntryExit))
	r, res := c.kernel.Vsyscall(c.thread, call.sysnr, kernel.Args{di, si, 0})
	if efault := syscall.EFAULT; r == -uint64(efault) {
		return bad("vsyscall fault (exploit attempt?)", 0)
	}
	if res.Outcome != kernel.Continue {
		// The three never block or end the process; anything else is a
		// kernel bug, reported as the trap Linux would not have made.
		return c.faultEvent(kernel.SIGSEGV, "general protection", 0, ip, 0), true
	}
	if err := c.eng.RegWriteBatch([]uc.Reg{uc.RAX, uc.RIP, uc.RSP}, []uint64{r, caller, sp + 8}); err != nil {
		return c.faultEvent(kernel.SIGSEGV, "general protection", 0, ip, 0), true
	}
	// The return to user mode: pending signals are delivered now.
	if r := c.kernel.ExitToUser(c.thread, false, false); r.Outcome == kernel.Killed {
		return Event{Kind: EventKilled, Signal: r.Signal}, true
	}
	return Event{}, false
}
