package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/probesim/probesim"
	"github.com/probesim/probesim/report"
	"github.com/probesim/probesim/timing"
)

func reportSchema() string { return report.Schema }

type runFlags struct {
	jsonPath      string
	seed          uint64
	maxCycles     uint64
	stackLimit    string
	memoryLimit   string
	ram           string
	traceSyscalls bool
	env           []string
	inheritEnv    bool
	cpus          int
	quantum       uint64
	lockstep      bool
	profile       string
	params        []string
	probeSpecs    []string
	probesAt      []string
	detachAt      []string
	strategy      string
	eventsPath    string
	probeLogPath  string
	stdoutPath    string
	quiet         bool
	root          string
	mounts        []string
	hostTimes     bool
	nofile        uint64
	maxProcesses  int
	guestPath     string
}

func newRunCmd() *cobra.Command {
	var f runFlags
	c := &cobra.Command{
		Use:   "run [flags] PROGRAM [ARGS...]",
		Short: "Run a static x86 Linux program on the emulated machine",
		Long: `Run PROGRAM (a static i386 or x86-64 ELF executable) with ARGS. Its standard
output and error pass through; probesim exits with the program's status, or
128+N if signal N ended it (a guest fault prints a kernel-log-like line).

The guest's environment is empty unless given with --env or --inherit-env, so
that a run depends only on its command line.

--json, --events and --probe-log take "-" for standard output (one of them at
a time), kept apart from the guest's output: the guest's standard output then
goes to the terminal (/dev/tty), or to --stdout FILE, or, with neither, only
into the report. Files are written whole or not at all.

SIGINT, SIGTERM and SIGPIPE (a reader of probesim's output that went away,
as in '| head -1') end the run at its next scheduling decision: the report
and the event log are still written, complete up to there, with stop_reason
"interrupted", and probesim exits 130, 143 or 141. A second SIGINT or
SIGTERM kills probesim at once.

Exit statuses of probesim itself: 125 for its own errors (bad flags, an
unwritable report), 126 when PROGRAM cannot be run (not ELF, dynamically
linked, corrupt), 127 when PROGRAM does not exist.`,
		Example: `  probesim run fixtures/bin/x86_64/stdio
  probesim run --json report.json --seed 7 fixtures/bin/i386/qsort
  probesim run --stack-limit 1M --env LANG=C ./prog arg1 arg2
  probesim run --max-cycles 1000000000 --trace-syscalls ./prog
  probesim run --cpus 4 --seed 3 --json r.json fixtures/bin/x86_64/threads 4 1000
  probesim run --cpus 4 --probe probed --strategy inline fixtures/bin/x86_64/threads 4 1000
  probesim run -q --json - --stdout out.txt fixtures/bin/x86_64/threads 4 1000 | jq .cycles
  probesim run -q --cpus 4 --probe probed --strategy inline --events - fixtures/bin/x86_64/threads 4 1000 | grep -m3 miss`,
		Args: minArgs("PROGRAM"),
		RunE: func(c *cobra.Command, args []string) error {
			return runProgram(c, &f, args[0], args[1:])
		},
	}
	// Everything after PROGRAM belongs to the guest.
	c.Flags().SetInterspersed(false)
	fl := c.Flags()
	fl.StringVar(&f.jsonPath, "json", "", "write the run report (JSON, docs/report-schema.md) to `FILE` (- for standard output)")
	fl.Uint64Var(&f.seed, "seed", 0, "seed for every random choice of the run (AT_RANDOM, getrandom, ...)")
	fl.Uint64Var(&f.maxCycles, "max-cycles", 0, "end the guest with SIGXCPU after `N` simulated cycles (0 = no budget)")
	fl.StringVar(&f.stackLimit, "stack-limit", "8M", "RLIMIT_STACK of the guest, in `BYTES` (suffixes K, M, G; at least 64K; 18446744073709551615 for unlimited)")
	fl.StringVar(&f.memoryLimit, "memory-limit", "0", "bound on all guest memory, in `BYTES` (suffixes K, M, G; 0 = none)")
	fl.StringVar(&f.ram, "ram", "8G", "memory of the modelled machine, in `BYTES` (suffixes K, M, G): a guest touching more is killed, as by the OOM killer")
	fl.BoolVar(&f.traceSyscalls, "trace-syscalls", false, "print every syscall to standard error, strace style")
	fl.IntVar(&f.cpus, "cpus", 1, "number of vCPUs sharing the address space (1 to 64)")
	fl.Uint64Var(&f.quantum, "quantum", 0, "how many `CYCLES` a vCPU may run ahead of the slowest one (0 = the default, 10000)")
	fl.BoolVar(&f.lockstep, "lockstep", false, "slow reference mode: run every block in global cycle order")
	fl.StringVar(&f.profile, "profile", "", "machine profile: a built-in `NAME` (skylake) or a profile JSON file (default: skylake; see docs/timing.md)")
	fl.StringArrayVar(&f.params, "param", nil, "override a profile parameter, `NAME=VALUE` (repeatable), e.g. kernel.exception_entry_exit=1500")
	fl.StringArrayVar(&f.probeSpecs, "probe", nil, "place a probe at `SPEC`: symbol, symbol+offset or 0xADDR; in another file (a shared library, in the guest's view) FILE:symbol[+offset] or FILE:0xFILEOFFSET, armed wherever the file is mapped; SPEC%return or uretprobe:SPEC for a return probe, uprobe:[FILE:]SPEC as bpftrace writes it (repeatable)")
	fl.StringArrayVar(&f.probesAt, "probe-at", nil, "place a probe while the program runs: `CYCLE:SPEC` writes SPEC's int3 at CYCLE of global time (repeatable)")
	fl.StringArrayVar(&f.detachAt, "detach-at", nil, "remove a probe while the program runs: `CYCLE:SPEC` takes out the one at SPEC's address at CYCLE of global time (repeatable)")
	fl.StringVar(&f.strategy, "strategy", "ssol-stack", "how a probed instruction runs after a hit: inline, ssol-stack, xol, or the seed's ssol-stack-2005 (as posted) and ssol-stack-2006 (the repost's global lock) (needs --probe or --probe-at)")
	fl.StringVar(&f.eventsPath, "events", "", "write every probe event (hits, misses, open windows) as cycle-stamped JSON lines to `FILE`, as they happen (- for standard output; needs --probe or --probe-at)")
	fl.StringVar(&f.probeLogPath, "probe-log", "", "write one JSON line per probe hit, with the thread's registers, to `FILE` (- for standard output; needs --probe or --probe-at)")
	fl.StringVar(&f.stdoutPath, "stdout", "", "write the guest's standard output to `FILE` instead of probesim's")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print none of probesim's own lines (probe summaries, how the guest ended); errors still")
	fl.StringArrayVar(&f.env, "env", nil, "add `NAME=VALUE` to the guest's environment (repeatable)")
	fl.BoolVar(&f.inheritEnv, "inherit-env", false, "start the guest's environment from probesim's own")
	fl.StringVar(&f.root, "root", "", "host `DIR` the guest sees as / (default: the host's root, read-only)")
	fl.StringArrayVar(&f.mounts, "mount", nil, "bind host directory HOST at GUEST in the guest's view, `HOST:GUEST[:ro|rw]` (repeatable; ro keeps the guest's changes in memory)")
	fl.BoolVar(&f.hostTimes, "host-times", false, "show host files' own timestamps to the guest (default: fixed, for determinism)")
	fl.Uint64Var(&f.nofile, "nofile", 1024, "RLIMIT_NOFILE of the guest: at most `N` open descriptors")
	fl.IntVar(&f.maxProcesses, "max-processes", 4096, "the guest's process limit, as RLIMIT_NPROC: at most `N` processes not yet reaped (a fork past it is EAGAIN)")
	fl.StringVar(&f.guestPath, "guest-path", "", "run the program as absolute `PATH` in the guest (argv[0], /proc/self/exe), wherever it is on the host")
	return c
}

