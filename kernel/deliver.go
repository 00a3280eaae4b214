package kernel

import (
	"encoding/binary"
	"syscall"
)

// Signal delivery at the return to user mode (arch/x86/kernel/signal.c,
// kernel/signal.c get_signal, arch/x86/kernel/fpu/signal.c).
//
// ExitToUser is called whenever a task is about to run user code again:
// after every syscall, and at the start of every slice (the return from
// the timer interrupt that ended the last one). With nothing deliverable
// it does nothing. Otherwise it takes pending signals one by one, as
// get_signal does (synchronous faults first, then the lowest number, the
// task's own before its group's): an ignored one is dropped, a fatal one
// ends the process, and for a handler a frame is built on the user stack
// (or the alternate stack with SA_ONSTACK) in Linux's layout for the ABI
// (rt_sigframe on x86-64; sigframe_ia32 or rt_sigframe_ia32 on i386),
// with the registers, the FPU state (FXSAVE image) and the mask to
// restore, and the task resumes in the handler with the mask of the
// action. Several signals give nested frames, the last taken running
// first. A syscall interrupted by a signal (restart.go) returns EINTR or
// is restarted, as SA_RESTART and its restart code say.

// sigaction flags (include/uapi/asm-generic/signal-defs.h, x86).
const (
	saSiginfo   = 0x00000004
	saOnstack   = 0x08000000
	saRestart   = 0x10000000
	saNodefer   = 0x40000000
	saResethand = 0x80000000
	saRestorer  = 0x04000000
)

// sigaltstack (include/uapi/linux/signal.h).
const (
	ssOnstack    = 1
	ssDisable    = 2
	ssAutodisarm = 1 << 31
	minSigStkSz  = 2048
)

type altStack struct {
	sp, size uint64
	flags    uint32 // SS_AUTODISARM
}

func (t *Task) onAltStack(sp uint64) bool {
	return t.altStack.size != 0 && sp > t.altStack.sp && sp-t.altStack.sp <= t.altStack.size
}

// sasFlags is sas_ss_flags: what sigaltstack reports for sp.
func (t *Task) sasFlags(sp uint64) uint32 {
	switch {
	case t.altStack.size == 0:
		return ssDisable
	case t.onAltStack(sp):
		return ssOnstack
	}
	return 0
}

// synchronous signals are dequeued first (SYNCHRONOUS_MASK).
const synchronousMask = 1<<(SIGSEGV-1) | 1<<(SIGBUS-1) | 1<<(SIGILL-1) | 1<<(SIGTRAP-1) | 1<<(SIGFPE-1) | 1<<(31-1)

// dequeue takes the next deliverable signal of t.
func (t *Task) dequeue() (sigInfo, bool) {
	for _, p := range []*sigPending{&t.pending, &t.tg.pending} {
		ready := p.mask &^ t.SigMask
		if ready == 0 {
			continue
		}
		if s := ready & synchronousMask; s != 0 {
			ready = s
		}
		sig := 1
		for ready&1 == 0 {
			ready >>= 1
			sig++
		}
		return p.take(sig), true
	}
	return sigInfo{}, false
}

// HeldForStep counts returns to user mode at which a pending signal was
// held because the task was single-stepping for a probe.
func (k *Kernel) HeldForStep() uint64 { return k.heldForStep }

