package smp

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"time"

	"github.com/probesim/probesim/emu"
	"github.com/probesim/probesim/emu/loader"
	"github.com/probesim/probesim/emu/uc"
	"github.com/probesim/probesim/internal/chunklog"
	"github.com/probesim/probesim/kernel"
	"github.com/probesim/probesim/kernel/vfs"
	"github.com/probesim/probesim/mmu"
	"github.com/probesim/probesim/report"
	"github.com/probesim/probesim/timing"
)

// PID is the process id every guest gets; its main thread's tid is the
// same. A fixed pid keeps runs reproducible.
const PID = 1000

// DefaultStackLimit is the default RLIMIT_STACK (8 MiB, as on Debian).
const DefaultStackLimit = 8 << 20

// DefaultRAM is the machine's memory for guest pages when Config.RAM is 0.
const DefaultRAM = mmu.DefaultPhysMemory

// Scheduling defaults.
const (
	MaxCPUs = 64
	// DefaultQuantum: 10,000 cycles (about 3 us of guest time at 3 GHz)
	// keeps the host overhead of a scheduling decision (a few us) small
	// against the work of a slice.
	DefaultQuantum = 10_000
	// DefaultTimeslice: 3,000,000 cycles, 1 ms at 3 GHz, the order of
	// CFS's sched_min_granularity.
	DefaultTimeslice = 3_000_000
	// maxStartSkew bounds the seed-drawn start offset of each vCPU's clock.
	maxStartSkew = 1000
)

// Config is everything a run depends on.
type Config struct {
	Program string // path of the static ELF executable
	// Image, if not nil, is the executable's content: the machine reads no
	// file, and Program, taken verbatim (it should be absolute), is only
	// the path the guest sees (argv[0], AT_EXECFN, /proc/self/exe).
	Image []byte
	Args  []string // argv[1:]; argv[0] is Program as given
	Env   []string // the guest's whole environment
	Seed  uint64
	// MaxCycles ends the run with SIGXCPU once a vCPU has run this many
	// cycles (0 = no budget), as RLIMIT_CPU ends a process on Linux.
	MaxCycles uint64
	// StackLimit is RLIMIT_STACK in bytes (0 = DefaultStackLimit).
	StackLimit uint64
	// MemoryLimit bounds all mapped guest memory in bytes (0 = none):
	// mmap and brk fail with ENOMEM past it, and stack growth faults.
	MemoryLimit uint64
	// RAM is the machine's memory for guest pages in bytes (0 =
	// DefaultRAM); touching a page past it ends the run out_of_memory.
	RAM uint64
	// GuestPath, if set, is the absolute path the guest runs the program
	// under (argv[0], AT_EXECFN, /proc/self/exe, the names of its VMAs
	// and the report's program), with the program's bytes at that path in
	// its view, wherever Program lies on the host: runs of one program
	// from two checkouts are then the same run.
	GuestPath string
	Profile   *timing.Profile // nil = timing.Default()
	// ProfileOverrides are the NAME=VALUE assignments applied to Profile,
	// recorded in the report so that it says which machine it measured.
	ProfileOverrides []string
	// CPUs is the number of vCPUs (1..MaxCPUs; 0 = 1).
	CPUs int
	// Quantum bounds, in cycles, how far a vCPU may run ahead of the
	// slowest running one between two scheduling decisions (0 =
	// DefaultQuantum).
	Quantum uint64
	// Timeslice is how long a thread keeps a vCPU while others wait in the
	// run queue, in cycles (0 = DefaultTimeslice).
	Timeslice uint64
	// Lockstep is the slow reference mode: instead of a quantum, a vCPU
	// runs only while no other running vCPU is behind it, so every block
	// (and so every instruction, since a block's cost is charged at its
	// first instruction) executes in global cycle order.
	Lockstep bool

	// The filesystem view (kernel/vfs): Root is the host directory the
	// guest sees as "/" ("" = the host's root), Mounts bind more host
	// directories, HostTimes shows host files' own times. Cwd is the
	// guest's working directory ("" = the host's when the root is the
	// host's, else "/").
	Root      string
	Mounts    []vfs.Mount
	HostTimes bool
	Cwd       string
	// NoFile is RLIMIT_NOFILE (0 = 1024).
	NoFile uint64
	// MaxProcesses bounds the guest's processes not yet reaped (0 =
	// kernel.DefaultMaxProcesses); a fork past it is EAGAIN.
	MaxProcesses int

	Stdin  io.Reader
	Stdout io.Writer // guest output is captured for the report and copied here
	Stderr io.Writer
	// TraceSyscalls receives an strace-like line per syscall.
	TraceSyscalls io.Writer
	// Progress, if set, is called at a scheduling decision each time the
	// lowest running vCPU's clock has passed another multiple of
	// ProgressEvery cycles, with that clock (interrupt.go). It runs on
	// Run's goroutine and must not call back into the Machine.
	Progress      func(cycles uint64)
	ProgressEvery uint64
}