// parseBytes reads a byte-count flag (probesim.ParseBytes).
func parseBytes(flag, s string) (uint64, error) {
	v, err := probesim.ParseBytes(s)
	if err != nil {
		return 0, &exitError{status: exitUsage, err: fmt.Errorf("invalid argument %q for --%s: want a byte count such as 8388608, 512K or 8M", s, flag)}
	}
	return v, nil
}

func runProgram(c *cobra.Command, f *runFlags, program string, args []string) error {
	cfg, err := f.config(c, program, args)
	if err != nil {
		return err
	}
	memLimit := cfg.MemoryLimit

	stdout := &pipeWatch{w: c.OutOrStdout()}
	report := &outFile{flag: "--json", path: f.jsonPath, stdout: stdout}
	events := &outFile{flag: "--events", path: f.eventsPath, stdout: stdout}
	hitLog := &outFile{flag: "--probe-log", path: f.probeLogPath, stdout: stdout}
	guestOut := &outFile{flag: "--stdout", path: f.stdoutPath, stdout: stdout}
	outs := []*outFile{report, events, hitLog, guestOut}
	if f.stdoutPath == stdoutName {
		return usageError("--stdout: want a FILE (the guest's output goes to standard output without --stdout)")
	}
	var dash []string
	for _, o := range outs {
		if o.path == stdoutName {
			dash = append(dash, o.flag)
		}
	}
	if len(dash) > 1 {
		return usageError("%s: only one output can be - (standard output)", strings.Join(dash, " and "))
	}

	// The run ends early on SIGINT, SIGTERM or SIGPIPE (interrupt.go).
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	stop := interruptOnSignals(cancel)
	defer stop()
	stdout.broken = func() { cancel(&probesim.Interruption{Signal: syscall.SIGPIPE}) }

	switch {
	case guestOut.on():
		cfg.Stdout = guestOut
	case len(dash) > 0:
		// Standard output carries a stream: the guest writes to the
		// terminal, if there is one, and into the report anyway.
		if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
			defer tty.Close()
			cfg.Stdout = tty
		}
	default:
		cfg.Stdout = stdout
	}
	var evLines, hitLines jsonLines
	if events.on() {
		evLines = newJSONLines(events)
		cfg.OnEvent = func(e probesim.Event) { evLines.write(e) }
	}
	if hitLog.on() {
		hitLines = newJSONLines(hitLog)
		cfg.OnHit = func(h probesim.Hit) {
			hitLines.write(probeLogLine{Cycle: h.Cycle, VCPU: h.VCPU, TID: h.TID, Probe: h.Probe.Spec,
				Address: h.Probe.Address, Return: h.Return, Args: h.Args, Registers: h.Regs})
		}
	}
	sim, err := probesim.New(cfg)
	if err != nil {
		if memLimit > 0 && errors.Is(err, syscall.ENOMEM) {
			// The program's own segments and stack do not fit the bound.
			return &exitError{status: exitUsage, err: fmt.Errorf("--memory-limit %s: too small to load the program: %w", f.memoryLimit, err)}
		}
		return cannotRun(err)
	}
	defer sim.Close()
	// Create the files before spending time on the run.
	for _, o := range outs {
		if err := o.open(); err != nil {
			return usageError("%v", err)
		}
		defer o.abort()
	}
	res, err := sim.Run(ctx)
	if err != nil && res == nil {
		return &exitError{status: exitUsage, err: fmt.Errorf("%s: %w", program, err)}
	}
	rep := res.Report
	for _, o := range []*outFile{events, hitLog, guestOut} {
		if err := o.commit(); err != nil && !isEPIPE(err) {
			return usageError("%s: %v", o.flag, err)
		}
	}
	if !f.quiet {
		f.summarize(c.ErrOrStderr(), program, rep)
	}
	if report.on() {
		if err := rep.Encode(report); err == nil || !isEPIPE(err) {
			if err == nil {
				err = report.commit()
			}
			if err != nil && !isEPIPE(err) {
				return usageError("--json: %v", err)
			}
		}
	}
	if rep.StopReason != probesim.StopInterrupted && stdout.done {
		// Standard output broke as the run ended: a pipeline's writer
		// ends with SIGPIPE.
		return &guestStatus{status: 128 + int(syscall.SIGPIPE)}
	}
	if rep.ExitStatus != 0 {
		return &guestStatus{status: rep.ExitStatus}
	}
	return nil
}

