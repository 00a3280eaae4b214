package smp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"time"

	"github.com/probesim/probesim/emu"
	"github.com/probesim/probesim/emu/linux"
	"github.com/probesim/probesim/emu/loader"
	"github.com/probesim/probesim/emu/uc"
	"github.com/probesim/probesim/mmu"
	"github.com/probesim/probesim/report"
	"github.com/probesim/probesim/timing"
)

// PID is the process id every guest gets; its main thread's tid is the
// same. A fixed pid keeps runs reproducible.
const PID = 1000

// DefaultStackLimit is the default RLIMIT_STACK (8 MiB, as on Debian).
const DefaultStackLimit = 8 << 20

// Config is everything a run depends on.
type Config struct {
	Program string   // path of the static ELF executable
	Args    []string // argv[1:]; argv[0] is Program as given
	Env     []string // the guest's whole environment
	Seed    uint64
	// MaxCycles ends the run with SIGXCPU once a vCPU has run this many
	// cycles (0 = no budget), as RLIMIT_CPU ends a process on Linux.
	MaxCycles uint64
	// StackLimit is RLIMIT_STACK in bytes (0 = DefaultStackLimit).
	StackLimit uint64
	// MemoryLimit bounds all mapped guest memory in bytes (0 = none):
	// mmap and brk fail with ENOMEM past it, and stack growth faults.
	MemoryLimit uint64
	Profile     *timing.Profile // nil = timing.Default()

	Stdin  io.Reader
	Stdout io.Writer // guest output is captured for the report and copied here
	Stderr io.Writer
	// TraceSyscalls receives an strace-like line per syscall.
	TraceSyscalls io.Writer
}

// Machine is one guest process on its vCPUs.
type Machine struct {
	cfg    Config
	image  *loader.Image
	as     *mmu.AddressSpace
	core   *emu.Core
	kernel *linux.Kernel
	start  emu.Start
	vcpus  []*vcpu
	stdout bytes.Buffer
	stderr bytes.Buffer
}

type vcpu struct {
	id       int
	counters *uc.Counters
	thread   *linux.Thread
}

// ErrCannotRun wraps every error that means "this program cannot be run
// here" (a missing file, not ELF, dynamic, corrupt): the CLI exits 126 or
// 127 for them, as env(1) does.
var ErrCannotRun = errors.New("cannot run program")

