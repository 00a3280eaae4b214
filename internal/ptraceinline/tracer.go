//go:build linux && amd64

package ptraceinline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"slices"
	"syscall"
	"time"
)

// Config is one traced run.
type Config struct {
	Program string   // path of the executable
	Args    []string // argv[1:]
	// Addr is the probed instruction's address in the program (a static
	// executable's symbol value).
	Addr   uint64
	Stdout io.Writer // the program's standard output (nil = discard)
	Stderr io.Writer
	// MaxWindowSamples bounds how many window lengths are kept for the
	// median (0 = 1<<16); the total counts every window.
	MaxWindowSamples int
}

// Result is what a traced run saw.
type Result struct {
	Hits uint64 // int3 traps at the probe: executions the tracer saw
	// Queued counts hits whose step waited for another thread's step.
	Queued uint64
	// Threads is how many threads of the program were traced.
	Threads int
	// WindowTotalNS is the summed time the original byte was back;
	// WindowSamplesNS are the first MaxWindowSamples window lengths.
	WindowTotalNS   uint64
	WindowSamplesNS []uint64
	ExitStatus      int           // the program's exit status (128+N if killed by signal N)
	Elapsed         time.Duration // from the first continue to the program's exit
}

const int3 = 0xcc

// Tracee is a program started under ptrace, stopped at its first
// instruction (the exec stop). The goroutine that starts one must stay
// locked to its OS thread until the tracee is reaped: ptrace requests and
// Pdeathsig belong to that thread.
type Tracee struct {
	Pid  int
	cmd  *exec.Cmd
	dead bool
}

// Start starts path with args traced and waits for its exec stop; the
// caller has locked its OS thread (runtime.LockOSThread). The tracee is
// in its own process group, gets SIGKILL if the tracer thread dies
// (Pdeathsig) or exits (PTRACE_O_EXITKILL), and reports clone events.
func Start(path string, args []string, stdout, stderr io.Writer) (*Tracee, error) {
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Ptrace: true, Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("ptrace-inline: start %s: %w", path, err)
	}
	t := &Tracee{Pid: cmd.Process.Pid, cmd: cmd}
	var ws syscall.WaitStatus
	if _, err := wait(t.Pid, &ws); err != nil || !ws.Stopped() {
		t.Kill()
		return nil, fmt.Errorf("ptrace-inline: %s did not stop at exec (%v, status %v)", path, err, ws)
	}
	const opts = syscall.PTRACE_O_TRACECLONE | 0x100000 // PTRACE_O_EXITKILL
	if err := syscall.PtraceSetOptions(t.Pid, opts); err != nil {
		t.Kill()
		return nil, fmt.Errorf("ptrace-inline: PTRACE_SETOPTIONS: %w", err)
	}
	return t, nil
}

// Kill ends the tracee and reaps every thread of it; it is safe to call
// more than once.
func (t *Tracee) Kill() {
	if t.dead {
		return
	}
	_ = syscall.Kill(-t.Pid, syscall.SIGKILL)
	_ = syscall.Kill(t.Pid, syscall.SIGKILL)
	for {
		var ws syscall.WaitStatus
		if _, err := wait(-t.Pid, &ws); err != nil {
			break
		}
	}
	// The child is reaped already, so Wait fails, but it still ends the
	// output copying and closes the pipes; Release closes the pidfd that
	// a failed Wait keeps.
	_ = t.cmd.Wait()
	_ = t.cmd.Process.Release()
	t.dead = true
}

// WaitAny waits for the next stop or exit of any thread of the tracee.
func (t *Tracee) WaitAny(ws *syscall.WaitStatus) (int, error) { return wait(-t.Pid, ws) }

// wait is wait4 with __WALL (threads are not the tracer's children),
// retried on EINTR.
func wait(pid int, ws *syscall.WaitStatus) (int, error) {
	for {
		tid, err := syscall.Wait4(pid, ws, syscall.WALL, nil)
		if err != syscall.EINTR {
			return tid, err
		}
	}
}

