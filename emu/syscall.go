package emu

import (
	"github.com/probesim/probesim/emu/uc"
	"github.com/probesim/probesim/kernel"
)

// syscallABI names the registers of a syscall ABI.
type syscallABI struct {
	nr   uc.Reg
	args []uc.Reg // number register first, then the six arguments
	ret  uc.Reg
}

func abiFor(a kernel.Arch) syscallABI {
	if a == kernel.I386 {
		// int $0x80: eax = nr; ebx, ecx, edx, esi, edi, ebp.
		return syscallABI{nr: uc.EAX, ret: uc.EAX,
			args: []uc.Reg{uc.EAX, uc.EBX, uc.ECX, uc.EDX, uc.ESI, uc.EDI, uc.EBP}}
	}
	// syscall: rax = nr; rdi, rsi, rdx, r10, r8, r9.
	return syscallABI{nr: uc.RAX, ret: uc.RAX,
		args: []uc.Reg{uc.RAX, uc.RDI, uc.RSI, uc.RDX, uc.R10, uc.R8, uc.R9}}
}

// onSyscall is the x86-64 syscall instruction hook.
func (c *Core) onSyscall() { c.syscallHook() }

// syscallHook runs a syscall from inside Unicorn, or, when the machine's
// gate says other vCPUs must first catch up to this one's clock, stops with
// EventSyscall and leaves the call in the registers for RunPendingSyscall.
// Either way Unicorn moves the ip past the instruction.
func (c *Core) syscallHook() {
	if c.event.Kind == EventFault {
		// A fault earlier in this block is pending (its stop takes effect
		// at the block's end, privileged.go): the syscall does not happen.
		return
	}
	if c.syscallGate != nil && !c.syscallGate() {
		c.stop(Event{Kind: EventSyscall})
		return
	}
	if ev, stop := c.doSyscall(true); stop {
		c.stop(ev)
	}
}

// RunPendingSyscall runs the syscall a gated hook deferred, now that the
// machine lets it happen. If the returned bool is true, the event ends the
// slice as it would have inside the hook.
// A deferred vsyscall (vsyscall.go) is one too: its ip is still in the
// vsyscall page, where no syscall instruction can be.
func (c *Core) RunPendingSyscall() (Event, bool) {
	if c.inVsyscallPage(c.PC()) {
		return c.emulateVsyscall()
	}
	return c.doSyscall(false)
}

// ResumeSyscall finishes the syscall the running task slept in, now that
// it woke and the machine loaded it (kernel.Kernel.Resume): the result is
// written as doSyscall writes it, and the bool says whether the event ends
// the slice (the task blocks again, or exits). No entry cost is charged:
// the task never left the kernel.
func (c *Core) ResumeSyscall() (Event, bool) {
	c.syscallInHook = false
	ret, res := c.kernel.Resume(c.thread)
	return c.syscallOutcome(ret, res, false)
}

// doSyscall reads the call out of the registers, runs it in the modelled
// kernel, charges the entry/exit cost and writes the result back. inHook
// tells whether Unicorn still has the ip on the syscall instruction.
func (c *Core) doSyscall(inHook bool) (Event, bool) {
	if err := c.eng.RegReadBatch(c.abi.args, c.argVals); err != nil {
		return c.faultEvent(kernel.SIGSEGV, "general protection", 0, 0, 0), true
	}
	var a kernel.Args
	copy(a[:], c.argVals[1:])
	c.counters.Add(0, c.kernelCostFP(c.prof.Kernel.SyscallEntryExit))
	c.syscallInHook = inHook
	c.pcAtSyscall = inHook && c.arch == kernel.X8664
	ret, res := c.kernel.Syscall(c.thread, c.argVals[0], a)
	return c.syscallOutcome(ret, res, inHook)
}

// syscallOutcome writes a syscall's result and turns its outcome into the
// event that ends the slice, if any.
func (c *Core) syscallOutcome(ret uint64, res kernel.Result, inHook bool) (Event, bool) {
	defer func() { c.pcAtSyscall = false }()
	switch res.Outcome {
	case kernel.ExitThread:
		return Event{Kind: EventExit, Status: res.Status}, true
	case kernel.ExitGroup:
		return Event{Kind: EventExitGroup, Status: res.Status}, true
	case kernel.Killed:
		return Event{Kind: EventKilled, Signal: res.Signal}, true
	}
	if !res.RegsSet {
		c.writeResult(ret, inHook)
	}
	if res.Exec {
		// A new program in a new address space: the slice ends here, and
		// the next starts with its return to user mode.
		return Event{Kind: EventExec}, true
	}
	if res.Outcome == kernel.Block {
		return Event{Kind: EventBlock}, true
	}
	// The return to user mode: pending signals are delivered now.
	if r := c.kernel.ExitToUser(c.thread, true, false); r.Outcome == kernel.Killed {
		return Event{Kind: EventKilled, Signal: r.Signal}, true
	}
	return Event{}, false
}

