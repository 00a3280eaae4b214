package kernel

import (
	"fmt"
	"io"
	"math/rand/v2"
	"syscall"

	"github.com/probesim/probesim/kernel/vfs"
	"github.com/probesim/probesim/mmu"
)

// Arch is the syscall ABI a guest uses.
type Arch int

const (
	I386  Arch = iota // int $0x80, 32-bit structures
	X8664             // syscall instruction, LP64 structures
)

func (a Arch) String() string {
	if a == I386 {
		return "i386"
	}
	return "x86_64"
}

// wordSize is the size of a C long and of a pointer.
func (a Arch) wordSize() int {
	if a == I386 {
		return 4
	}
	return 8
}

// Epoch is the guest's wall-clock time at cycle 0, in seconds since 1970:
// 2005-09-15 00:00:00 UTC, the day of the RFC probesim is built around.
// A fixed epoch keeps time() and gettimeofday() deterministic.
const Epoch = 1126742400

// Config describes the process a Kernel serves. Every field that affects the
// guest is an input of the run; nothing is read from the host.
type Config struct {
	Arch    Arch
	Mem     *mmu.AddressSpace
	ExePath string    // absolute path reported by readlink(/proc/self/exe)
	Stdin   io.Reader // nil: empty; ClosedStdin: descriptor 0 not open
	Stdout  io.Writer
	Stderr  io.Writer
	Seed    uint64
	// Clock returns the machine's global simulated cycle count; FreqHz
	// converts it to guest time.
	Clock  func() uint64
	FreqHz uint64
	PID    int
	UID    int
	// Trace, if set, receives one strace-like line per syscall.
	Trace io.Writer
	// Sched is the machine that runs the tasks (package smp); nil gives a
	// machine of one vCPU on which blocking syscalls never wake, enough
	// for tests of single syscalls.
	Sched Scheduler

	// FS is the filesystem view; nil gives an empty in-memory root (with
	// /proc, /dev and /sys, which the kernel adds to every view).
	FS *vfs.FS
	// Cwd is the first task's working directory in the view ("" = "/").
	Cwd string
	// Image, if not nil, is the program's content: it appears in the view
	// at ExePath (a program run from memory, or under a fixed guest path).
	Image []byte
	// Argv and Envp are the program's arguments and environment
	// (/proc/self/cmdline, environ).
	Argv, Envp []string
	// CPUID answers cpuid for /proc/cpuinfo (nil: all zeros).
	CPUID func(leaf, subleaf uint32) [4]uint32
	// PhysMemory is the machine's memory in bytes (/proc/meminfo).
	PhysMemory uint64
	// NoFile is RLIMIT_NOFILE's soft limit (0 = 1024).
	NoFile uint64
	// MaxProcesses bounds the processes not yet reaped (0:
	// DefaultMaxProcesses); a fork past it is EAGAIN.
	MaxProcesses int
	// Comm is the first process's name ("" = ExePath's base name): a #!
	// script's own, when the program is its interpreter.
	Comm string
}

// Handler implements one syscall. It returns the raw register value (a
// negative errno encoded as Linux does) and what the caller must do next.
type Handler func(k *Kernel, t *Task, a Args) (uint64, Result)

// Args are the six syscall arguments, already truncated to the ABI's width.
type Args [6]uint64

// Outcome says how the guest goes on after a syscall.
type Outcome int

const (
	Continue   Outcome = iota // return to the thread
	ExitThread                // the calling thread ended (exit)
	ExitGroup                 // the process ended (exit_group)
	Killed                    // the process was killed by Result.Signal
	// Block: the task sleeps in the syscall (Task.block), or, if it is
	// still runnable, yields its vCPU (sched_yield).
	Block
)

// Result is the effect of a syscall beyond its return value.
type Result struct {
	Outcome Outcome
	Status  int // exit status for ExitThread and ExitGroup
	Signal  int // for Killed
	// RegsSet: the syscall set the task's registers itself (through
	// RegsCPU), return value included; nothing is to be written back.
	RegsSet bool
	// Exec: the task runs a new program (execve): its registers and
	// address space are the new program's, and the slice ends.
	Exec bool
}

