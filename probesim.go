// Package probesim is the library API of probesim: build a machine of N
// vCPUs, load a static x86 Linux program into it, place uprobes with Go
// handlers, run it, and read the report. The command line (cmd/probesim)
// is a client of this package and nothing more.
//
//	res, err := probesim.Run(ctx, probesim.Config{
//		Program:  "fixtures/bin/x86_64/threads",
//		Args:     []string{"4", "1000"},
//		CPUs:     4,
//		Seed:     1,
//		Probes:   []string{"probed"},
//		Strategy: probesim.Inline,
//	})
//	p := res.Report.Probes[0] // p.Hits + p.Misses == p.Executions
//
// During a run, Config.OnHit runs at every hit with the thread's
// registers, Config.OnEvent and Config.OnMiss receive the probe events as
// they happen, and Config.OnProgress the run's clock. Cancelling Run's
// context ends the run at its next scheduling decision with a complete
// report (stop reason "interrupted").
//
// The lower layers stay available for finer control: Simulation.Machine
// gives the smp.Machine (ordered watches, kernel writes) before Run.
//
// # Invariants
//
// A run is a pure function of its Config (program bytes, arguments,
// environment, seed, machine shape, profile and probes): the Report outside
// its Host field and the Events are identical every time, whatever
// callbacks are set (they observe the run, they cannot steer it; only
// Hit.Charge adds the cycles it is given). Callbacks run on the goroutine
// that called Run, in global cycle order; they must not call back into the
// Simulation. Only cancellation depends on when it happens: an interrupted
// run's report is the run up to the decision that saw it.
//
// # Locking
//
// None. A Simulation is used by one goroutine (Run's context may be
// cancelled from any); separate Simulations are independent (each owns its
// Unicorn engine) and may run in parallel.
package probesim

import (
	"io"

	"github.com/probesim/probesim/emu/uc"
	"github.com/probesim/probesim/kernel"
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
	// OnEvent, if not nil, receives every probe event as it happens, in
	// the order of Result.Events (global cycle order): a hit's event comes
	// just before OnHit runs for it.
	OnEvent func(Event)
	// OnMiss, if not nil, receives every miss (EventMiss and
	// EventSpuriousMiss) as it happens.
	OnMiss func(Event)
	// OnProgress, if not nil, is called with the run's clock (the lowest
	// running vCPU's, in cycles) each time it passes another
	// ProgressCycles (0 = DefaultProgressCycles), and once at the end
	// with the run's cycles. The calls fall at scheduling decisions, so
	// they are as deterministic as the run.
	OnProgress     func(cycles uint64)
	ProgressCycles uint64

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
	// MaxProcesses bounds the guest's processes not yet reaped, as
	// RLIMIT_NPROC (0 = 4096): a fork past it fails with EAGAIN in the
	// guest.
	MaxProcesses int

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

// DefaultProgressCycles is how often OnProgress is called when
// Config.ProgressCycles is 0: every 100 M cycles, 33 ms of guest time at
// the default profile's 3 GHz.
const DefaultProgressCycles = 100_000_000

// StopInterrupted is the report's stop_reason of a run ended by the
// cancellation of Run's context.
const StopInterrupted = smp.StopInterrupted

// ErrCannotRun marks a program probesim cannot load (not ELF, dynamically
// linked, corrupt, wrong machine); a missing file is fs.ErrNotExist.
var ErrCannotRun = smp.ErrCannotRun

// EngineVersion is the version of the Unicorn engine probesim runs on,
// linked statically (emu/uc refuses any other).
func EngineVersion() string { return uc.Version }
