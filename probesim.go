// Package probesim is the library API of probesim: build a machine of N
// vCPUs, load a static x86 Linux program into it, place uprobes with Go
// handlers, run it, and read the report. The command line (cmd/probesim)
// is a client of this package and nothing more.
//
//	res, err := probesim.Run(probesim.Config{
//		Program:  "fixtures/bin/x86_64/threads",
//		Args:     []string{"4", "1000"},
//		CPUs:     4,
//		Seed:     1,
//		Probes:   []string{"probed"},
//		Strategy: probesim.Inline,
//	})
//	p := res.Report.Probes[0] // p.Hits + p.Misses == p.Executions
//
// The lower layers stay available for finer control: Simulation.Machine
// gives the smp.Machine (ordered watches, kernel writes) before Run.
//
// # Invariants
//
// A run is a pure function of its Config (program bytes, arguments,
// environment, seed, machine shape, profile and probes): the Report outside
// its Host field and the Events are identical every time. Handlers run on
// the goroutine that called Run, in global cycle order; they must not call
// back into the Simulation.
//
// # Locking
//
// None. A Simulation is used by one goroutine; separate Simulations are
// independent (each owns its Unicorn engine) and may run in parallel.
package probesim

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/probesim/probesim/kernel"
	"github.com/probesim/probesim/kernel/vfs"
	"github.com/probesim/probesim/probes"
	"github.com/probesim/probesim/report"
	"github.com/probesim/probesim/smp"
	"github.com/probesim/probesim/timing"
)

// Strategy names how a probed instruction runs after a hit.
type Strategy = probes.Strategy

// The strategies.
const (
	// Inline restores the original byte and single-steps it in place:
	// other vCPUs run through the probe meanwhile (they miss it).
	Inline = probes.Inline
	// SSOLStack leaves int3 in place and single-steps a copy of the
	// instruction out of line, in free stack space below the stack pointer.
	SSOLStack = probes.SSOLStack
	// XOL leaves int3 in place and single-steps a copy of the instruction
	// in a slot of a per-process executable page, "[uprobes]", as mainline
	// Linux uprobes do.
	XOL = probes.XOL
	// SSOLStack2005 is the seed's code as posted in 2005, defects and all
	// (each reported in the report's out_of_line.seed_defects).
	SSOLStack2005 = probes.SSOLStack2005
	// SSOLStack2006 is SSOLStack under the 2006 repost's global lock: one
	// hit in flight at a time, other vCPUs spinning for it.
	SSOLStack2006 = probes.SSOLStack2006
)

// Strategies lists the strategies reports, tables and sweeps compare, in
// their order; SeedStrategies the historical variants of SSOLStack.
var (
	Strategies     = probes.Strategies
	SeedStrategies = probes.SeedStrategies
)

// CheckStrategy returns an error naming the strategies unless s is one
// ("" is not: only Config's zero value means the default).
func CheckStrategy(s Strategy) error { return probes.CheckStrategy(s) }

// Hit is what a probe handler sees (probes.Hit): the probe, the cycle,
// vCPU and thread, and the thread's registers; Hit.Charge adds simulated
// cycles of the handler's own work.
type Hit = probes.Hit

// Regs are the trapping thread's registers at a hit (probes.Regs).
type Regs = probes.Regs

// ArgValue is a fetch argument's value at a hit (probes.ArgValue): the
// spec "probed n=%di:s32" gives Hit.Args [{n -3}].
type ArgValue = probes.ArgValue

// Event is one entry of the probe event log (probes.Event).
type Event = probes.Event