// config checks the flags and builds the run's library configuration
// (without its output streams).
func (f *runFlags) config(c *cobra.Command, program string, args []string) (probesim.Config, error) {
	var cfg probesim.Config
	stackLimit, err := parseBytes("stack-limit", f.stackLimit)
	if err != nil {
		return cfg, err
	}
	if stackLimit < 64<<10 {
		return cfg, &exitError{status: exitUsage, err: fmt.Errorf("invalid argument %q for --stack-limit: at least 64K is needed for the initial stack", f.stackLimit)}
	}
	memLimit, err := parseBytes("memory-limit", f.memoryLimit)
	if err != nil {
		return cfg, err
	}
	ram, err := parseBytes("ram", f.ram)
	if err != nil {
		return cfg, err
	}
	if ram < probesim.MinRAM || ram > probesim.MaxRAM {
		return cfg, &exitError{status: exitUsage, err: fmt.Errorf("invalid argument %q for --ram: want 1M to 64T", f.ram)}
	}
	if ram == probesim.DefaultRAM {
		ram = 0 // the report leaves the default out
	}
	// probesim.Config's zero Strategy is the default; an empty flag is a
	// mistake (an unset shell variable, say), not a request for it.
	if err := probesim.CheckStrategy(probesim.Strategy(f.strategy)); err != nil {
		return cfg, &exitError{status: exitUsage, err: fmt.Errorf("--strategy: %w", err)}
	}
	if len(f.probeSpecs)+len(f.probesAt) == 0 {
		// Flags that mean nothing without a probe are mistakes, not no-ops.
		// (--detach-at has its own error: no probe is placed at SPEC.)
		for _, name := range []string{"strategy", "events", "probe-log"} {
			if c.Flags().Changed(name) {
				return cfg, usageError("--%s: needs --probe or --probe-at (there is no probe to run a strategy for, or to log)", name)
			}
		}
	}
	probesAt, err := parseTimedProbes("probe-at", f.probesAt)
	if err != nil {
		return cfg, err
	}
	detachAt, err := parseTimedProbes("detach-at", f.detachAt)
	if err != nil {
		return cfg, err
	}
	if f.cpus < 1 || f.cpus > probesim.MaxCPUs {
		return cfg, &exitError{status: exitUsage, err: fmt.Errorf("invalid argument %d for --cpus: want 1 to %d", f.cpus, probesim.MaxCPUs)}
	}
	var env []string
	if f.inheritEnv {
		env = os.Environ()
	}
	for _, e := range f.env {
		if !strings.Contains(e, "=") {
			return cfg, &exitError{status: exitUsage, err: fmt.Errorf("invalid argument %q for --env: want NAME=VALUE", e)}
		}
		env = append(env, e)
	}
	prof := timing.Default()
	if f.profile != "" {
		if prof, err = probesim.LoadProfile(f.profile); err != nil {
			return cfg, &exitError{status: exitUsage, err: fmt.Errorf("--profile: %w", err)}
		}
	}
	if f.maxProcesses < 1 {
		return cfg, &exitError{status: exitUsage, err: fmt.Errorf("--max-processes %d: want at least 1", f.maxProcesses)}
	}
	cfg = probesim.Config{
		Program: program, Args: args, Env: env, Seed: f.seed,
		CPUs: f.cpus, Quantum: f.quantum, Lockstep: f.lockstep,
		Profile: prof, Params: f.params,
		MaxCycles: f.maxCycles, StackLimit: stackLimit, MemoryLimit: memLimit, RAM: ram,
		Probes: f.probeSpecs, ProbesAt: probesAt, DetachAt: detachAt, Strategy: probesim.Strategy(f.strategy),
		Root: f.root, Mounts: f.mounts, HostTimes: f.hostTimes, NoFile: f.nofile, MaxProcesses: f.maxProcesses, GuestPath: f.guestPath,
		Stdin: guestStdin(), Stderr: c.ErrOrStderr(),
	}
	if f.traceSyscalls {
		cfg.TraceSyscalls = c.ErrOrStderr()
	}
	return cfg, nil
}