// ExitToUser is the return to user mode of the running task outside a
// syscall (the start of a slice, after a fault a handler takes): its
// deliverable signals are delivered, unless a probe single-steps it
// (stepping). The bool says the event ends the process.
func (c *Core) ExitToUser(stepping bool) (Event, bool) {
	if r := c.kernel.ExitToUser(c.thread, false, stepping); r.Outcome == kernel.Killed {
		return Event{Kind: EventKilled, Signal: r.Signal}, true
	}
	return Event{}, false
}

// SyscallNextPC is the address after the syscall being served: what a new
// thread of clone resumes at.
func (c *Core) SyscallNextPC() uint64 {
	pc := c.PC()
	if c.syscallInHook && c.arch == kernel.X8664 {
		pc += 2
	}
	return pc
}

// trapKinds maps CPU exception vectors to the signal Linux sends and the
// name do_trap prints (arch/x86/kernel/traps.c).
var trapKinds = map[uint32]struct {
	sig  int
	name string
}{
	0:  {kernel.SIGFPE, "divide error"},
	1:  {kernel.SIGTRAP, "debug"},
	3:  {kernel.SIGTRAP, "int3"},
	4:  {kernel.SIGSEGV, "overflow"},
	5:  {kernel.SIGSEGV, "bounds"},
	6:  {kernel.SIGILL, "invalid opcode"},
	7:  {kernel.SIGFPE, "device not available"},
	11: {kernel.SIGBUS, "segment not present"},
	12: {kernel.SIGBUS, "stack segment"},
	13: {kernel.SIGSEGV, "general protection"},
	16: {kernel.SIGFPE, "coprocessor error"},
	17: {kernel.SIGBUS, "alignment check"},
	19: {kernel.SIGFPE, "simd exception"},
}

// onInterrupt handles int $0x80 on i386 and every CPU exception.
func (c *Core) onInterrupt(intno uint32) {
	if intno == 0x80 && c.arch == kernel.I386 {
		c.syscallHook()
		return
	}
	if intno == 13 && c.emulateTSC() {
		// rdtsc or rdtscp (privileged.go) completed. With TF set the CPU
		// raises the single-step #DB after it, which Unicorn, the #GP
		// being handled here, does not: the step of a probed rdtsc would
		// run on past its copy.
		if fl, err := c.eng.RegRead(uc.EFLAGS); err == nil && fl&eflagsTF != 0 {
			c.onInterrupt(1)
		}
		return
	}
	if (intno == 1 || intno == 3) && c.trapGate != nil {
		c.loadTrapRegs()
		action := c.trapGate(intno)
		// Writing the ip back before returning makes Unicorn resume there;
		// a write that fails leaves the thread where it trapped, which is
		// what the gate's own failed write would have done.
		_ = c.dropTrapRegs()
		switch action {
		case TrapHandled:
			return
		case TrapBlock:
			c.stop(Event{Kind: EventBlock})
			return
		case TrapDefer:
			// The machine runs the trap later, in cycle order: the ip stays
			// past the int3 (or after the stepped instruction) until then.
			c.stop(Event{Kind: EventTrap, Intno: intno})
			return
		}
	}
	c.stop(c.TrapFaultEvent(intno))
}

// TrapFaultEvent is the fault an unhandled CPU exception (or int $N) with
// vector intno raises for the running thread.
func (c *Core) TrapFaultEvent(intno uint32) Event {
	k, ok := trapKinds[intno]
	if !ok {
		// int $N with no user-callable gate raises #GP: SIGSEGV.
		k.sig, k.name = kernel.SIGSEGV, "general protection"
	}
	pc := c.PC()
	if intno == 3 {
		// Unicorn reports int3 with the ip already past it, as the CPU does;
		// the kernel reports the trap at the int3 itself.
		pc--
	}
	return c.faultEvent(k.sig, k.name, pc, pc, 0)
}

func (c *Core) onInvalidInsn() bool {
	pc := c.PC()
	c.stop(c.faultEvent(kernel.SIGILL, "invalid opcode", pc, pc, 0))
	return false
}

// writeResult sets the return register. On x86-64 the syscall instruction
// also leaves the return address in rcx and the flags in r11, which some
// hand-written guest code reads; Unicorn does not, so the kernel side does.
// In the syscall hook Unicorn's rip is still the syscall instruction (2
// bytes long), measured on 2.0.1; outside it, rip is already past.
func (c *Core) writeResult(ret uint64, inHook bool) {
	if c.arch == kernel.I386 {
		c.eng.RegWrite(c.abi.ret, ret)
		return
	}
	c.eng.RegReadBatch(c.flagRegs[:], c.flagVals[:])
	next := c.flagVals[0]
	if inHook {
		next += 2
	}
	c.retVals = [3]uint64{ret, next, c.flagVals[1]}
	c.eng.RegWriteBatch(c.retRegs[:], c.retVals[:])
}

var (
	x8664FlagRegs = [2]uc.Reg{uc.RIP, uc.EFLAGS}
	x8664RetRegs  = [3]uc.Reg{uc.RAX, uc.RCX, uc.R11}
)