// New loads cfg.Program into a fresh machine, ready to Run.
func New(cfg Config) (*Machine, error) {
	if cfg.Profile == nil {
		cfg.Profile = timing.Default()
	}
	if cfg.StackLimit == 0 {
		cfg.StackLimit = DefaultStackLimit
	}
	im, err := loader.Load(cfg.Program)
	if err != nil {
		return nil, errors.Join(ErrCannotRun, err)
	}
	arch := linux.X8664
	if im.Arch == loader.ArchI386 {
		arch = linux.I386
	}
	m := &Machine{cfg: cfg, image: im}
	m.as = mmu.New(mmu.Config{
		TaskSize:   im.Arch.TaskSize(),
		MmapBase:   mmapBase(im.Arch),
		StackLimit: cfg.StackLimit,
		MaxMemory:  cfg.MemoryLimit,
	})
	if m.core, err = emu.NewCore(arch, m.as, cfg.Profile); err != nil {
		m.as.Close()
		return nil, err
	}
	if err := m.load(arch); err != nil {
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

func (m *Machine) load(arch linux.Arch) error {
	argv := append([]string{m.cfg.Program}, m.cfg.Args...)
	spec := loader.NewStackSpec(m.image, argv, m.cfg.Env)
	r := seedStream(m.cfg.Seed, 0x6174726e64) // "atrnd"
	for i := range spec.Random {
		spec.Random[i] = byte(r.Uint32())
	}
	spec.HWCap = emu.HWCap
	st, err := emu.LoadProgram(m.as, m.image, spec)
	if err != nil {
		return err
	}
	m.start = st
	exe, err := filepath.Abs(m.cfg.Program)
	if err != nil {
		exe = m.cfg.Program
	}
	m.kernel = linux.New(linux.Config{
		Arch: arch, Mem: m.as, ExePath: exe,
		Stdin:  m.cfg.Stdin,
		Stdout: teeWriter(&m.stdout, m.cfg.Stdout),
		Stderr: teeWriter(&m.stderr, m.cfg.Stderr),
		Seed:   m.cfg.Seed, FreqHz: m.cfg.Profile.FreqHz,
		Clock: m.clock, PID: PID, UID: loader.DefaultUID,
		Trace: m.cfg.TraceSyscalls,
	})
	m.core.SetKernel(m.kernel)
	v := &vcpu{id: 0, counters: uc.NewCounters()}
	v.thread = linux.NewThread(PID, m.core)
	v.thread.CPUCycles = v.counters.Cycles
	m.vcpus = []*vcpu{v}
	return m.core.InitRegisters(st)
}

// clock is the simulated time of the running vCPU, in cycles.
func (m *Machine) clock() uint64 { return m.vcpus[0].counters.Cycles() }

func teeWriter(capture *bytes.Buffer, out io.Writer) io.Writer {
	if out == nil {
		return capture
	}
	return io.MultiWriter(capture, out)
}

// Image returns the loaded program.
func (m *Machine) Image() *loader.Image { return m.image }

// AddressSpace returns the shared address space.
func (m *Machine) AddressSpace() *mmu.AddressSpace { return m.as }

// Close releases the engine and the guest memory.
func (m *Machine) Close() error {
	var errs []error
	if m.core != nil {
		errs = append(errs, m.core.Close())
		m.core = nil
	}
	for _, v := range m.vcpus {
		v.counters.Free()
	}
	m.vcpus = nil
	if m.as != nil {
		errs = append(errs, m.as.Close())
		m.as = nil
	}
	return errors.Join(errs...)
}

// Run runs the guest to its end and returns the report.
func (m *Machine) Run() (*report.Run, error) {
	began := time.Now()
	v := m.vcpus[0]
	stopAt := ^uint64(0)
	if m.cfg.MaxCycles > 0 {
		stopAt = m.cfg.MaxCycles << 8
	}
	v.counters.SetStopAt(stopAt)
	m.core.SetRunning(v.thread, v.counters)
	pc := m.start.PC
	var end ending
	for {
		ev, err := m.core.Run(pc)
		if err != nil {
			return nil, err
		}
		var done bool
		end, done = m.handle(ev)
		if done {
			break
		}
		pc = m.core.PC()
	}
	return m.report(end, time.Since(began)), nil
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
	case emu.EventExit, emu.EventExitGroup:
		// With one thread, exit ends the process like exit_group
		// (kernel/exit.c: the last thread's exit code becomes the
		// process's).
		return ending{reason: "exit", status: ev.Status}, true
	case emu.EventKilled:
		return ending{reason: "signal", status: 128 + ev.Signal, signal: ev.Signal}, true
	case emu.EventFault:
		f := ev.Fault
		return ending{reason: "fault", status: 128 + ev.Signal, signal: ev.Signal, fault: &f}, true
	case emu.EventBudget:
		return ending{reason: "cycle_budget", status: 128 + linux.SIGXCPU, signal: linux.SIGXCPU}, true
	case emu.EventBlock:
		// The only thread sleeps and nothing can wake it: Linux would hang
		// forever; probesim ends the run as if killed by SIGKILL.
		return ending{reason: "deadlock", status: 128 + linux.SIGKILL, signal: linux.SIGKILL}, true
	}
	return ending{}, false
}

// Comm is the task name the kernel would print: the file name, cut to
// TASK_COMM_LEN-1 bytes.
func (m *Machine) Comm() string {
	c := filepath.Base(m.cfg.Program)
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
		Schema:  report.Schema,
		Program: m.cfg.Program,
		Args:    append([]string{}, m.cfg.Args...),
		Env:     append([]string{}, m.cfg.Env...),
		Arch:    m.image.Arch.String(),
		Seed:    m.cfg.Seed,
		Profile: m.cfg.Profile.Name,
		Limits: report.Limits{MaxCycles: m.cfg.MaxCycles, StackLimit: m.as.StackLimit(),
			MemoryLimit: m.cfg.MemoryLimit},
		StopReason:          end.reason,
		ExitStatus:          end.status,
		Syscalls:            m.kernel.Counts(),
		UnsupportedSyscalls: m.kernel.Unsupported(),
	}
	if end.signal != 0 {
		s := linux.SignalName(end.signal)
		r.Signal = &s
	}
	if f := end.fault; f != nil {
		vma := ""
		if f.InVMA {
			vma = f.VMA.Name
		}
		r.Fault = &report.Fault{Signal: linux.SignalName(f.Signal), Kind: f.Kind, Address: f.Addr,
			RIP: f.RIP, SP: f.SP, ErrorCode: f.ErrorCode, VMA: vma, Message: m.FaultMessage(f)}
	}
	r.SetOutput(m.stdout.Bytes(), m.stderr.Bytes())
	for _, v := range m.vcpus {
		r.VCPUs = append(r.VCPUs, report.VCPU{ID: v.id, Cycles: v.counters.Cycles(), Instructions: v.counters.Insns()})
		r.Cycles = max(r.Cycles, v.counters.Cycles())
		r.Instructions += v.counters.Insns()
	}
	st := m.as.Stats()
	r.Memory = report.Memory{MappedBytes: st.MappedBytes, PeakMappedBytes: st.PeakMappedBytes,
		StackGrowths: st.StackGrowths}
	for _, vma := range m.as.VMAs() {
		if vma.Flags&mmu.Stack != 0 {
			r.Memory.StackBytes += vma.Size()
		}
		r.Maps = append(r.Maps, report.VMA{Start: vma.Start, End: vma.End, Perms: vma.Perms(),
			Offset: vma.Offset, Name: vma.Name})
	}
	secs := wall.Seconds()
	r.Host = &report.Host{WallSeconds: secs, BlocksCosted: m.core.BlocksCosted(), GoVersion: runtime.Version()}
	if secs > 0 {
		r.Host.GuestMIPS = float64(r.Instructions) / secs / 1e6
	}
	return r
}

// String describes the machine for error messages.
func (m *Machine) String() string {
	return fmt.Sprintf("%s (%s)", m.cfg.Program, m.image.Arch)
}