// summarize prints probesim's own lines after a run: each probe's counts,
// the kernel-like fault line, and how the guest ended when a signal did.
func (f *runFlags) summarize(w io.Writer, program string, rep *report.Run) {
	for _, p := range rep.Probes {
		life := ""
		if p.AttachedAt != 0 {
			life += fmt.Sprintf(", placed at cycle %d", p.AttachedAt)
		}
		if p.DetachedAt != 0 {
			life += fmt.Sprintf(", removed at cycle %d", p.DetachedAt)
		}
		fmt.Fprintf(w, "probesim: probe %s (%s): %d executions, %d hits, %d misses (%s%s)\n",
			p.Spec, p.Instruction, p.Executions, p.Hits, p.Misses, f.strategy, life)
	}
	printSeedReport(w, rep.OutOfLine)
	if rep.Fault != nil {
		fmt.Fprintf(w, "probesim: %s\n", rep.Fault.Message)
	}
	if rep.Signal == nil {
		return
	}
	why := ""
	switch rep.StopReason {
	case "cycle_budget":
		why = fmt.Sprintf(" (cycle budget of %d exhausted)", f.maxCycles)
	case "deadlock":
		why = " (every thread sleeps forever)"
	case "out_of_memory":
		// The kernel's line (oom_kill_process, mm/oom_kill.c), then ours.
		fmt.Fprintf(w, "probesim: Out of memory: Killed process %d (%s)\n", probesim.PID, probesim.Comm(program))
		why = fmt.Sprintf(" (out of memory: --ram %s)", f.ram)
	case probesim.StopInterrupted:
		fmt.Fprintf(w, "probesim: %s interrupted by %s at cycle %d: the report is complete up to there\n", program, *rep.Signal, rep.Cycles)
		return
	}
	fmt.Fprintf(w, "probesim: %s killed by %s%s\n", program, *rep.Signal, why)
}

