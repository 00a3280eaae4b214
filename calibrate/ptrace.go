package calibrate

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/probesim/probesim/internal/ptraceinline"
)

// The ptrace costs behind the ptrace-inline profile, measured with the
// tracer primitives cmd/ptrace-inline uses (internal/ptraceinline) on the
// helper's "traps" mode:
//
//   - ptrace_int3_ns: an int3 stop served and resumed: the trap, the
//     tracee's stop, the tracer's wakeup in wait4 and PTRACE_CONT until
//     the tracee traps again (the register reads are timed apart and
//     taken out);
//   - ptrace_step_ns: one PTRACE_SINGLESTEP and the wait4 for its #DB stop;
//   - ptrace_regs_ns: PTRACE_GETREGS plus PTRACE_SETREGS (rewinding the ip);
//   - ptrace_poke_ns: writing one text byte (PEEKTEXT and POKETEXT);
//   - ptrace_cow_ns: the first such write, which breaks copy-on-write of
//     the text page.
//
// Each is measured twice: with tracer and tracee pinned to one CPU
// ("_same_cpu": a stop is a context switch) and unpinned, as the
// miss-rate experiment runs (the tracer is woken wherever the scheduler
// puts it).

func measurePtrace(ctx context.Context, h *helper, cpu int, scale float64, vals map[string]float64) error {
	n := max(2, int(5e3*scale))
	for _, pin := range []int{-1, cpu} {
		r, err := ptraceRound(ctx, h, n, pin)
		if err != nil {
			return err
		}
		suffix := "_ns"
		if pin >= 0 {
			suffix = "_same_cpu_ns"
		}
		for k, v := range r {
			vals["ptrace_"+k+suffix] = v
		}
	}
	return nil
}

// ptraceRound runs on a goroutine of its own, locked to a thread that is
// discarded afterwards (never unlocked), so that pinning the tracer does
// not leak into the threads that start later helpers.
func ptraceRound(ctx context.Context, h *helper, n, pin int) (map[string]float64, error) {
	type result struct {
		v   map[string]float64
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		v, err := ptraceRoundLocked(ctx, h, n, pin)
		done <- result{v, err}
	}()
	r := <-done
	return r.v, r.err
}

func ptraceRoundLocked(ctx context.Context, h *helper, n, pin int) (map[string]float64, error) {
	if pin >= 0 {
		var set unix.CPUSet
		set.Set(pin)
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			return nil, fmt.Errorf("pin tracer: %w", err)
		}
	}
	t, err := ptraceinline.Start(h.path, []string{"traps", strconv.Itoa(n)}, nil, nil)
	if err != nil {
		return nil, err
	}
	defer t.Kill()
	stop := context.AfterFunc(ctx, func() { _ = syscall.Kill(t.Pid, syscall.SIGKILL) })
	defer stop()
	waitTrap := func() error {
		var ws syscall.WaitStatus
		if _, err := t.WaitAny(&ws); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !ws.Stopped() || ws.StopSignal() != syscall.SIGTRAP {
			return fmt.Errorf("helper under ptrace: want a SIGTRAP stop, got status %#x", uint32(ws))
		}
		return nil
	}
	var regs syscall.PtraceRegs
	var regsTime time.Duration
	start := time.Now()
	if err := syscall.PtraceCont(t.Pid, 0); err != nil {
		return nil, err
	}
	for i := 0; i < n; i++ {
		if err := waitTrap(); err != nil {
			return nil, err
		}
		r0 := time.Now()
		if err := syscall.PtraceGetRegs(t.Pid, &regs); err != nil {
			return nil, err
		}
		if err := syscall.PtraceSetRegs(t.Pid, &regs); err != nil {
			return nil, err
		}
		regsTime += time.Since(r0)
		if i == n-1 {
			break // stopped after the last int3: now the pokes and the steps
		}
		if err := syscall.PtraceCont(t.Pid, 0); err != nil {
			return nil, err
		}
	}
	int3Time := time.Since(start) - regsTime
	orig, err := ptraceinline.ReadByte(t.Pid, h.nopAddr)
	if err != nil {
		return nil, err
	}
	c0 := time.Now()
	if err := ptraceinline.WriteByte(t.Pid, h.nopAddr, orig); err != nil {
		return nil, err
	}
	cow := time.Since(c0)
	p0 := time.Now()
	for i := 0; i < n; i++ {
		if err := ptraceinline.WriteByte(t.Pid, h.nopAddr, orig); err != nil {
			return nil, err
		}
	}
	poke := time.Since(p0)
	s0 := time.Now()
	for i := 0; i < n; i++ {
		if err := syscall.PtraceSingleStep(t.Pid); err != nil {
			return nil, err
		}
		if err := waitTrap(); err != nil {
			return nil, err
		}
	}
	step := time.Since(s0)
	if err := syscall.PtraceGetRegs(t.Pid, &regs); err != nil {
		return nil, err
	}
	if regs.Rip < h.stepLoopAddr || regs.Rip > h.stepLoopAddr+16 {
		return nil, errors.New("helper under ptrace: single-steps left its step loop")
	}
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(n) }
	return map[string]float64{
		"int3": per(int3Time), "step": per(step), "regs": per(regsTime), "poke": per(poke),
		"cow": float64(cow.Nanoseconds()),
	}, nil
}