// Machine is one guest process on its vCPUs.
type Machine struct {
	cfg    Config
	image  *loader.Image
	interp *loader.Image // the program interpreter (PT_INTERP), or nil
	as     *mmu.AddressSpace
	core   *emu.Core
	kernel *kernel.Kernel
	start  emu.Start
	arch   kernel.Arch
	exe    string // absolute path of the program, as the guest sees it
	stdout report.Capture
	stderr report.Capture

	vcpus []*vcpu
	curV  *vcpu // the vCPU running now
	// sliceRunStartFP is curV's clock when the current Core.Run began,
	// sliceRunStartInsns its instruction count.
	sliceRunStartFP    uint64
	sliceRunStartInsns uint64
	threads            []*thread // every task the kernel created, in creation order
	byTID              map[int]*thread
	runq               []*thread
	loaded             *thread // the thread whose registers the engine holds

	running      bool            // inside Core.Run: a wake-up must shorten the slice
	cowBroken    map[mmPage]bool // text pages the kernel already copied, per address space (kernel.go)
	kernelEvents chunklog.Log[KernelEvent]
	trapFn       func(TrapEvent) bool
	trapCycles   uint64 // the exception cost of the trap being handled (TrapCycles)
	trapUndone   bool   // the handler called UndoTrap
	watchFns     map[uint64]func(WatchEvent)
	watchEvents  chunklog.Log[WatchEvent]
	at           atQueue         // work scheduled at a cycle (at.go)
	stepAbortFn  func(TrapEvent) // SetStepAbortHandler (signal.go)
	trapBlocked  bool            // the trap handler called SleepInKernel (ksleep.go)
	interruption                 // Interrupt and Progress (interrupt.go)

	// Processes (process.go): how each ended, by pid, and the first
	// process's ending, which is the run's.
	procEnds     map[int]ending
	firstEnd     *ending
	execs        uint64              // execve's loads, for their AT_RANDOM streams
	script       *scriptProgram      // the program is a #! script (script.go)
	fileObserver mmu.FileMapObserver // given to every address space (SetFileMapObserver)
}

// ErrCannotRun wraps every error that means "this program cannot be run
// here" (a missing file, not ELF, dynamic, corrupt): the CLI exits 126 or
// 127 for them, as env(1) does.
var ErrCannotRun = errors.New("cannot run program")

// cannotRunError is a loader error marked as ErrCannotRun; its message is
// the loader's own one line.
type cannotRunError struct{ err error }

func (e cannotRunError) Error() string        { return e.err.Error() }
func (e cannotRunError) Unwrap() error        { return e.err }
func (e cannotRunError) Is(target error) bool { return target == ErrCannotRun }

// CannotRun marks err, a one-line error about the program itself, as
// ErrCannotRun.
func CannotRun(err error) error { return cannotRunError{err} }

