package kernel

import (
	"bytes"
	"encoding/binary"
	"io"
	"syscall"
	"testing"

	"github.com/probesim/probesim/mmu"
	"github.com/stretchr/testify/require"
)

// The harness runs the syscall layer the way package emu does, without an
// engine: a real mmu.AddressSpace with no backend attached (mmu keeps guest
// memory in host memory of its own, so Read/Write/Mmap work without one), a
// fake CPU recording what the syscalls do to the vCPU, and a Kernel per ABI.

const (
	testPID  = 1000
	testTID  = 1003
	testUID  = 1000
	testSeed = 42
	testFreq = 3_000_000_000
	testExe  = "/usr/local/bin/guest-program"

	// unmapped is below vm.mmap_min_addr, so nothing is ever mapped there.
	unmapped = 0x1000
	// scratchSize is the read-write area each harness maps for arguments.
	scratchSize = 64 << 10
)

// arches lists both ABIs, for tests that run on each.
var arches = []Arch{I386, X8664}

// gdtWrite is one CPU.WriteGDTEntry call.
type gdtWrite struct {
	idx  int
	desc uint64
}

// fakeCPU records the CPU state changes a syscall asks for, and holds
// the task's registers for signal frames (RegsCPU).
type fakeCPU struct {
	fsBases []uint64
	gsBases []uint64
	gdt     []gdtWrite
	fail    error // returned by every method when set
	regs    Regs
	fp      FPState
}

func (c *fakeCPU) Regs() (Regs, error)         { return c.regs, c.fail }
func (c *fakeCPU) SetRegs(r *Regs) error       { c.regs = *r; return c.fail }
func (c *fakeCPU) FPState(s *FPState) error    { *s = c.fp; return c.fail }
func (c *fakeCPU) SetFPState(s *FPState) error { c.fp = *s; return c.fail }

func (c *fakeCPU) SetFSBase(base uint64) error {
	c.fsBases = append(c.fsBases, base)
	return c.fail
}

func (c *fakeCPU) SetGSBase(base uint64) error {
	c.gsBases = append(c.gsBases, base)
	return c.fail
}

func (c *fakeCPU) WriteGDTEntry(idx int, desc uint64) error {
	c.gdt = append(c.gdt, gdtWrite{idx, desc})
	return c.fail
}

// harness is one guest process with one thread.
type harness struct {
	t      *testing.T
	arch   Arch
	k      *Kernel
	as     *mmu.AddressSpace
	th     *Task
	cpu    *fakeCPU
	stdout *bytes.Buffer
	stderr *bytes.Buffer
	cycles uint64 // what Config.Clock returns
	// scratch is a read-write mapping handed out by alloc.
	scratch, next uint64
}

// harnessOption adjusts the Config before the Kernel is built.
type harnessOption func(*Config)

func withStdin(r io.Reader) harnessOption { return func(c *Config) { c.Stdin = r } }
func withSeed(s uint64) harnessOption     { return func(c *Config) { c.Seed = s } }
func withTrace(w io.Writer) harnessOption { return func(c *Config) { c.Trace = w } }

func newHarness(t *testing.T, arch Arch, opts ...harnessOption) *harness {
	t.Helper()
	taskSize := mmu.TaskSize64
	if arch == I386 {
		taskSize = mmu.TaskSize32
	}
	as, err := mmu.NewChecked(mmu.Config{TaskSize: taskSize})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, as.Close()) })
	h := &harness{t: t, arch: arch, as: as, cpu: &fakeCPU{},
		stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	cfg := Config{
		Arch: arch, Mem: as, ExePath: testExe,
		Stdout: h.stdout, Stderr: h.stderr,
		Seed: testSeed, Clock: func() uint64 { return h.cycles }, FreqHz: testFreq,
		PID: testPID, UID: testUID,
	}
	for _, o := range opts {
		o(&cfg)
	}
	h.k = New(cfg)
	h.th = h.k.NewTask(testTID, h.cpu)
	addr, e := as.Mmap(0, scratchSize, mmu.ProtRead|mmu.ProtWrite, mmu.MapPrivate|mmu.MapAnonymous, "")
	require.Zero(t, e)
	h.scratch, h.next = addr, addr
	return h
}