// ExitToUser delivers t's deliverable signals before it runs user code.
// fromSyscall says the task is returning from a syscall (whose result is
// in its return register), so an interrupted syscall may be restarted.
// stepping says a probe single-steps the task: signals are held until the
// step ends, as uprobe_deny_signal holds them (the step is one
// instruction, after which the task returns to user mode again).
func (k *Kernel) ExitToUser(t *Task, fromSyscall, stepping bool) Result {
	k.cur = t
	restartable := fromSyscall && t.restartPending
	t.restartPending = false
	if t.state != TaskRunnable || !t.hasDeliverable() && !restartable && !t.restoreMask {
		return Result{}
	}
	if stepping && t.hasDeliverable() {
		k.heldForStep++
		return Result{}
	}
	// The registers are read when a frame or a restart needs them.
	cpu, _ := t.CPU.(RegsCPU)
	var regs Regs
	loaded := false
	load := func() bool {
		if !loaded && cpu != nil {
			r, err := cpu.Regs()
			loaded, regs = err == nil, r
		}
		return loaded
	}
	restart := syscall.Errno(0)
	if restartable && load() {
		restart = k.retErrno(regs.AX)
	}
	changed, delivered := false, false
	for n := 0; n < numSignals && t.hasDeliverable(); n++ {
		info, _ := t.dequeue()
		if info.code == siTimer {
			info = k.timerTaken(t.tg, info)
		}
		sig := int(info.signo)
		act := t.sighand.actions[sig]
		switch act.Handler {
		case sigIGN:
			continue
		case sigDFL:
			if ignoredByDefault(sig) {
				continue
			}
			return Result{Outcome: Killed, Signal: sig}
		}
		if !load() {
			return Result{Outcome: Killed, Signal: SIGSEGV}
		}
		if restart != 0 {
			k.restartForHandler(t, &regs, restart, act)
			restart = 0
		}
		old := t.SigMask
		if t.restoreMask {
			old, t.restoreMask = t.savedMask, false
		}
		if e := k.setupFrame(t, cpu, &regs, info, act, old); e != 0 {
			// The frame did not fit the stack: force_sigsegv.
			return Result{Outcome: Killed, Signal: SIGSEGV}
		}
		t.SigMask |= act.Mask
		if act.Flags&saNodefer == 0 {
			t.SigMask |= sigBit(sig)
		}
		t.SigMask &^= unblockable
		if act.Flags&saResethand != 0 {
			t.sighand.actions[sig] = sigAction{}
		}
		changed, delivered = true, true
		k.delivered++
	}
	if restart != 0 {
		// No handler ran: the syscall runs again (restart_syscall).
		k.restartSyscall(t, &regs)
		changed = true
	}
	if !delivered && t.restoreMask {
		t.SigMask, t.restoreMask = t.savedMask, false
	}
	if changed {
		if err := cpu.SetRegs(&regs); err != nil {
			return Result{Outcome: Killed, Signal: SIGSEGV}
		}
	}
	if delivered {
		// The handler starts with a clean FPU (fpu__clear_user_states).
		init := initFPState()
		_ = cpu.SetFPState(&init)
		return Result{RegsSet: true}
	}
	return Result{RegsSet: changed}
}

// SignalsDelivered counts the frames set up for handlers.
func (k *Kernel) SignalsDelivered() uint64 { return k.delivered }

// initFPState is the FXSAVE image of a freshly initialised FPU: x87
// control word 0x37f, no register in use, MXCSR 0x1f80.
func initFPState() FPState {
	var s FPState
	binary.LittleEndian.PutUint16(s[0:], 0x37f)
	binary.LittleEndian.PutUint32(s[24:], 0x1f80)
	binary.LittleEndian.PutUint32(s[28:], 0xffff)
	return s
}

// retErrno is the errno a syscall return register holds, or 0.
func (k *Kernel) retErrno(ax uint64) syscall.Errno {
	v := int64(ax)
	if k.cfg.Arch == I386 {
		v = int64(int32(ax))
	}
	if v < 0 && v > -4096 {
		return syscall.Errno(-v)
	}
	return 0
}

// Frame building.

// frameWriter builds a frame image and writes it with copy_to_user.
type frameWriter struct {
	k    *Kernel
	base uint64
	b    []byte
}

func (w *frameWriter) u16(off int, v uint64) { binary.LittleEndian.PutUint16(w.b[off:], uint16(v)) }
func (w *frameWriter) u32(off int, v uint64) { binary.LittleEndian.PutUint32(w.b[off:], uint32(v)) }
func (w *frameWriter) u64(off int, v uint64) { binary.LittleEndian.PutUint64(w.b[off:], v) }

// putSiginfo lays out info at off: siginfo_t (x86-64) or compat_siginfo
// (i386), 128 bytes.
func (k *Kernel) putSiginfo(w *frameWriter, off int, info sigInfo) {
	w.u32(off, uint64(uint32(info.signo)))
	w.u32(off+4, uint64(uint32(info.errno)))
	w.u32(off+8, uint64(uint32(info.code)))
	u := off + 16
	if k.cfg.Arch == I386 {
		u = off + 12
	}
	switch {
	case isFaultSignal(int(info.signo)) && info.code > 0:
		if k.cfg.Arch == I386 {
			w.u32(u, info.addr)
		} else {
			w.u64(u, info.addr)
		}
	case info.code == siTimer:
		w.u32(u, uint64(uint32(info.timerID)))
		w.u32(u+4, uint64(uint32(info.overrun)))
		w.setValue(k, u+8, info.value)
	case info.signo == SIGCHLD && info.code > 0:
		// _sigchld: pid, uid, status, then utime and stime (zero).
		w.u32(u, uint64(uint32(info.pid)))
		w.u32(u+4, uint64(uint32(info.uid)))
		w.u32(u+8, uint64(uint32(info.status)))
	default:
		w.u32(u, uint64(uint32(info.pid)))
		w.u32(u+4, uint64(uint32(info.uid)))
		if info.code == siQueue || info.code < 0 && info.code != siTkill {
			w.setValue(k, u+8, info.value)
		}
	}
}