// New loads cfg.Program into a fresh machine, ready to Run.
func New(cfg Config) (*Machine, error) {
	if cfg.Profile == nil {
		cfg.Profile = timing.Default()
	}
	if cfg.StackLimit == 0 {
		cfg.StackLimit = DefaultStackLimit
	}
	if cfg.CPUs == 0 {
		cfg.CPUs = 1
	}
	if cfg.CPUs < 1 || cfg.CPUs > MaxCPUs {
		return nil, fmt.Errorf("--cpus %d: want 1 to %d vCPUs", cfg.CPUs, MaxCPUs)
	}
	if cfg.Quantum == 0 {
		cfg.Quantum = DefaultQuantum
	}
	if cfg.Timeslice == 0 {
		cfg.Timeslice = DefaultTimeslice
	}
	var im *loader.Image
	var err error
	sc, err := resolveScriptProgram(cfg)
	switch {
	case err != nil:
		return nil, err
	case sc != nil:
		im, err = loader.Parse(sc.exe, sc.data)
		sc.data = nil
	case cfg.Image != nil:
		im, err = loader.Parse(cfg.Program, cfg.Image)
	default:
		im, err = loader.Load(cfg.Program)
	}
	if err != nil {
		return nil, cannotRunError{err}
	}
	if sc != nil && cfg.GuestPath != "" {
		_ = im.Close()
		return nil, fmt.Errorf("guest path %q: a #! script runs under its own path", cfg.GuestPath)
	}
	if cfg.GuestPath != "" {
		if cfg.GuestPath != path.Clean(cfg.GuestPath) || !path.IsAbs(cfg.GuestPath) {
			return nil, fmt.Errorf("guest path %q: want a clean absolute path", cfg.GuestPath)
		}
		if cfg.Image == nil {
			// Loaded and checked above (a regular, executable file): its
			// bytes go into the guest's view at the guest path.
			if cfg.Image, err = os.ReadFile(cfg.Program); err != nil {
				return nil, cannotRunError{err}
			}
		}
		cfg.Program = cfg.GuestPath
	}
	arch := kernel.X8664
	if im.Arch == loader.ArchI386 {
		arch = kernel.I386
	}
	m := &Machine{cfg: cfg, image: im, arch: arch, byTID: map[int]*thread{}, cowBroken: map[mmPage]bool{},
		procEnds: map[int]ending{}, script: sc}
	m.as = mmu.New(mmu.Config{
		TaskSize:   im.Arch.TaskSize(),
		MmapBase:   mmapBase(im.Arch),
		StackLimit: cfg.StackLimit,
		MaxMemory:  cfg.MemoryLimit,
		PhysMemory: cfg.RAM,
	})
	if m.core, err = emu.NewCore(arch, m.as, cfg.Profile); err != nil {
		m.as.Close()
		return nil, err
	}
	if err := m.loadProgram(arch); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// mmapBase is mm->mmap_base without randomisation: TASK_SIZE minus the
// minimum gap of 128 MiB (arch/x86/mm/mmap.c mmap_base, MIN_GAP), which an
// 8 MiB RLIMIT_STACK does not exceed.
func mmapBase(a loader.Arch) uint64 { return a.TaskSize() - 128<<20 }

// seedStream returns a generator for one use of the seed, so that the
// streams (AT_RANDOM, getrandom, scheduling) never share draws.
func seedStream(seed, purpose uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, purpose))
}

