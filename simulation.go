package probesim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"

	"github.com/probesim/probesim/emu/linux"
	"github.com/probesim/probesim/probes"
	"github.com/probesim/probesim/smp"
	"github.com/probesim/probesim/timing"
)

// Simulation is one loaded program on its machine, with its probes placed.
type Simulation struct {
	cfg    Config
	m      *smp.Machine
	engine *probes.Engine
	ran    bool
}

// New checks cfg, loads the program and places the probes.
func New(cfg Config) (*Simulation, error) {
	if cfg.CPUs < 0 || cfg.CPUs > smp.MaxCPUs {
		return nil, &ConfigError{"cpus", fmt.Errorf("%d: want 1 to %d", cfg.CPUs, smp.MaxCPUs)}
	}
	if cfg.RAM != 0 && (cfg.RAM < MinRAM || cfg.RAM > MaxRAM) {
		return nil, &ConfigError{"ram", fmt.Errorf("%d bytes: want %d to %d", cfg.RAM, uint64(MinRAM), uint64(MaxRAM))}
	}
	if cfg.Strategy == "" {
		cfg.Strategy = SSOLStack
	}
	if err := probes.CheckStrategy(cfg.Strategy); err != nil {
		return nil, &ConfigError{"strategy", err}
	}
	prof := timing.Default()
	if cfg.Profile != nil {
		cp := *cfg.Profile
		prof = &cp
	}
	for _, p := range cfg.Params {
		if err := prof.Override(p); err != nil {
			return nil, &ConfigError{"param", fmt.Errorf("%q: %w", p, err)}
		}
	}
	stdout, stderr := cfg.Stdout, cfg.Stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	every := cfg.ProgressCycles
	if every == 0 {
		every = DefaultProgressCycles
	}
	m, err := smp.New(smp.Config{
		Program: cfg.Program, Image: cfg.Image, Args: cfg.Args, Env: cfg.Env, Seed: cfg.Seed,
		MaxCycles: cfg.MaxCycles, StackLimit: cfg.StackLimit, MemoryLimit: cfg.MemoryLimit, RAM: cfg.RAM,
		Profile: prof, ProfileOverrides: cfg.Params,
		CPUs: cfg.CPUs, Quantum: cfg.Quantum, Lockstep: cfg.Lockstep,
		Stdin: cfg.Stdin, Stdout: stdout, Stderr: stderr, TraceSyscalls: cfg.TraceSyscalls,
		Progress: cfg.OnProgress, ProgressEvery: every,
	})
	if err != nil {
		return nil, err
	}
	s := &Simulation{cfg: cfg, m: m}
	if len(cfg.Probes) > 0 {
		specs, err := probes.ParseList(m.Image(), cfg.Probes)
		var ue *probes.UnresolvableError
		if errors.As(err, &ue) {
			// The program is damaged, not the spec.
			m.Close()
			return nil, smp.CannotRun(err)
		}
		if err != nil {
			m.Close()
			return nil, &ConfigError{"probe", joinLines(err)}
		}
		var onHit func(probes.Hit)
		if fn := cfg.OnHit; fn != nil {
			onHit = func(h probes.Hit) { fn(hitOf(h)) }
		}
		if s.engine, err = probes.Attach(m, specs, cfg.Strategy, onHit); err != nil {
			m.Close()
			return nil, &ConfigError{"probe", err}
		}
		if onEvent, onMiss := cfg.OnEvent, cfg.OnMiss; onEvent != nil || onMiss != nil {
			s.engine.OnEvent(func(pe probes.Event) {
				e := Event(pe)
				if onEvent != nil {
					onEvent(e)
				}
				if onMiss != nil && e.IsMiss() {
					onMiss(e)
				}
			})
		}
	}
	return s, nil
}

// Machine returns the machine, for the lower-level API (smp.Machine.Watch,
// KernelWrite, ...). Use it before Run.
func (s *Simulation) Machine() *smp.Machine { return s.m }

// Engine returns the probe engine, or nil when no probes were placed.
func (s *Simulation) Engine() *probes.Engine { return s.engine }

// Run runs the program to its end (exit, fatal signal, fault or cycle
// budget) and returns the result. A Simulation runs once.
//
// Cancelling ctx ends the run at its next scheduling decision (within a
// quantum of guest time, or a few million cycles for a vCPU running
// alone): Run then returns the result of the run so far, a complete report
// whose stop_reason is StopInterrupted, together with an error wrapping
// ctx's (errors.Is(err, context.Canceled)). The report's signal is the one
// an *Interruption cause names (context.WithCancelCause), else SIGKILL,
// and its exit status 128 plus that signal's number.
func (s *Simulation) Run(ctx context.Context) (*Result, error) {
	if s.ran {
		return nil, errors.New("probesim: a Simulation runs once")
	}
	s.ran = true
	if ctx.Err() != nil {
		s.m.Interrupt(int(signalOf(ctx))) // AfterFunc would call it late
	}
	stop := context.AfterFunc(ctx, func() { s.m.Interrupt(int(signalOf(ctx))) })
	defer stop()
	rep, err := s.m.Run()
	if err != nil {
		return nil, err
	}
	if fn := s.cfg.OnProgress; fn != nil {
		fn(rep.Cycles)
	}
	res := &Result{Report: rep}
	if e := s.engine; e != nil {
		rep.Probes, rep.Strategy = e.Report(), string(s.cfg.Strategy)
		rep.OutOfLine = e.OutOfLineReport()
		res.Events = eventsOf(e.Events())
	}
	if rep.StopReason == StopInterrupted {
		return res, &interruptedError{cause: context.Cause(ctx), ctxErr: ctx.Err()}
	}
	return res, nil
}

// interruptedError is Run's error for a cancelled run: it wraps both the
// context's error and its cause.
type interruptedError struct{ cause, ctxErr error }

func (e *interruptedError) Error() string {
	var in *Interruption
	if errors.As(e.cause, &in) {
		return "probesim: run " + in.Error()
	}
	return "probesim: run interrupted: " + e.cause.Error()
}

func (e *interruptedError) Unwrap() []error { return []error{e.cause, e.ctxErr} }

// Interruption is a cancellation cause (context.WithCancelCause) that
// names the signal that stopped a run, as a front end that caught SIGINT
// gives it: the report records that signal.
type Interruption struct{ Signal syscall.Signal }

func (i *Interruption) Error() string { return "interrupted by " + signalName(i.Signal) }

// signalOf is the signal an interrupted run reports: the cause's, else
// SIGKILL (stopped from outside, with no chance to react).
func signalOf(ctx context.Context) syscall.Signal {
	var in *Interruption
	if errors.As(context.Cause(ctx), &in) && in.Signal > 0 {
		return in.Signal
	}
	return syscall.SIGKILL
}

// signalName spells a signal as the kernel and the report do ("SIGINT").
func signalName(sig syscall.Signal) string { return linux.SignalName(int(sig)) }

// Close releases the machine (its Unicorn engine and guest memory).
func (s *Simulation) Close() error { return s.m.Close() }

// Run is New, Run and Close in one call.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	s, err := New(cfg)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.Run(ctx)
}

// joinLines puts a joined error (one line per bad spec) on one line.
func joinLines(err error) error {
	return errors.New(strings.ReplaceAll(err.Error(), "\n", "; "))
}
