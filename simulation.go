package probesim

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"syscall"

	"github.com/probesim/probesim/kernel"
	"github.com/probesim/probesim/kernel/vfs"
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
	if cfg.GuestPath != "" && (!path.IsAbs(cfg.GuestPath) || path.Clean(cfg.GuestPath) != cfg.GuestPath) {
		return nil, &ConfigError{"guest-path", fmt.Errorf("%q: want a clean absolute path", cfg.GuestPath)}
	}
	var mounts []vfs.Mount
	for _, ms := range cfg.Mounts {
		mt, err := vfs.ParseMount(ms)
		if err != nil {
			return nil, &ConfigError{"mount", err}
		}
		mounts = append(mounts, mt)
	}
	every := cfg.ProgressCycles
	if every == 0 {
		every = DefaultProgressCycles
	}
	m, err := smp.New(smp.Config{
		Program: cfg.Program, Image: cfg.Image, GuestPath: cfg.GuestPath, Args: cfg.Args, Env: cfg.Env, Seed: cfg.Seed,
		MaxCycles: cfg.MaxCycles, StackLimit: cfg.StackLimit, MemoryLimit: cfg.MemoryLimit, RAM: cfg.RAM,
		Profile: prof, ProfileOverrides: cfg.Params,
		CPUs: cfg.CPUs, Quantum: cfg.Quantum, Lockstep: cfg.Lockstep,
		Stdin: cfg.Stdin, Stdout: stdout, Stderr: stderr, TraceSyscalls: cfg.TraceSyscalls,
		Root: cfg.Root, Mounts: mounts, HostTimes: cfg.HostTimes, Cwd: cfg.Cwd, NoFile: cfg.NoFile, MaxProcesses: cfg.MaxProcesses,
		Progress: cfg.OnProgress, ProgressEvery: every,
	})
	var ve *vfs.ConfigError
	if errors.As(err, &ve) {
		return nil, &ConfigError{ve.Field, ve.Err}
	}
	if err != nil {
		return nil, err
	}
	s := &Simulation{cfg: cfg, m: m}
	if len(cfg.Probes)+len(cfg.ProbesAt)+len(cfg.DetachAt) > 0 {
		if err := s.attach(); err != nil {
			m.Close()
			return nil, err
		}
	}
	return s, nil
}

// attach places the probes, connects the callbacks and schedules the
// timed changes, in cycle order (a stable sort: the order given breaks
// ties, placing before removing).
func (s *Simulation) attach() error {
	cfg, m := s.cfg, s.m
	// A spec naming a file other than the program finds it in the guest's
	// view, as the guest's own open would.
	res := &probes.Resolver{Image: m.Image(), GuestPath: cfg.GuestPath, Files: probes.ViewFiles(m.Kernel().FS())}
	specs, err := res.ParseList(cfg.Probes)
	var ue *probes.UnresolvableError
	if errors.As(err, &ue) {
		// The program is damaged, not the spec.
		return smp.CannotRun(err)
	}
	if err != nil {
		return &ConfigError{"probe", joinLines(err)}
	}
	var onHit func(probes.Hit)
	if fn := cfg.OnHit; fn != nil {
		onHit = func(h probes.Hit) { fn(hitOf(h)) }
	}
	if s.engine, err = probes.Attach(m, specs, cfg.Strategy, onHit); err != nil {
		return &ConfigError{"probe", err}
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
	type change struct {
		TimedProbe
		detach bool
	}
	var changes []change
	for _, tp := range cfg.ProbesAt {
		changes = append(changes, change{tp, false})
	}
	for _, tp := range cfg.DetachAt {
		changes = append(changes, change{tp, true})
	}
	slices.SortStableFunc(changes, func(a, b change) int { return cmp.Compare(a.Cycle, b.Cycle) })
	for _, c := range changes {
		field := "probe-at"
		if c.detach {
			field = "detach-at"
		}
		spec, err := res.Resolve(c.Spec)
		if errors.As(err, &ue) {
			return smp.CannotRun(err)
		}
		if err == nil {
			if c.detach && spec.File != nil {
				err = fmt.Errorf("probe %q: a probe on a file cannot be removed while the program runs", c.Spec)
			} else if c.detach {
				err = s.engine.DetachAt(c.Cycle, spec.Addr)
			} else if c.Cycle == 0 {
				err = fmt.Errorf("probe %q at cycle 0: use a plain probe", c.Spec)
			} else {
				err = s.engine.AttachAt(c.Cycle, spec)
			}
		}
		if err != nil {
			return &ConfigError{field, err}
		}
	}
	return nil
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
		if err := e.Err(); err != nil {
			return nil, err
		}
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
func signalName(sig syscall.Signal) string { return kernel.SignalName(int(sig)) }

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
