package kernel

import "syscall"

const numSignals = 64

// Signal numbers used here (x86 values).
const (
	SIGHUP   = 1
	SIGINT   = 2
	SIGQUIT  = 3
	SIGILL   = 4
	SIGTRAP  = 5
	SIGABRT  = 6
	SIGBUS   = 7
	SIGFPE   = 8
	SIGKILL  = 9
	SIGUSR1  = 10
	SIGUSR2  = 12
	SIGALRM  = 14
	SIGSEGV  = 11
	SIGPIPE  = 13
	SIGTERM  = 15
	SIGCHLD  = 17
	SIGCONT  = 18
	SIGSTOP  = 19
	SIGXCPU  = 24
	SIGURG   = 23
	SIGWINCH = 28
)

var signalNames = map[int]string{
	SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGTRAP: "SIGTRAP",
	SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGUSR1: "SIGUSR1",
	SIGSEGV: "SIGSEGV", SIGUSR2: "SIGUSR2", SIGPIPE: "SIGPIPE", SIGALRM: "SIGALRM", SIGTERM: "SIGTERM",
	16: "SIGSTKFLT", SIGCHLD: "SIGCHLD", SIGCONT: "SIGCONT", SIGSTOP: "SIGSTOP", 20: "SIGTSTP",
	21: "SIGTTIN", 22: "SIGTTOU", SIGURG: "SIGURG", SIGXCPU: "SIGXCPU", 25: "SIGXFSZ",
	26: "SIGVTALRM", 27: "SIGPROF", SIGWINCH: "SIGWINCH", 29: "SIGIO", 30: "SIGPWR", 31: "SIGSYS",
}

// SignalName returns "SIGSEGV" style names, "SIGRTMIN+N" for real-time ones.
func SignalName(sig int) string {
	if n, ok := signalNames[sig]; ok {
		return n
	}
	if sig >= 32 && sig <= numSignals {
		return "SIGRTMIN+" + itoa(sig-32) // the kernel's SIGRTMIN is 32
	}
	return "SIG" + itoa(sig)
}

func itoa(v int) string {
	if v == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := v < 0
	if neg {
		v = -v
	}
	for v > 0 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// sigAction is a recorded struct k_sigaction.
type sigAction struct {
	Handler, Flags, Restorer, Mask uint64
}

// SignalHandlers are the dispositions of every signal (struct
// sighand_struct), shared by the tasks created with CLONE_SIGHAND and
// copied for the others.
type SignalHandlers struct {
	refs    int
	actions [numSignals + 1]sigAction
}

func newSignalHandlers() *SignalHandlers { return &SignalHandlers{refs: 1} }

func (s *SignalHandlers) incRef() *SignalHandlers {
	s.refs++
	return s
}

func (s *SignalHandlers) decRef() { s.refs-- }

// fork returns a private copy (clone without CLONE_SIGHAND).
func (s *SignalHandlers) fork() *SignalHandlers {
	return &SignalHandlers{refs: 1, actions: s.actions}
}

const (
	sigDFL = 0
	sigIGN = 1
)

// SigAction returns the recorded disposition of sig in the process's
// first handler table (for reports and tests).
func (k *Kernel) SigAction(sig int) (handler, flags, mask uint64) {
	if sig < 1 || sig > numSignals {
		return 0, 0, 0
	}
	a := k.initSighand.actions[sig]
	return a.Handler, a.Flags, a.Mask
}

// layout of struct sigaction as passed to rt_sigaction: handler, flags,
// restorer as longs, then the 64-bit mask.
func (k *Kernel) sigactionSize() int { return 3*k.cfg.Arch.wordSize() + 8 }

func sysRtSigaction(k *Kernel, t *Task, a Args) (uint64, Result) {
	sig := int(a[0])
	if a[3] != 8 || sig < 1 || sig > numSignals {
		return fail(syscall.EINVAL)
	}
	if a[1] != 0 && (sig == SIGKILL || sig == SIGSTOP) {
		return fail(syscall.EINVAL)
	}
	ws := uint64(k.cfg.Arch.wordSize())
	old := t.sighand.actions[sig]
	if a[1] != 0 {
		var w [3]uint64
		for i := range w {
			v, e := k.readWord(a[1] + uint64(i)*ws)
			if e != 0 {
				return fail(e)
			}
			w[i] = v
		}
		m, e := k.readU64(a[1] + 3*ws)
		if e != 0 {
			return fail(e)
		}
		// do_sigaction (kernel/signal.c) drops the unblockable signals
		// from sa_mask, so a later query does not report them.
		t.sighand.actions[sig] = sigAction{Handler: w[0], Flags: w[1], Restorer: w[2], Mask: m &^ unblockable}
	}
	if a[2] != 0 {
		b := newStruct(k.sigactionSize())
		b.word(k.cfg.Arch, 0, old.Handler)
		b.word(k.cfg.Arch, int(ws), old.Flags)
		b.word(k.cfg.Arch, int(2*ws), old.Restorer)
		b.u64(int(3*ws), old.Mask)
		if e := k.writeBytes(a[2], b.b); e != 0 {
			return fail(e)
		}
	}
	return ok0()
}

// unblockable signals cannot be masked (kernel/signal.c sigdelsetmask).
const unblockable = 1<<(SIGKILL-1) | 1<<(SIGSTOP-1)

func sysRtSigprocmask(k *Kernel, t *Task, a Args) (uint64, Result) {
	if a[3] != 8 {
		return fail(syscall.EINVAL)
	}
	old := t.SigMask
	if a[1] != 0 {
		set, e := k.readU64(a[1])
		if e != 0 {
			return fail(e)
		}
		switch a[0] {
		case 0: // SIG_BLOCK
			t.SigMask |= set
		case 1: // SIG_UNBLOCK
			t.SigMask &^= set
		case 2: // SIG_SETMASK
			t.SigMask = set
		default:
			return fail(syscall.EINVAL)
		}
		t.SigMask &^= unblockable
	}
	if a[2] != 0 {
		b := newStruct(8)
		b.u64(0, old)
		if e := k.writeBytes(a[2], b.b); e != 0 {
			return fail(e)
		}
	}
	return ok0()
}