// Config describes one run. The zero value of every field but Program is
// a sensible default.
type Config struct {
	Program string // path of the static i386 or x86-64 ELF executable
	// Image, if not nil, is the executable itself, run without reading a
	// file; Program is then only the path the guest sees (argv[0],
	// AT_EXECFN), taken verbatim, and should be absolute.
	Image []byte
	// GuestPath, if set, is the absolute path the guest runs the program
	// under, whatever Program's host path: argv[0], AT_EXECFN,
	// readlink(/proc/self/exe), the VMA names and the report's program
	// (Program is only where to read it). Sweeps and checks run programs
	// this way, so a run does not depend on the checkout's location.
	GuestPath string
	Args      []string // argv[1:]; argv[0] is Program as given (or GuestPath)
	Env       []string // the guest's whole environment (empty by default)
	Seed      uint64   // the seed of every random choice of the run

	CPUs     int    // vCPUs sharing the address space, 1..smp.MaxCPUs (0 = 1)
	Quantum  uint64 // cycles a vCPU may run ahead of the slowest (0 = smp.DefaultQuantum)
	Lockstep bool   // reference mode: every block in global cycle order

	// Profile is the machine's timing model (nil = timing.Default()).
	// Params are NAME=VALUE overrides applied to a copy of it, such as
	// "kernel.exception_entry_exit=1500"; the report records them.
	Profile *timing.Profile
	Params  []string

	MaxCycles   uint64 // end the guest with SIGXCPU past this many cycles (0 = none)
	StackLimit  uint64 // RLIMIT_STACK in bytes (0 = smp.DefaultStackLimit; StackUnlimited for none)
	MemoryLimit uint64 // bound on all guest memory in bytes (0 = none)
	// RAM is the modelled machine's memory for guest pages, in bytes (0 =
	// smp.DefaultRAM, 8 GiB). A guest that touches more pages than that is
	// killed with SIGKILL, as Linux's OOM killer would (stop reason
	// "out_of_memory"); the host never holds more of the guest than this.
	RAM uint64

	// Probes are probe specs: "symbol", "symbol+offset" or "0xADDRESS".
	Probes []string
	// ProbesAt are probes placed while the program runs, each at a cycle
	// of global time (the slowest running vCPU's clock), as perf places a
	// uprobe in a running process; DetachAt removes probes so, each the
	// one placed at its spec's address at the time. The changes at one
	// address alternate, placing first (a probe of Probes is placed at
	// cycle 0); a removal may race with hits in flight, which then are
	// spurious misses (probes/attach.go).
	ProbesAt []TimedProbe
	DetachAt []TimedProbe
	// Strategy runs the probed instructions after a hit ("" = SSOLStack).
	Strategy Strategy
	// OnHit, if not nil, is the probe handler: it runs on every hit, with
	// the trapping thread's registers.
	OnHit func(Hit)

	// Root is the host directory the guest sees as "/" ("" = the host's
	// own root, read-only). Mounts bind host directories into the view,
	// "HOST:GUEST[:ro|rw]": the guest's changes go to an in-memory
	// overlay unless a mount says rw. HostTimes shows host files' own
	// timestamps. Cwd is the guest's working directory ("" = the host's
	// when Root is "", else "/"). NoFile is RLIMIT_NOFILE (0 = 1024).
	Root      string
	Mounts    []string
	HostTimes bool
	Cwd       string
	NoFile    uint64

	Stdin         io.Reader // the guest's standard input (nil = empty; ClosedStdin = not open)
	Stdout        io.Writer // guest output is captured in the report and copied here (nil = discard)
	Stderr        io.Writer
	TraceSyscalls io.Writer // receives an strace-like line per syscall (nil = none)
}

// TimedProbe is a probe spec placed or removed at a cycle (Config.ProbesAt,
// Config.DetachAt).
type TimedProbe struct {
	Cycle uint64
	Spec  string
}

// Result is what a run produced.
type Result struct {
	// Report is the run report (docs/report-schema.md).
	Report *report.Run
	// Events is the probe event log in cycle order (empty without probes).
	Events []Event
}

// A ConfigError is a Config field with a value probesim cannot use. Field
// is the Config field's name in lower case as the command line spells its
// flag ("probe", "strategy", "param", "cpus").
type ConfigError struct {
	Field string
	Err   error
}