func (m *Machine) loadProgram(arch kernel.Arch) error {
	argv := append([]string{m.cfg.Program}, m.cfg.Args...)
	if m.script != nil {
		argv = m.script.argv
	}
	spec := loader.NewStackSpec(m.image, argv, m.cfg.Env)
	spec.ExecFn = m.cfg.Program
	r := seedStream(m.cfg.Seed, 0x6174726e64) // "atrnd"
	for i := range spec.Random {
		spec.Random[i] = byte(r.Uint32())
	}
	spec.HWCap, spec.HWCap2 = m.core.HWCap(), m.core.HWCap2()
	view, cwd, err := buildView(m.cfg)
	if m.script != nil {
		view, cwd, err = m.script.view, m.script.cwd, nil
	}
	if err != nil {
		return err
	}
	exe := exePath(m.cfg.Program, m.cfg.Image != nil)
	if m.script != nil {
		exe = m.script.exe
	}
	m.exe = exe
	if m.cfg.Image != nil && m.script == nil {
		// A program run from memory or under a guest path is a file of the
		// view before it is mapped, so its mappings carry its identity.
		if err := view.AddFile(exe, m.cfg.Image, 0o755); err != nil {
			return fmt.Errorf("guest path %s: %w", exe, err)
		}
	}
	var interp *emu.Object
	var interpNode *vfs.Node
	if m.image.Interp != "" {
		if interp, interpNode, err = openInterp(view, cwd, m.image); err != nil {
			return cannotRunError{err}
		}
		m.interp = interp.Image
	}
	prog := emu.Object{Image: m.image, Name: exe, ID: viewFileID(view, exe)}
	st, err := emu.LoadProgram(m.as, prog, spec, interp)
	if err != nil {
		return err
	}
	m.start = st
	m.kernel = kernel.New(kernel.Config{
		Arch: arch, Mem: m.as, ExePath: exe, MaxProcesses: m.cfg.MaxProcesses, Comm: m.scriptComm(),
		Stdin:  m.cfg.Stdin,
		Stdout: teeWriter(&m.stdout, m.cfg.Stdout),
		Stderr: teeWriter(&m.stderr, m.cfg.Stderr),
		Seed:   m.cfg.Seed, FreqHz: m.cfg.Profile.FreqHz,
		Clock: m.clock, PID: PID, UID: loader.DefaultUID,
		Trace: m.cfg.TraceSyscalls,
		Sched: schedAdapter{m},
		FS:    view, Cwd: cwd, Image: m.programImage(), Argv: argv, Envp: m.cfg.Env,
		CPUID: m.core.CPUID, PhysMemory: mmu.DefaultPhysMemory, NoFile: m.cfg.NoFile,
	})
	if interpNode != nil {
		m.kernel.NoteMappedObject(interpNode)
	}
	m.kernel.OnProcessExit(m.noteProcessExit)
	m.core.SetKernel(m.kernel)
	m.core.SetSyscallGate(m.mayProceed)
	m.core.SetWatchGate(m.onWatch)
	m.core.SetKernelJitter(func(cost uint64) uint64 { return m.jittered(m.runningThread(), cost) })
	if err := m.core.InitRegisters(st); err != nil {
		return err
	}
	// vCPUs: each starts at a small seed-drawn clock skew and has a
	// seed-drawn rank that breaks clock ties, so seeds explore
	// interleavings while every run stays reproducible.
	sr := seedStream(m.cfg.Seed, 0x736368656475) // "schedu"
	ranks := sr.Perm(m.cfg.CPUs)
	for i := 0; i < m.cfg.CPUs; i++ {
		v := &vcpu{id: i, counters: uc.NewCounters(), prio: ranks[i]}
		v.advanceTo(uint64(sr.IntN(maxStartSkew)) << 8)
		m.vcpus = append(m.vcpus, v)
	}
	main := m.addThread(m.kernel.NewTask(PID, m.core), nil)
	m.loaded = main
	m.makeRunnable(main, 0)
	return nil
}

// buildView makes the guest's filesystem view and its working directory.
func buildView(cfg Config) (*vfs.FS, string, error) {
	view, err := vfs.New(vfs.Config{Root: cfg.Root, Mounts: cfg.Mounts, HostTimes: cfg.HostTimes,
		Epoch: kernel.Epoch * 1e9, UID: loader.DefaultUID, GID: loader.DefaultGID,
		HostUID: os.Getuid(), HostGID: os.Getgid()})
	if err != nil {
		return nil, "", err // a *vfs.ConfigError
	}
	cwd := cfg.Cwd
	if cwd == "" {
		cwd = "/"
		if cfg.Root == "" || filepath.Clean(cfg.Root) == "/" {
			if wd, err := os.Getwd(); err == nil {
				cwd = wd
			}
		}
	}
	return view, cwd, nil
}

// addThread schedules a new kernel task.
func (m *Machine) addThread(kt *kernel.Task, ctx *uc.Context) *thread {
	t := &thread{kt: kt, ctx: ctx}
	kt.CPUCycles = func() uint64 { return m.threadCycles(t) }
	m.threads = append(m.threads, t)
	m.byTID[kt.TID] = t
	return t
}

// threadCycles is the cycles t has run, including the current slice.
func (m *Machine) threadCycles(t *thread) uint64 {
	fp := t.cyclesFP
	if m.curV != nil && m.curV.cur == t {
		fp += m.curV.clockFP() - m.sliceRunStartFP
	}
	return fp >> 8
}

// clock is the simulated time of the running vCPU, in cycles.
func (m *Machine) clock() uint64 {
	if m.curV == nil {
		return 0
	}
	return m.curV.counters.Cycles()
}

func teeWriter(capture *report.Capture, out io.Writer) io.Writer {
	if out == nil {
		return capture
	}
	return io.MultiWriter(capture, out)
}

// Image returns the loaded program.
func (m *Machine) Image() *loader.Image { return m.image }

// AddressSpace returns the first process's first address space (its
// program's, before any exec); CurrentMM is the running thread's.
func (m *Machine) AddressSpace() *mmu.AddressSpace { return m.as }