// ReadByte reads the tracee's text byte at addr.
func ReadByte(pid int, addr uint64) (byte, error) {
	var b [1]byte
	if _, err := syscall.PtracePeekText(pid, uintptr(addr), b[:]); err != nil {
		return 0, fmt.Errorf("ptrace-inline: PTRACE_PEEKTEXT at %#x: %w", addr, err)
	}
	return b[0], nil
}

// WriteByte writes one byte of the tracee's text at addr (a word peek and
// poke, as a debugger writes a breakpoint).
func WriteByte(pid int, addr uint64, b byte) error {
	if _, err := syscall.PtracePokeText(pid, uintptr(addr), []byte{b}); err != nil {
		return fmt.Errorf("ptrace-inline: PTRACE_POKETEXT at %#x: %w", addr, err)
	}
	return nil
}

// RewindToProbe handles the start of a hit of thread tid: after int3 the
// ip is addr+1; it reports whether the trap was the probe's and, if so,
// moves the ip back to addr.
func RewindToProbe(tid int, addr uint64) (bool, error) {
	var regs syscall.PtraceRegs
	if err := syscall.PtraceGetRegs(tid, &regs); err != nil {
		return false, fmt.Errorf("ptrace-inline: PTRACE_GETREGS of %d: %w", tid, err)
	}
	if regs.Rip != addr+1 {
		return false, nil
	}
	regs.Rip = addr
	if err := syscall.PtraceSetRegs(tid, &regs); err != nil {
		return false, fmt.Errorf("ptrace-inline: PTRACE_SETREGS of %d: %w", tid, err)
	}
	return true, nil
}

// tracer is Run's state.
type tracer struct {
	cfg      Config
	t        *Tracee
	orig     byte
	stepping int   // the thread stepping in place, 0 if none
	queue    []int // threads that hit and wait for their step
	opened   time.Time
	// pendingSig is a signal that stopped the stepping thread before its
	// step ended; it is delivered when the thread goes on after the step.
	pendingSig int
	// attached is true for a thread that runs traced, false for a new
	// thread whose attach SIGSTOP is still to come (after its clone event).
	attached map[int]bool
	res      Result
}

// Run traces cfg.Program with a probe at cfg.Addr until it exits or ctx
// ends (then the program is killed and ctx's error returned).
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.MaxWindowSamples == 0 {
		cfg.MaxWindowSamples = 1 << 16
	}
	if cfg.Stdout == nil {
		cfg.Stdout = io.Discard
	}
	if cfg.Stderr == nil {
		cfg.Stderr = io.Discard
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t, err := Start(cfg.Program, cfg.Args, cfg.Stdout, cfg.Stderr)
	if err != nil {
		return nil, err
	}
	defer t.Kill()
	stop := context.AfterFunc(ctx, func() { _ = syscall.Kill(-t.Pid, syscall.SIGKILL) })
	defer stop()

	tr := &tracer{cfg: cfg, t: t, attached: map[int]bool{t.Pid: true}}
	tr.res.Threads = 1
	err = tr.run()
	if ctx.Err() != nil {
		return nil, ctx.Err() // the errors of a killed tracee say nothing more
	}
	if err != nil {
		return nil, err
	}
	return &tr.res, nil
}

// run plants the probe, lets the program go and serves it to its end.
func (tr *tracer) run() error {
	var err error
	if tr.orig, err = ReadByte(tr.t.Pid, tr.cfg.Addr); err != nil {
		return err
	}
	if tr.orig == int3 {
		return fmt.Errorf("ptrace-inline: %#x already holds int3", tr.cfg.Addr)
	}
	if err := WriteByte(tr.t.Pid, tr.cfg.Addr, int3); err != nil {
		return err
	}
	start := time.Now()
	if err := syscall.PtraceCont(tr.t.Pid, 0); err != nil {
		return fmt.Errorf("ptrace-inline: PTRACE_CONT: %w", err)
	}
	if err := tr.loop(); err != nil {
		return err
	}
	tr.res.Elapsed = time.Since(start)
	return nil
}