// Kernel is the modelled kernel of one guest process: its tasks and thread
// group, the objects they share, the timers and the futex queues, and the
// syscall table that serves them.
type Kernel struct {
	cfg         Config
	objects     []MappedObject // files mapped executable (noteObject)
	sched       Scheduler
	names       []string // syscall number to name for cfg.Arch
	table       map[string]*Syscall
	counts      map[string]uint64
	unsupported map[string]uint64
	rng         *rand.Rand

	init  *Process      // the first process (Config.PID)
	tasks map[int]*Task // every task created, by tid
	// procs are the processes not reaped, by pid; procOrder every process
	// created; processes counts those not reaped against the limit, live
	// those not exited.
	procs         map[int]*Process
	procOrder     []*Process
	processes     int
	live          int
	mmUsers       map[*mmu.AddressSpace]int // processes using each address space
	onProcessExit func(*Process)
	nextTID       int
	// The first task's descriptor table and signal handlers, which
	// NewTask gives every task it creates.
	initFiles   *FDTable
	initSighand *SignalHandlers

	timers  timerQueue
	futexes futexQueues
	firing  uint64 // the deadline of the timer firing now (0: none)

	heldForStep uint64 // ExitToUser calls that held signals for a probe's step
	delivered   uint64 // signal frames set up
	fs          *vfs.FS
	initFS      *FSContext
	cur         *Task // the task in the syscall being served
	notes       map[string]uint64
	pipeIno     uint64    // the last pipe inode number given out
	netst       *netState // the simulated network (socknames.go), made at first use
}

// New returns a kernel for one process. It panics only on a programming
// error (a nil address space).
func New(cfg Config) *Kernel {
	if cfg.Mem == nil {
		panic("linux.New: nil address space")
	}
	if cfg.Clock == nil {
		cfg.Clock = func() uint64 { return 0 }
	}
	if cfg.FreqHz == 0 {
		cfg.FreqHz = 3_000_000_000
	}
	if cfg.Stdout == nil {
		cfg.Stdout = io.Discard
	}
	if cfg.Stderr == nil {
		cfg.Stderr = io.Discard
	}
	k := &Kernel{
		cfg:         cfg,
		sched:       cfg.Sched,
		table:       map[string]*Syscall{},
		counts:      map[string]uint64{},
		unsupported: map[string]uint64{},
		// A stream of its own, so getrandom never shares draws with other
		// seeded choices (AT_RANDOM, scheduling skews).
		rng:     rand.New(rand.NewPCG(cfg.Seed, 0x67657472616e646f)), // "getrando"
		init:    newProcess(cfg.PID, cfg.Mem),
		tasks:   map[int]*Task{},
		procs:   map[int]*Process{},
		mmUsers: map[*mmu.AddressSpace]int{cfg.Mem: 1},
		nextTID: cfg.PID + 1,
		futexes: futexQueues{},
		pipeIno: 10000,
	}
	if k.sched == nil {
		k.sched = &uniprocessor{k: k}
	}
	k.timers.onArm = func(at uint64) { k.sched.TimerArmed(at) }
	if cfg.Arch == I386 {
		k.names = sysnamesI386[:]
	} else {
		k.names = sysnamesX8664[:]
	}
	k.initFiles = newFDTable()
	for fd, f := range []*stdioFile{{r: cfg.Stdin}, {w: cfg.Stdout}, {w: cfg.Stderr}} {
		f.ino = 1000 + uint64(fd)
		mode := uint32(oWriteOnly)
		if fd == 0 {
			mode = oReadOnly
		}
		k.initFiles.slots = append(k.initFiles.slots, fdSlot{fd: NewFileDescription(f, mode)})
	}
	if cfg.Stdin == ClosedStdin {
		// Descriptor 0 is not open, as after a shell's <&-.
		k.initFiles.slots[0] = fdSlot{}
	}
	k.initSighand = newSignalHandlers()
	k.self().dumpable = 1
	k.self().rlimNofile = [2]uint64{1024, 1048576}
	k.init.exe, k.init.argv, k.init.envp = cfg.ExePath, cfg.Argv, cfg.Envp
	if c := cfg.Comm; c != "" {
		k.init.comm = c[:min(len(c), 15)]
	}
	k.procs[cfg.PID] = k.init
	k.procOrder = []*Process{k.init}
	k.processes, k.live = 1, 1
	if cfg.NoFile != 0 {
		k.init.rlimNofile = [2]uint64{cfg.NoFile, max(cfg.NoFile, 1048576)}
	}
	if cfg.PhysMemory == 0 {
		k.cfg.PhysMemory = 8 << 30
	}
	k.fs = cfg.FS
	if k.fs == nil {
		k.fs = vfs.NewEmpty(vfs.Config{UID: uint32(cfg.UID), GID: uint32(cfg.UID), Epoch: Epoch * 1e9,
			Now: k.realtimeNanos})
	}
	k.fs.SetClock(k.realtimeNanos)
	for _, m := range []struct {
		path string
		n    *vfs.Node
	}{{"/proc", k.buildProc()}, {"/dev", k.buildDev()}, {"/sys", k.buildSys()}} {
		// The root always takes entries, so this cannot fail.
		_ = k.fs.Attach(m.path, m.n)
	}
	if cfg.Image != nil && cfg.ExePath != "" {
		// The machine may have put it there already (its mappings name it).
		if n, e := k.fs.Lookup(nil, cfg.ExePath, false); e != 0 || n == nil {
			_ = k.fs.AddFile(cfg.ExePath, cfg.Image, 0o755)
		}
	}
	cwd := k.fs.Root()
	if cfg.Cwd != "" {
		if n, e := k.fs.Lookup(nil, cfg.Cwd, true); e == 0 && n.IsDir() {
			cwd = n
		}
	}
	k.initFS = &FSContext{cwd: cwd, umask: 0o022}
	if cfg.Mem != nil {
		// A 64-bit task has the vsyscall page (emu emulates calls to it),
		// which its maps list; an ia32 task has none.
		cfg.Mem.SetVsyscallPage(cfg.Arch == X8664)
	}
	registerBase(k)
	return k
}