// Close releases the engine and the guest memory.
func (m *Machine) Close() error {
	var errs []error
	if m.core != nil {
		// The engine goes first, so the address spaces must not unmap
		// from it afterwards: Close detaches them (their mappings die
		// with it).
		errs = append(errs, m.core.Close())
		// The first process's address space after an exec is the
		// machine's to close (the kernel keeps it for the report).
		if mm := m.firstMM(); mm != nil && mm != m.as {
			errs = append(errs, mm.Close())
		}
		m.core = nil
	}
	for _, v := range m.vcpus {
		v.counters.Free()
	}
	m.vcpus = nil
	for _, t := range m.threads {
		if t.ctx != nil {
			t.ctx.Free()
			t.ctx = nil
		}
	}
	if m.as != nil {
		errs = append(errs, m.as.Close())
		m.as = nil
	}
	if m.image != nil {
		errs = append(errs, m.image.Close())
	}
	return errors.Join(errs...)
}

// Run runs the guest to its end and returns the report.
func (m *Machine) Run() (*report.Run, error) {
	began := time.Now()
	end, err := m.loop()
	if err != nil {
		return nil, err
	}
	return m.report(end, time.Since(began)), nil
}

// loop is the scheduler's main loop: run the lowest-clock vCPU for at most
// a quantum, then act on why it stopped.
func (m *Machine) loop() (ending, error) {
	budgetFP := ^uint64(0)
	if m.cfg.MaxCycles > 0 {
		budgetFP = toFP(m.cfg.MaxCycles)
	}
	for {
		m.fireTimers()
		m.runScheduled()
		v := m.pick()
		if v == nil {
			// Every thread sleeps and no timeout can wake one: Linux would
			// hang forever; probesim ends the run as if killed by SIGKILL.
			return ending{reason: "deadlock", status: 128 + kernel.SIGKILL, signal: kernel.SIGKILL}, nil
		}
		if end, stop := m.poll(v); stop {
			return end, nil
		}
		t := v.cur
		err := m.load(t)
		if err != nil {
			return ending{}, err
		}
		m.curV = v
		m.core.SetRunning(t.kt, v.counters)
		m.sliceRunStartFP = v.clockFP()
		m.sliceRunStartInsns = v.counters.Insns()
		var ev emu.Event
		ranSyscall := t.syscallPending || t.trapPending == 1
		stopSet := false
		if t.kt.NeedsResume() {
			// It woke from a sleep in a syscall: the syscall finishes
			// now, in cycle order, before any user code.
			ev, _ = m.core.ResumeSyscall()
		} else if t.syscallPending {
			// v is the lowest clock now: the deferred syscall happens.
			t.syscallPending = false
			ev, _ = m.core.RunPendingSyscall()
		} else if intno := t.trapPending; intno != 0 {
			t.trapPending = 0
			if intno == 3 {
				// An int3 is ordered as the execution of the probed
				// instruction it stands for: it happens at the start of
				// the slice, as if the thread had stopped just before the
				// instruction, and the slice goes on from there whatever
				// the handler charged (stop cycle set first).
				v.counters.SetStopAt(min(m.sliceEnd(v), budgetFP, m.at.nextFP()))
				stopSet = true
			}
			switch m.runTrap(intno) {
			case emu.TrapFault:
				ev = m.core.TrapFaultEvent(intno)
			case emu.TrapBlock:
				ev = emu.Event{Kind: emu.EventBlock}
			}
		}
		// A deferred syscall advances v's clock by its cost (and a TLB
		// shootdown charges the others), so v may no longer be the lowest:
		// its slice must then wait for the loop to pick it again, or it
		// would run a whole quantum beyond its post-syscall clock, ahead of
		// a vCPU it has already overtaken, and read memory that vCPU has
		// not written yet in cycle order (the bound "at most a quantum
		// ahead of the slowest running vCPU" counts from the lowest clock).
		if ev.Kind == emu.EventNone && !ranSyscall {
			// The return to user mode from the interrupt that ended
			// its last slice: signals sent to it meanwhile.
			ev, _ = m.core.ExitToUser(t.kernelStepping)
		}
		if ev.Kind == emu.EventNone && (!ranSyscall || m.mayProceed()) {
			if !stopSet {
				v.counters.SetStopAt(min(m.sliceEnd(v), budgetFP, m.at.nextFP()))
			}
			m.running = true
			ev, err = m.core.Run(m.core.PC())
			m.running = false
			if err != nil {
				return ending{}, err
			}
		}
		t.cyclesFP += v.clockFP() - m.sliceRunStartFP
		t.insns += v.counters.Insns() - m.sliceRunStartInsns
		switch ev.Kind {
		case emu.EventWatch:
			// Resumed when every other vCPU has caught up.
		case emu.EventExec:
			// The thread runs its new program from the next slice on.
		case emu.EventSyscall:
			t.syscallPending = true
		case emu.EventTrap:
			t.trapPending = ev.Intno
		case emu.EventBudget:
			if v.clockFP() >= budgetFP {
				return ending{reason: "cycle_budget", status: 128 + kernel.SIGXCPU, signal: kernel.SIGXCPU}, nil
			}
			if len(m.runq) > 0 && v.clockFP()-v.sliceStartFP >= toFP(m.cfg.Timeslice) && !t.kernelStepping {
				m.preempt(v)
			}
		case emu.EventBlock:
			switch {
			case t.kernelSpin: // the vCPU spins with its thread (ksleep.go)
				v.spinning = true
			case t.kernelSleep: // asleep in a trap handler (ksleep.go)
				m.release(v)
			case t.kt.State() == kernel.TaskRunnable: // sched_yield with others waiting
				m.preempt(v)
			default:
				m.release(v)
			}
		case emu.EventExit:
			if m.threadExit(v, t, ev.Status) {
				if end, done := m.processExited(t.kt.Process(), ending{reason: "exit", status: ev.Status}); done {
					return end, nil
				}
			}
		default:
			if ev.Kind == emu.EventFault {
				if t.kernelStepping {
					m.abortStep(v, t, &ev)
				}
				if m.faultToHandler(v, t, ev) {
					continue
				}
			}
			if end, done := m.handle(ev); done {
				if end.reason == "out_of_memory" {
					return end, nil // the machine's memory: every process
				}
				p := t.kt.Process()
				m.endProcess(p, end)
				if end, done := m.processExited(p, end); done {
					return end, nil
				}
			}
		}
	}
}