// nr returns the number of the named syscall in the harness's ABI, from the
// generated tables.
func nr(t *testing.T, arch Arch, name string) uint64 {
	t.Helper()
	names := sysnamesX8664[:]
	if arch == I386 {
		names = sysnamesI386[:]
	}
	for i, n := range names {
		if n == name {
			return uint64(i)
		}
	}
	t.Fatalf("no syscall %q on %v", name, arch)
	return 0
}

// sys makes the named syscall and returns the raw return register and the
// result.
func (h *harness) sys(name string, args ...uint64) (uint64, Result) {
	h.t.Helper()
	require.LessOrEqual(h.t, len(args), 6)
	var a Args
	copy(a[:], args)
	return h.k.Syscall(h.th, nr(h.t, h.arch, name), a)
}

// call makes the named syscall, requires Outcome Continue, and returns the
// raw return register.
func (h *harness) call(name string, args ...uint64) uint64 {
	h.t.Helper()
	ret, res := h.sys(name, args...)
	require.Equal(h.t, Result{}, res, "%s result", name)
	return ret
}

// neg is -e as the ABI's return register holds it: 64-bit two's complement
// on x86-64, truncated to 32 bits on i386.
func neg(arch Arch, e syscall.Errno) uint64 {
	if arch == I386 {
		return uint64(uint32(-int32(e)))
	}
	return uint64(-int64(e))
}

// errRet is neg for the harness's ABI.
func (h *harness) errRet(e syscall.Errno) uint64 { return neg(h.arch, e) }

// alloc reserves n bytes of scratch memory (16-byte aligned) and zeroes them.
func (h *harness) alloc(n int) uint64 {
	h.t.Helper()
	a := h.next
	h.next += uint64(n+15) &^ 15
	require.LessOrEqual(h.t, h.next, h.scratch+scratchSize, "scratch area exhausted")
	h.put(a, make([]byte, n))
	return a
}

func (h *harness) put(addr uint64, b []byte) {
	h.t.Helper()
	require.NoError(h.t, h.as.Write(addr, b))
}

func (h *harness) get(addr uint64, n int) []byte {
	h.t.Helper()
	b := make([]byte, n)
	require.NoError(h.t, h.as.Read(addr, b))
	return b
}

// str stores s NUL-terminated in scratch memory and returns its address.
func (h *harness) str(s string) uint64 {
	h.t.Helper()
	a := h.alloc(len(s) + 1)
	h.put(a, append([]byte(s), 0))
	return a
}

// data stores b in scratch memory and returns its address.
func (h *harness) data(b []byte) uint64 {
	h.t.Helper()
	a := h.alloc(len(b))
	h.put(a, b)
	return a
}

func (h *harness) u16(addr uint64) uint16 { return binary.LittleEndian.Uint16(h.get(addr, 2)) }
func (h *harness) u32(addr uint64) uint32 { return binary.LittleEndian.Uint32(h.get(addr, 4)) }
func (h *harness) u64(addr uint64) uint64 { return binary.LittleEndian.Uint64(h.get(addr, 8)) }

// word reads a C long of the harness's ABI.
func (h *harness) word(addr uint64) uint64 {
	if h.arch == I386 {
		return uint64(h.u32(addr))
	}
	return h.u64(addr)
}

// words encodes C longs of the harness's ABI.
func (h *harness) words(v ...uint64) []byte {
	var b []byte
	for _, x := range v {
		if h.arch == I386 {
			b = binary.LittleEndian.AppendUint32(b, uint32(x))
		} else {
			b = binary.LittleEndian.AppendUint64(b, x)
		}
	}
	return b
}

// le64 encodes little-endian 64-bit values.
func le64(v ...uint64) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, x)
	}
	return b
}

// le32 encodes little-endian 32-bit values.
func le32(v ...uint32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, x)
	}
	return b
}

// forEachArch runs f as a subtest per ABI with a fresh harness.
func forEachArch(t *testing.T, f func(t *testing.T, h *harness), opts ...harnessOption) {
	for _, arch := range arches {
		t.Run(arch.String(), func(t *testing.T) { f(t, newHarness(t, arch, opts...)) })
	}
}
