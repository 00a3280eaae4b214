package kernel

import "syscall"

// Interrupted syscalls (include/linux/errno.h, arch/x86/kernel/signal.c).
//
// A syscall asleep when a signal it does not block arrives wakes and
// returns one of the restart codes below instead of its result; they
// never reach user space: ExitToUser turns them into EINTR or restarts
// the syscall (the ip goes back over the syscall instruction and the
// return register gets the syscall number again), as handle_signal and
// arch_do_signal_or_restart decide:
//
//	code                   handler, SA_RESTART   handler     no handler
//	ERESTARTSYS            restart               EINTR       restart
//	ERESTARTNOINTR         restart               restart     restart
//	ERESTARTNOHAND         EINTR                 EINTR       restart
//	ERESTART_RESTARTBLOCK  EINTR                 EINTR       restart
//
// Deviation: ERESTART_RESTARTBLOCK restarts the syscall itself with its
// first arguments (restart_syscall would go on with the time left).

const (
	errRestartSys    = syscall.Errno(512)
	errRestartNoIntr = syscall.Errno(513)
	errRestartNoHand = syscall.Errno(514)
	errRestartBlock  = syscall.Errno(516)
)

// isRestart reports whether a syscall's return value is a restart code.
func isRestart(ret uint64) bool {
	e := -int64(ret)
	if uint32(ret)>>31 == 1 && ret>>32 == 0 {
		e = -int64(int32(ret)) // i386
	}
	return e >= int64(errRestartSys) && e <= int64(errRestartBlock) && e != 515
}

// restartForHandler applies handle_signal's rules to regs before a
// handler's frame is built.
func (k *Kernel) restartForHandler(t *Task, regs *Regs, e syscall.Errno, act sigAction) {
	switch e {
	case errRestartBlock, errRestartNoHand:
		regs.AX = k.errnoReg(syscall.EINTR)
	case errRestartSys:
		if act.Flags&saRestart == 0 {
			regs.AX = k.errnoReg(syscall.EINTR)
			return
		}
		fallthrough
	case errRestartNoIntr:
		rewind(t, regs)
	}
}

// restartSyscall makes the syscall run again (no handler ran).
func (k *Kernel) restartSyscall(t *Task, regs *Regs) { rewind(t, regs) }

// rewind puts the task back on its syscall instruction (2 bytes, syscall
// or int $0x80) with the syscall number in the return register.
func rewind(t *Task, regs *Regs) {
	regs.AX = t.syscallNr
	regs.IP -= 2
}

func (k *Kernel) errnoReg(e syscall.Errno) uint64 {
	if k.cfg.Arch == I386 {
		return uint64(uint32(-int32(e)))
	}
	return errno(e)
}