// threadExit ends thread t (exit(2)) in the kernel and takes it off its
// vCPU. It reports whether that was the last thread, which ends the
// process with this thread's status.
func (m *Machine) threadExit(v *vcpu, t *thread, status int) bool {
	last := m.kernel.ExitTask(t.kt, status)
	if m.loaded == t {
		m.loaded = nil
	}
	if t.ctx != nil {
		t.ctx.Free()
		t.ctx = nil
	}
	m.release(v)
	return last
}

// ending is how the process ended.
type ending struct {
	reason string
	status int
	signal int
	fault  *emu.Fault
}

// handle decides what an event means for the process.
func (m *Machine) handle(ev emu.Event) (ending, bool) {
	switch ev.Kind {
	case emu.EventExitGroup:
		return ending{reason: "exit", status: ev.Status}, true
	case emu.EventKilled:
		return ending{reason: "signal", status: 128 + ev.Signal, signal: ev.Signal}, true
	case emu.EventOutOfMemory:
		// The OOM killer's choice is the only process there is.
		return ending{reason: "out_of_memory", status: 128 + kernel.SIGKILL, signal: kernel.SIGKILL}, true
	case emu.EventFault:
		f := ev.Fault
		return ending{reason: "fault", status: 128 + ev.Signal, signal: ev.Signal, fault: &f}, true
	}
	return ending{}, false
}

// Comm is the task name the kernel would print: the file name, cut to
// TASK_COMM_LEN-1 bytes.
func (m *Machine) Comm() string { return Comm(m.cfg.Program) }

// Comm is the task name of a program at path program: its file name, cut
// to TASK_COMM_LEN-1 bytes.
func Comm(program string) string {
	c := filepath.Base(program)
	if len(c) > 15 {
		c = c[:15]
	}
	return c
}

// FaultMessage formats a fault the way the kernel logs it.
func (m *Machine) FaultMessage(f *emu.Fault) string {
	return f.Message(m.Comm(), PID, m.image.Arch == loader.ArchX8664)
}