func (w *frameWriter) setValue(k *Kernel, off int, v uint64) {
	if k.cfg.Arch == I386 {
		w.u32(off, v)
	} else {
		w.u64(off, v)
	}
}

func isFaultSignal(sig int) bool {
	switch sig {
	case SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP:
		return true
	}
	return false
}

// setupFrame builds the frame for act and points regs at the handler.
func (k *Kernel) setupFrame(t *Task, cpu RegsCPU, regs *Regs, info sigInfo, act sigAction, oldmask uint64) syscall.Errno {
	var fp FPState
	if err := cpu.FPState(&fp); err != nil {
		return syscall.EFAULT
	}
	sp := regs.SP
	ia32 := k.cfg.Arch == I386
	if !ia32 {
		sp -= 128 // the red zone
	}
	stackFlags := t.sasFlags(regs.SP)
	if act.Flags&saOnstack != 0 && stackFlags == 0 {
		sp = t.altStack.sp + t.altStack.size
	}
	altSP, altSize := t.altStack.sp, t.altStack.size
	if act.Flags&saOnstack != 0 && t.altStack.flags&ssAutodisarm != 0 && stackFlags == 0 {
		t.altStack = altStack{} // SS_AUTODISARM: off while the handler runs
	}
	// The FXSAVE image, 64-byte aligned, below the frame
	// (fpu__alloc_mathframe); on i386 the legacy fsave header (112
	// bytes) precedes it.
	sp = (sp - 512) &^ 63
	fx := sp
	fpstate := fx
	if ia32 {
		sp -= 112
		fpstate = sp
	}
	if ia32 {
		return k.setupFrame32(t, regs, info, act, oldmask, sp, fpstate, fx, &fp, altSP, altSize, stackFlags)
	}
	return k.setupFrame64(t, regs, info, act, oldmask, sp, fx, &fp, altSP, altSize, stackFlags)
}

// x86-64 rt_sigframe: pretcode (8), ucontext (304), siginfo (128).
const (
	rtFrame64Size = 440
	uc64          = 8   // ucontext
	mctx64        = 48  // uc_mcontext within the frame
	sigmask64     = 304 // uc_sigmask within the frame
	info64        = 312
)

func (k *Kernel) setupFrame64(t *Task, regs *Regs, info sigInfo, act sigAction, oldmask, sp, fx uint64, fp *FPState,
	altSP, altSize uint64, stackFlags uint32) syscall.Errno {
	if act.Flags&saRestorer == 0 {
		return syscall.EFAULT // x86-64 requires a restorer
	}
	frame := (sp-rtFrame64Size)&^15 - 8
	w := &frameWriter{k: k, base: frame, b: make([]byte, rtFrame64Size)}
	w.u64(0, act.Restorer)
	w.u64(uc64, 2|4) // UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS
	w.u64(uc64+16, altSP)
	w.u32(uc64+24, uint64(stackFlags))
	w.u64(uc64+32, altSize)
	m := mctx64
	for i, v := range []uint64{regs.R8, regs.R9, regs.R10, regs.R11, regs.R12, regs.R13, regs.R14, regs.R15,
		regs.DI, regs.SI, regs.BP, regs.BX, regs.DX, regs.AX, regs.CX, regs.SP, regs.IP, regs.Flags} {
		w.u64(m+8*i, v)
	}
	w.u16(m+144, 0x33) // cs
	w.u16(m+150, 0x2b) // ss
	w.u64(m+152, info.errcode)
	w.u64(m+160, info.trapno)
	w.u64(m+168, oldmask)
	if info.trapno == 14 { // cr2: the page-fault address
		w.u64(m+176, info.addr)
	}
	w.u64(m+184, fx)
	w.u64(sigmask64, oldmask)
	k.putSiginfo(w, info64, info)
	if e := k.writeBytes(fx, fp[:]); e != 0 {
		return e
	}
	if e := k.writeBytes(frame, w.b); e != 0 {
		return e
	}
	regs.DI, regs.SI, regs.DX, regs.AX = uint64(info.signo), frame+info64, frame+uc64, 0
	regs.IP, regs.SP = act.Handler, frame
	regs.Flags &^= eflagsDF | eflagsRF | eflagsTF
	return 0
}