// printSeedReport prints what the seed strategies' report says: the 2005
// code's defects, with the first few described, and the 2006 lock's cost.
func printSeedReport(w io.Writer, o *report.OutOfLine) {
	if o == nil {
		return
	}
	if d := o.SeedDefects; d != nil {
		fmt.Fprintf(w, "probesim: ssol-stack-2005: %d copies over live stack, %d hits with eip not moved, %d fixups with another hit's singlestep_addr, %d special instructions without their fixup\n",
			d.LiveStackCopies, d.EIPNotMoved, d.ForeignSinglestepAddr, d.MissingFixups)
		for _, ex := range d.Examples[:min(len(d.Examples), 5)] {
			fmt.Fprintf(w, "probesim: ssol-stack-2005: %s\n", ex)
		}
	}
	if o.LockSpins > 0 {
		fmt.Fprintf(w, "probesim: ssol-stack-2006: %d hits spun %d cycles for the global lock\n", o.LockSpins, o.LockSpinCycles)
	}
}

// parseTimedProbes reads --probe-at or --detach-at values, CYCLE:SPEC.
func parseTimedProbes(flag string, vals []string) ([]probesim.TimedProbe, error) {
	var out []probesim.TimedProbe
	for _, v := range vals {
		cycle, spec, ok := strings.Cut(v, ":")
		n, err := strconv.ParseUint(cycle, 10, 64)
		if !ok || err != nil || spec == "" || n == 0 {
			return nil, &exitError{status: exitUsage, err: fmt.Errorf("invalid argument %q for --%s: want CYCLE:SPEC with CYCLE a decimal cycle count above 0, such as 2000000:probed", v, flag)}
		}
		out = append(out, probesim.TimedProbe{Cycle: n, Spec: spec})
	}
	return out, nil
}

// cannotRun maps a set-up error to env(1)'s statuses: a bad Config field
// is a usage error naming its flag.
func cannotRun(err error) error {
	var ce *probesim.ConfigError
	switch {
	case errors.As(err, &ce):
		return &exitError{status: exitUsage, err: fmt.Errorf("--%s: %w", ce.Field, ce.Err)}
	case errors.Is(err, fs.ErrNotExist):
		return &exitError{status: exitNotFound, err: err}
	case errors.Is(err, probesim.ErrCannotRun):
		return &exitError{status: exitCannotRun, err: err}
	}
	return &exitError{status: exitUsage, err: err}
}

// probeLogLine is one hit in --probe-log, written in hit order (which is
// cycle order: hits are ordered events). The log is the CLI's handler, so
// it costs the guest nothing beyond the modelled counting handler: the
// registers are the ones the kernel saved on exception entry.
type probeLogLine struct {
	Cycle     uint64              `json:"cycle"`
	VCPU      int                 `json:"vcpu"`
	TID       int                 `json:"tid"`
	Probe     string              `json:"probe"`
	Address   uint64              `json:"address"`
	Return    bool                `json:"return,omitempty"` // a return probe's hit: the registers at the return
	Args      []probesim.ArgValue `json:"args,omitempty"`   // the probe's fetch arguments
	Registers probesim.Regs       `json:"registers"`
}

// guestStdin is what the guest reads as descriptor 0: probesim's own, or
// none when probesim started with it closed (<&-), so that the guest's
// reads fail with EBADF as they would natively.
func guestStdin() io.Reader {
	if stdinClosed() {
		return probesim.ClosedStdin
	}
	return os.Stdin
}

// stdinClosed reports whether probesim started with descriptor 0 closed.
// The Go runtime then opens /dev/null read-write on it before any of
// probesim runs (runtime.checkfds, for safety), so that is the sign: a
// shell's </dev/null opens it read-only. (A deliberate <>/dev/null looks
// the same and is taken as closed too.)
func stdinClosed() bool {
	fl, _, errno := syscall.Syscall(syscall.SYS_FCNTL, 0, syscall.F_GETFL, 0)
	if errno != 0 || fl&syscall.O_ACCMODE != syscall.O_RDWR {
		return false
	}
	var fd0, null syscall.Stat_t
	if syscall.Fstat(0, &fd0) != nil || syscall.Stat(os.DevNull, &null) != nil {
		return false
	}
	return fd0.Mode&syscall.S_IFMT == syscall.S_IFCHR && fd0.Rdev == null.Rdev
}