// FS is the filesystem view.
func (k *Kernel) FS() *vfs.FS { return k.fs }

// nofile is RLIMIT_NOFILE's soft limit: descriptors at or above it
// cannot be allocated (EMFILE).
func (k *Kernel) nofile() uint64 { return k.self().rlimNofile[0] }

// note records something the kernel accepted without modelling it (an
// advisory lock, say), for the report.
func (k *Kernel) note(name, detail string) {
	if k.notes == nil {
		k.notes = map[string]uint64{}
	}
	k.notes[name+":"+detail]++
}

// Notes returns what was accepted without being modelled, as "name:detail".
func (k *Kernel) Notes() map[string]uint64 { return copyCounts(k.notes) }

// unsupportedDetail counts a flag, command or family of a supported
// syscall that probesim does not implement, as "name:detail"; the
// syscall returns Linux's errno for it.
func (k *Kernel) unsupportedDetail(name, detail string) {
	k.unsupported[name+":"+detail]++
}

// CountUnsupported counts name:detail as unsupported, for the machine's
// part of a syscall (execve's loading).
func (k *Kernel) CountUnsupported(name, detail string) { k.unsupportedDetail(name, detail) }

// Arch returns the ABI this kernel serves.
func (k *Kernel) Arch() Arch { return k.cfg.Arch }

// Mem returns the first process's address space.
func (k *Kernel) Mem() *mmu.AddressSpace { return k.init.mm }

// Config returns the configuration the kernel was built with.
func (k *Kernel) Config() Config { return k.cfg }

// Register installs or replaces the handler for the named syscall (the name
// as in the kernel's unistd headers, e.g. "futex"), fully supported: for
// tests and for front ends that model a syscall themselves.
func (k *Kernel) Register(name string, h Handler) {
	k.table[name] = &Syscall{Name: name, Fn: h, Support: SupportFull}
}