const (
	eflagsTF = 1 << 8
	eflagsDF = 1 << 10
	eflagsRF = 1 << 16
	// fixEflags are the flags sigreturn takes from the frame.
	fixEflags = 1<<18 | 1<<11 | eflagsDF | eflagsTF | 1<<7 | 1<<6 | 1<<4 | 1<<2 | 1<<0 | eflagsRF
)

// i386 frames: sigframe_ia32 (no SA_SIGINFO) and rt_sigframe_ia32.
const (
	frame32Size   = 732 // pretcode, sig, sc (88), fpstate_unused (624), extramask, retcode
	rtFrame32Size = 268 // pretcode, sig, pinfo, puc, info (128), uc (116), retcode
	nrSigreturn32 = 119
	nrRtSig32     = 173
)

func (k *Kernel) putSigcontext32(w *frameWriter, off int, regs *Regs, info sigInfo, oldmask, fpstate uint64) {
	for i, v := range []uint64{regs.GS, regs.FS, regs.ES, regs.DS, regs.DI, regs.SI, regs.BP, regs.SP,
		regs.BX, regs.DX, regs.CX, regs.AX, info.trapno, info.errcode, regs.IP, regs.CS, regs.Flags, regs.SP, regs.SS,
		fpstate, oldmask} {
		w.u32(off+4*i, v)
	}
	if info.trapno == 14 {
		w.u32(off+84, info.addr)
	}
}

func (k *Kernel) setupFrame32(t *Task, regs *Regs, info sigInfo, act sigAction, oldmask, sp, fpstate, fx uint64,
	fp *FPState, altSP, altSize uint64, stackFlags uint32) syscall.Errno {
	rt := act.Flags&saSiginfo != 0
	size := uint64(frame32Size)
	if rt {
		size = rtFrame32Size
	}
	frame := ((sp-size)+4)&^15 - 4
	w := &frameWriter{k: k, base: frame, b: make([]byte, size)}
	retcode := frame + size - 8
	restorer := retcode
	if act.Flags&saRestorer != 0 {
		restorer = act.Restorer
	}
	w.u32(0, restorer)
	w.u32(4, uint64(info.signo))
	if rt {
		w.u32(8, frame+16)
		w.u32(12, frame+144)
		k.putSiginfo(w, 16, info)
		w.u32(144+8, altSP)
		w.u32(144+12, uint64(stackFlags))
		w.u32(144+16, altSize)
		k.putSigcontext32(w, 144+20, regs, info, oldmask, fpstate)
		w.u64(144+108, oldmask)
		// movl $__NR_rt_sigreturn, %eax; int $0x80
		copy(w.b[260:], []byte{0xb8, nrRtSig32, 0, 0, 0, 0xcd, 0x80, 0})
	} else {
		k.putSigcontext32(w, 8, regs, info, uint64(uint32(oldmask)), fpstate)
		w.u32(720, oldmask>>32)
		// popl %eax; movl $__NR_sigreturn, %eax; int $0x80
		copy(w.b[724:], []byte{0x58, 0xb8, nrSigreturn32, 0, 0, 0, 0xcd, 0x80})
	}
	if e := k.writeBytes(fpstate, fsaveHeader(fp)); e != 0 {
		return e
	}
	if e := k.writeBytes(fx, fp[:]); e != 0 {
		return e
	}
	if e := k.writeBytes(frame, w.b); e != 0 {
		return e
	}
	regs.AX = uint64(info.signo)
	regs.DX, regs.CX = 0, 0
	if rt {
		regs.DX, regs.CX = frame+16, frame+144
	}
	regs.IP, regs.SP = act.Handler, frame
	regs.Flags &^= eflagsDF | eflagsRF | eflagsTF
	return 0
}