// loop serves stops until the thread-group leader exits.
func (tr *tracer) loop() error {
	for {
		var ws syscall.WaitStatus
		tid, err := tr.t.WaitAny(&ws)
		if err != nil {
			return fmt.Errorf("ptrace-inline: wait: %w", err)
		}
		switch {
		case ws.Exited() || ws.Signaled():
			tr.gone(tid)
			if tid == tr.t.Pid {
				tr.res.ExitStatus = ws.ExitStatus()
				if ws.Signaled() {
					tr.res.ExitStatus = 128 + int(ws.Signal())
				}
				return nil
			}
		case ws.Stopped():
			if err := tr.stopped(tid, ws); err != nil {
				return err
			}
		}
	}
}

// gone forgets a thread that exited (it cannot be stepping: a stepping
// thread is stopped until its step ends).
func (tr *tracer) gone(tid int) {
	delete(tr.attached, tid)
	tr.queue = slices.DeleteFunc(tr.queue, func(q int) bool { return q == tid })
}

func (tr *tracer) stopped(tid int, ws syscall.WaitStatus) error {
	sig := ws.StopSignal()
	switch {
	case sig == syscall.SIGTRAP && ws.TrapCause() == syscall.PTRACE_EVENT_CLONE:
		if msg, err := syscall.PtraceGetEventMsg(tid); err == nil {
			if _, seen := tr.attached[int(msg)]; !seen {
				tr.attached[int(msg)] = false // its attach SIGSTOP is to come
			}
		}
		return cont(tid, 0)
	case sig == syscall.SIGSTOP && !tr.attached[tid]:
		// A new thread's attach stop (before or after its clone event):
		// not a signal to deliver.
		tr.attached[tid] = true
		tr.res.Threads++
		return cont(tid, 0)
	case tid == tr.stepping && sig != syscall.SIGTRAP:
		// A signal arrived before the step ended: hold it, finish the step.
		tr.pendingSig = int(sig)
		if err := syscall.PtraceSingleStep(tid); err != nil {
			return fmt.Errorf("ptrace-inline: PTRACE_SINGLESTEP of %d: %w", tid, err)
		}
		return nil
	case sig == syscall.SIGTRAP && ws.TrapCause() == 0:
		if tid == tr.stepping {
			return tr.stepDone(tid)
		}
		hit, err := RewindToProbe(tid, tr.cfg.Addr)
		if err != nil {
			return err
		}
		if !hit {
			return cont(tid, int(sig)) // the program's own SIGTRAP
		}
		tr.res.Hits++
		if tr.stepping != 0 {
			tr.res.Queued++
			tr.queue = append(tr.queue, tid)
			return nil
		}
		return tr.stepInPlace(tid)
	}
	return cont(tid, int(sig))
}

// stepInPlace opens the window: the original byte goes back and tid
// executes it with TF set.
func (tr *tracer) stepInPlace(tid int) error {
	if err := WriteByte(tid, tr.cfg.Addr, tr.orig); err != nil {
		return err
	}
	tr.opened = time.Now()
	tr.stepping = tid
	if err := syscall.PtraceSingleStep(tid); err != nil {
		return fmt.Errorf("ptrace-inline: PTRACE_SINGLESTEP of %d: %w", tid, err)
	}
	return nil
}

// stepDone closes the window after tid's single-step, lets tid go, and
// starts the next waiting thread's step.
func (tr *tracer) stepDone(tid int) error {
	if err := WriteByte(tid, tr.cfg.Addr, int3); err != nil {
		return err
	}
	d := uint64(time.Since(tr.opened))
	tr.res.WindowTotalNS += d
	if len(tr.res.WindowSamplesNS) < tr.cfg.MaxWindowSamples {
		tr.res.WindowSamplesNS = append(tr.res.WindowSamplesNS, d)
	}
	tr.stepping = 0
	sig := tr.pendingSig
	tr.pendingSig = 0
	if err := cont(tid, sig); err != nil {
		return err
	}
	if len(tr.queue) > 0 {
		next := tr.queue[0]
		tr.queue = tr.queue[1:]
		return tr.stepInPlace(next)
	}
	return nil
}

func cont(tid, sig int) error {
	if err := syscall.PtraceCont(tid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("ptrace-inline: PTRACE_CONT of %d: %w", tid, err)
	}
	return nil
}