func (e *ConfigError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// ClosedStdin, as Config.Stdin, starts the guest with descriptor 0 not
// open, as a shell's <&- does: its reads fail with EBADF.
var ClosedStdin = kernel.ClosedStdin

// StackUnlimited is RLIM_INFINITY as a stack limit, with which glibc picks
// its own default thread stack size. Any finite limit is allowed: glibc
// gives every new thread a stack of RLIMIT_STACK bytes, which costs only
// bookkeeping until the thread touches it (pages are populated on first
// touch, and a protection change visits only touched pages).
const StackUnlimited = ^uint64(0)

// MaxCPUs is the most vCPUs a machine can have.
const MaxCPUs = smp.MaxCPUs

// DefaultRAM is the machine's memory when Config.RAM is 0: 8 GiB.
const DefaultRAM = smp.DefaultRAM

// The bounds of Config.RAM: 1 MiB (less would not load a program) to 64
// TiB (the physical address space the page table can hold).
const (
	MinRAM = 1 << 20
	MaxRAM = 1 << 46
)

// PID is the guest process's pid (and its main thread's tid).
const PID = smp.PID

// Comm is the task name the kernel prints for a program at path program.
func Comm(program string) string { return smp.Comm(program) }

// ErrCannotRun marks a program probesim cannot load (not ELF, dynamically
// linked, corrupt, wrong machine); a missing file is fs.ErrNotExist.
var ErrCannotRun = smp.ErrCannotRun

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
	m, err := smp.New(smp.Config{
		Program: cfg.Program, Image: cfg.Image, GuestPath: cfg.GuestPath, Args: cfg.Args, Env: cfg.Env, Seed: cfg.Seed,
		MaxCycles: cfg.MaxCycles, StackLimit: cfg.StackLimit, MemoryLimit: cfg.MemoryLimit, RAM: cfg.RAM,
		Profile: prof, ProfileOverrides: cfg.Params,
		CPUs: cfg.CPUs, Quantum: cfg.Quantum, Lockstep: cfg.Lockstep,
		Stdin: cfg.Stdin, Stdout: stdout, Stderr: stderr, TraceSyscalls: cfg.TraceSyscalls,
		Root: cfg.Root, Mounts: mounts, HostTimes: cfg.HostTimes, Cwd: cfg.Cwd, NoFile: cfg.NoFile,
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

// attach places the probes and schedules the timed changes, in cycle
// order (a stable sort: the order given breaks ties, placing before
// removing).
func (s *Simulation) attach() error {
	cfg, m := s.cfg, s.m
	specs, err := probes.ParseList(m.Image(), cfg.Probes)
	var ue *probes.UnresolvableError
	if errors.As(err, &ue) {
		// The program is damaged, not the spec.
		return smp.CannotRun(err)
	}
	if err != nil {
		return &ConfigError{"probe", joinLines(err)}
	}
	if s.engine, err = probes.Attach(m, specs, cfg.Strategy, cfg.OnHit); err != nil {
		return &ConfigError{"probe", err}
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
		spec, err := probes.Resolve(m.Image(), c.Spec)
		if errors.As(err, &ue) {
			return smp.CannotRun(err)
		}
		if err == nil {
			if c.detach {
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
// budget) and returns the report. A Simulation runs once.
func (s *Simulation) Run() (*Result, error) {
	if s.ran {
		return nil, errors.New("probesim: a Simulation runs once")
	}
	s.ran = true
	rep, err := s.m.Run()
	if err != nil {
		return nil, err
	}
	res := &Result{Report: rep}
	if e := s.engine; e != nil {
		if err := e.Err(); err != nil {
			return nil, err
		}
		rep.Probes, rep.Strategy = e.Report(), string(s.cfg.Strategy)
		rep.OutOfLine = e.OutOfLineReport()
		res.Events = e.Events()
	}
	return res, nil
}

// Close releases the machine (its Unicorn engine and guest memory).
func (s *Simulation) Close() error { return s.m.Close() }

// Run is New, Run and Close in one call.
func Run(cfg Config) (*Result, error) {
	s, err := New(cfg)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.Run()
}

// joinLines puts a joined error (one line per bad spec) on one line.
func joinLines(err error) error {
	return errors.New(strings.ReplaceAll(err.Error(), "\n", "; "))
}