// fsaveHeader is the legacy FPU environment of an i386 frame, made from
// the FXSAVE image as convert_from_fxsr does (struct fregs_state, 112
// bytes, with status and the FXSR magic 0 in its last word).
func fsaveHeader(fx *FPState) []byte {
	b := make([]byte, 112)
	le := binary.LittleEndian
	fsw := uint32(le.Uint16(fx[2:]))
	le.PutUint32(b[0:], uint32(le.Uint16(fx[0:]))|0xffff0000)
	le.PutUint32(b[4:], fsw|0xffff0000)
	tos := fsw >> 11 & 7
	twd := uint32(0xffff0000)
	for i := uint32(0); i < 8; i++ {
		tag := uint32(3)
		if fx[4]&(1<<i) != 0 {
			st := fx[32+16*((i-tos)&7):]
			exp := le.Uint16(st[8:]) & 0x7fff
			mant := le.Uint64(st[0:])
			switch {
			case exp == 0x7fff:
				tag = 2
			case exp == 0 && mant == 0:
				tag = 1
			case exp == 0, mant>>63 == 0:
				tag = 2
			default:
				tag = 0
			}
		}
		twd |= tag << (2 * i)
	}
	le.PutUint32(b[8:], twd)
	le.PutUint32(b[12:], le.Uint32(fx[8:]))                                        // fip
	le.PutUint32(b[16:], uint32(le.Uint16(fx[12:]))|uint32(le.Uint16(fx[6:]))<<16) // fcs | fop<<16
	le.PutUint32(b[20:], le.Uint32(fx[16:]))                                       // foo
	le.PutUint32(b[24:], uint32(le.Uint16(fx[20:]))|0xffff0000)                    // fos
	for i := 0; i < 8; i++ {
		copy(b[28+10*i:28+10*i+10], fx[32+16*i:])
	}
	le.PutUint16(b[108:], uint16(fsw)) // status; magic 0: FXSR data follows
	return b
}

// Sigreturn.

// sysRtSigreturn restores what the rt frame saved: registers, FPU state,
// mask and alternate stack. Its result is the restored return register.
func sysRtSigreturn(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.sigreturn(t, func(cpu RegsCPU, regs *Regs) syscall.Errno {
		if k.cfg.Arch == I386 {
			return k.sigreturn32(t, cpu, regs, regs.SP-4, true)
		}
		return k.sigreturn64(t, cpu, regs, regs.SP-8)
	})
}

// sysSigreturn is i386's sigreturn for frames without SA_SIGINFO.
func sysSigreturn(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.sigreturn(t, func(cpu RegsCPU, regs *Regs) syscall.Errno {
		return k.sigreturn32(t, cpu, regs, regs.SP-8, false)
	})
}

// sigreturn runs restore on the task's registers; a frame it cannot read
// kills the task with SIGSEGV, as the kernel's force_sig does.
func (k *Kernel) sigreturn(t *Task, restore func(RegsCPU, *Regs) syscall.Errno) (uint64, Result) {
	cpu, ok := t.CPU.(RegsCPU)
	if !ok {
		return fail(syscall.ENOSYS)
	}
	regs, err := cpu.Regs()
	if err != nil || restore(cpu, &regs) != 0 {
		return 0, Result{Outcome: Killed, Signal: SIGSEGV}
	}
	return regs.AX, Result{RegsSet: true}
}

func (k *Kernel) restoreFP(cpu RegsCPU, fx uint64) syscall.Errno {
	if fx == 0 {
		init := initFPState()
		_ = cpu.SetFPState(&init)
		return 0
	}
	b, e := k.readBytes(fx, 512)
	if e != 0 {
		return e
	}
	var fp FPState
	copy(fp[:], b)
	binary.LittleEndian.PutUint32(fp[28:], 0xffff)
	if cpu.SetFPState(&fp) != nil {
		return syscall.EFAULT
	}
	return 0
}

func (k *Kernel) setSigmask(t *Task, m uint64) {
	t.SigMask = m &^ unblockable
	t.restoreMask = false
}

func (k *Kernel) sigreturn64(t *Task, cpu RegsCPU, regs *Regs, frame uint64) syscall.Errno {
	b, e := k.readBytes(frame, rtFrame64Size)
	if e != 0 {
		return e
	}
	le := binary.LittleEndian
	m := mctx64
	g := func(i int) uint64 { return le.Uint64(b[m+8*i:]) }
	regs.R8, regs.R9, regs.R10, regs.R11, regs.R12, regs.R13, regs.R14, regs.R15 = g(0), g(1), g(2), g(3), g(4), g(5), g(6), g(7)
	regs.DI, regs.SI, regs.BP, regs.BX, regs.DX, regs.AX, regs.CX, regs.SP, regs.IP = g(8), g(9), g(10), g(11), g(12), g(13), g(14), g(15), g(16)
	regs.Flags = regs.Flags&^fixEflags | g(17)&fixEflags
	if e := k.restoreFP(cpu, le.Uint64(b[m+184:])); e != 0 {
		return e
	}
	k.setSigmask(t, le.Uint64(b[sigmask64:]))
	k.restoreAltStack(t, le.Uint64(b[uc64+16:]), uint32(le.Uint32(b[uc64+24:])), le.Uint64(b[uc64+32:]), regs.SP)
	return cpuSet(cpu, regs)
}