// SyscallName returns the name of syscall nr for this ABI, or "syscall_N".
func (k *Kernel) SyscallName(nr uint64) string {
	if nr < uint64(len(k.names)) && k.names[nr] != "" {
		return k.names[nr]
	}
	return fmt.Sprintf("syscall_%d", nr)
}

// Syscall runs syscall nr for thread t and returns the value for the
// return register and what to do next.
func (k *Kernel) Syscall(t *Task, nr uint64, a Args) (uint64, Result) {
	if k.cfg.Arch == I386 {
		for i := range a {
			a[i] = uint64(uint32(a[i]))
		}
	}
	name := k.SyscallName(nr)
	k.counts[name]++
	k.cur = t
	t.syscallNr = nr
	var ret uint64
	var res Result
	if sc := k.table[name]; sc != nil && sc.Fn != nil {
		ret, res = sc.Fn(k, t, a)
	} else {
		k.unsupported[name]++
		ret = errno(syscall.ENOSYS)
	}
	t.restartPending = isRestart(ret)
	if k.cfg.Arch == I386 {
		ret = uint64(uint32(ret))
	}
	if k.cfg.Trace != nil {
		k.trace(t, name, a, ret, res)
	}
	return ret, res
}

// Vsyscall is a call through the x86-64 vsyscall page, which the CPU side
// emulates as the syscall nr (emulate_vsyscall): it is that syscall,
// counted under its name, with the note "NAME:vsyscall page" saying how
// it came.
func (k *Kernel) Vsyscall(t *Task, nr uint64, a Args) (uint64, Result) {
	k.note(k.SyscallName(nr), "vsyscall page")
	return k.Syscall(t, nr, a)
}

// Counts returns how often each syscall was made, by name.
func (k *Kernel) Counts() map[string]uint64 { return copyCounts(k.counts) }

// Unsupported returns the syscalls that got ENOSYS for want of a handler.
func (k *Kernel) Unsupported() map[string]uint64 { return copyCounts(k.unsupported) }

func copyCounts(m map[string]uint64) map[string]uint64 {
	out := make(map[string]uint64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// errno encodes a Linux error as a syscall return value.
func errno(e syscall.Errno) uint64 { return uint64(-int64(e)) }

// Errno encodes a Linux error as a syscall return value, for handlers
// registered from outside the package. Syscall truncates it to 32 bits on
// i386, as it does every return value; written straight into eax, the
// engine keeps the low 32 bits too.
func Errno(e syscall.Errno) uint64 { return errno(e) }

// ok0 is the common "success, return 0" result.
func ok0() (uint64, Result) { return 0, Result{} }

// fail returns -e.
func fail(e syscall.Errno) (uint64, Result) { return errno(e), Result{} }

// okv returns v.
func okv(v uint64) (uint64, Result) { return v, Result{} }

func (k *Kernel) trace(t *Task, name string, a Args, ret uint64, res Result) {
	// Values outside [-4095, -1] are results, not errors: print them
	// unsigned so that an i386 mmap2 address above 2 GiB is not negative.
	r := fmt.Sprintf("%d", int64(ret))
	if k.cfg.Arch == I386 {
		r = fmt.Sprintf("%d", uint32(ret))
	}
	if e := int64(ret); k.cfg.Arch == X8664 && e < 0 && e > -4096 {
		r = fmt.Sprintf("-1 %s", syscall.Errno(-e).Error())
	} else if e := int32(ret); k.cfg.Arch == I386 && e < 0 && e > -4096 {
		r = fmt.Sprintf("-1 %s", syscall.Errno(-e).Error())
	}
	switch res.Outcome {
	case ExitThread, ExitGroup:
		r = "?"
	}
	fmt.Fprintf(k.cfg.Trace, "[%d] %d %s(%#x, %#x, %#x, %#x, %#x, %#x) = %s\n",
		k.cfg.Clock(), t.TID, name, a[0], a[1], a[2], a[3], a[4], a[5], r)
}

//go:generate go run mksysnum.go

// Handler returns the handler of the named syscall, or nil.
func (k *Kernel) Handler(name string) Handler {
	if sc := k.table[name]; sc != nil {
		return sc.Fn
	}
	return nil
}