func (m *Machine) report(end ending, wall time.Duration) *report.Run {
	r := &report.Run{
		Schema:           report.Schema,
		Program:          m.cfg.Program,
		Args:             append([]string{}, m.cfg.Args...),
		Env:              append([]string{}, m.cfg.Env...),
		Arch:             m.image.Arch.String(),
		Seed:             m.cfg.Seed,
		Profile:          m.cfg.Profile.Name,
		ProfileOverrides: append([]string{}, m.cfg.ProfileOverrides...),
		CPUs:             m.cfg.CPUs,
		Quantum:          m.cfg.Quantum,
		Lockstep:         m.cfg.Lockstep,
		Limits: report.Limits{MaxCycles: m.cfg.MaxCycles, StackLimit: m.firstMM().StackLimit(),
			MemoryLimit: m.cfg.MemoryLimit, RAM: m.cfg.RAM},
		StopReason:          end.reason,
		ExitStatus:          end.status,
		Syscalls:            m.kernel.Counts(),
		UnsupportedSyscalls: m.kernel.Unsupported(),
	}
	if end.signal != 0 {
		s := kernel.SignalName(end.signal)
		r.Signal = &s
	}
	if f := end.fault; f != nil {
		vma := ""
		if f.InVMA {
			vma = f.VMA.Name
			if vma == m.exe {
				vma = m.cfg.Program
			}
		}
		r.Fault = &report.Fault{Signal: kernel.SignalName(f.Signal), Kind: f.Kind, Address: f.Addr,
			RIP: f.RIP, SP: f.SP, ErrorCode: f.ErrorCode, VMA: vma, Message: m.FaultMessage(f)}
	}
	r.SetOutput(&m.stdout, &m.stderr)
	for _, h := range m.kernel.FS().HostReads() {
		r.HostFiles = append(r.HostFiles, report.HostFile{Path: h.Path, Size: h.Size, SHA256: h.SHA256})
	}
	objs, sums := m.kernel.MappedObjects()
	for i, o := range objs {
		r.Libraries = append(r.Libraries, report.Library{Path: o.Path, SHA256: sums[i]})
	}
	if notes := m.kernel.Notes(); len(notes) > 0 {
		r.KernelNotes = notes
	}
	for _, v := range m.vcpus {
		r.VCPUs = append(r.VCPUs, report.VCPU{ID: v.id, Cycles: v.counters.Cycles(), Instructions: v.counters.Insns(),
			IdleCycles: v.idleFP >> 8, ContextSwitches: v.contextSwitches,
			IPIsReceived: v.ipisReceived, TLBShootdowns: v.shootdowns, AddressSpaceSwitches: v.mmSwitches})
		r.Cycles = max(r.Cycles, v.counters.Cycles())
		r.Instructions += v.counters.Insns()
	}
	for _, t := range m.threads {
		rt := report.Thread{TID: t.kt.TID, Cycles: t.cyclesFP >> 8, ExitStatus: t.kt.ExitStatus()}
		if !t.exited() {
			// exit_group, a fatal signal or the budget ended it with the
			// process (do_group_exit gives every thread the group's code).
			rt.ExitStatus = end.status
		}
		for i := range m.vcpus {
			if i < 64 && t.vcpus&(1<<i) != 0 {
				rt.VCPUs = append(rt.VCPUs, i)
			}
		}
		r.Threads = append(r.Threads, rt)
	}
	r.Processes = m.reportProcesses(end)
	mm := m.firstMM()
	st := mm.Stats()
	r.Memory = report.Memory{MappedBytes: st.MappedBytes, PeakMappedBytes: st.PeakMappedBytes,
		StackGrowths: st.StackGrowths}
	for _, vma := range mm.VMAs() {
		if vma.Flags&mmu.Stack != 0 {
			r.Memory.StackBytes += vma.Size()
		}
		name := vma.Name
		if name == m.exe {
			// The report names the program as given, so that it does not
			// depend on where the checkout lives.
			name = m.cfg.Program
		}
		r.Maps = append(r.Maps, report.VMA{Start: vma.Start, End: vma.End, Perms: vma.Perms(),
			Offset: vma.Offset, Name: name})
	}
	secs := wall.Seconds()
	r.Host = &report.Host{WallSeconds: secs, BlocksCosted: m.core.BlocksCosted(),
		DistinctBlocks: m.core.DistinctBlocks(), GoVersion: runtime.Version()}
	if secs > 0 {
		r.Host.GuestMIPS = float64(r.Instructions) / secs / 1e6
	}
	return r
}

// String describes the machine for error messages.
func (m *Machine) String() string {
	return fmt.Sprintf("%s (%s)", m.cfg.Program, m.image.Arch)
}

// CPUs is the number of vCPUs.
func (m *Machine) CPUs() int { return len(m.vcpus) }