func (k *Kernel) sigreturn32(t *Task, cpu RegsCPU, regs *Regs, frame uint64, rt bool) syscall.Errno {
	size := frame32Size
	sc := 8
	if rt {
		size, sc = rtFrame32Size, 144+20
	}
	b, e := k.readBytes(frame, size)
	if e != 0 {
		return e
	}
	le := binary.LittleEndian
	g := func(i int) uint64 { return uint64(le.Uint32(b[sc+4*i:])) }
	regs.DI, regs.SI, regs.BP, regs.SP, regs.BX, regs.DX, regs.CX, regs.AX = g(4), g(5), g(6), g(7), g(8), g(9), g(10), g(11)
	regs.IP = g(14)
	regs.Flags = regs.Flags&^fixEflags | g(16)&fixEflags
	fpstate := g(19)
	fx := uint64(0)
	if fpstate != 0 {
		fx = fpstate + 112 // the FXSAVE image after the legacy header
	}
	if e := k.restoreFP(cpu, fx); e != 0 {
		return e
	}
	if rt {
		k.setSigmask(t, le.Uint64(b[144+108:]))
		k.restoreAltStack(t, uint64(le.Uint32(b[144+8:])), le.Uint32(b[144+12:]), uint64(le.Uint32(b[144+16:])), regs.SP)
	} else {
		k.setSigmask(t, g(20)|uint64(le.Uint32(b[720:]))<<32)
	}
	return cpuSet(cpu, regs)
}

func cpuSet(cpu RegsCPU, regs *Regs) syscall.Errno {
	if cpu.SetRegs(regs) != nil {
		return syscall.EFAULT
	}
	return 0
}

// restoreAltStack is restore_altstack: the frame's stack_t is set again
// (so SS_AUTODISARM's disarming ends with the handler); a bad one is
// ignored, as the kernel ignores its error.
func (k *Kernel) restoreAltStack(t *Task, sp uint64, flags uint32, size, curSP uint64) {
	if t.onAltStack(curSP) {
		return
	}
	if flags&ssDisable != 0 || size == 0 {
		t.altStack = altStack{}
		return
	}
	if size < minSigStkSz {
		return
	}
	t.altStack = altStack{sp: sp, size: size, flags: flags & ssAutodisarm}
}

// sysSigaltstack is sigaltstack(ss, old_ss) with the ABI's stack_t
// ({ss_sp, ss_flags, ss_size}: 24 bytes on x86-64, 12 on i386).
func sysSigaltstack(k *Kernel, t *Task, a Args) (uint64, Result) {
	cpu, _ := t.CPU.(RegsCPU)
	var sp uint64
	if cpu != nil {
		if r, err := cpu.Regs(); err == nil {
			sp = r.SP
		}
	}
	ws := k.cfg.Arch.wordSize()
	size := 3 * ws
	if a[1] != 0 {
		b := newStruct(size)
		b.word(k.cfg.Arch, 0, t.altStack.sp)
		b.u32(ws, t.sasFlags(sp)|t.altStack.flags)
		b.word(k.cfg.Arch, 2*ws, t.altStack.size)
		if e := k.writeBytes(a[1], b.b); e != 0 {
			return fail(e)
		}
	}
	if a[0] == 0 {
		return ok0()
	}
	b, e := k.readBytes(a[0], size)
	if e != 0 {
		return fail(e)
	}
	var ssp, ssize uint64
	flags := binary.LittleEndian.Uint32(b[ws:])
	if ws == 8 {
		ssp, ssize = binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[16:])
	} else {
		ssp, ssize = uint64(binary.LittleEndian.Uint32(b)), uint64(binary.LittleEndian.Uint32(b[8:]))
	}
	if t.onAltStack(sp) {
		return fail(syscall.EPERM)
	}
	mode := flags &^ ssAutodisarm
	switch mode {
	case 0, ssOnstack:
		if ssize < minSigStkSz {
			return fail(syscall.ENOMEM)
		}
		t.altStack = altStack{sp: ssp, size: ssize, flags: flags & ssAutodisarm}
	case ssDisable:
		t.altStack = altStack{}
	default:
		return fail(syscall.EINVAL)
	}
	return ok0()
}
