package uc

/*
#cgo CFLAGS: -I${SRCDIR}/../../build/unicorn/usr/include
#cgo LDFLAGS: ${SRCDIR}/../../build/unicorn/usr/lib/x86_64-linux-gnu/libunicorn.a -lm -lpthread
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"math"
	"unsafe"
)

// Mode selects the guest CPU mode of an engine.
type Mode int

const (
	Mode32 Mode = Mode(C.UC_MODE_32) // i386 protected mode
	Mode64 Mode = Mode(C.UC_MODE_64) // x86-64 long mode
)

func (m Mode) String() string {
	switch m {
	case Mode32:
		return "i386"
	case Mode64:
		return "x86-64"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Prot is a page protection, with the same bits as UC_PROT_*.
type Prot uint32

const (
	ProtNone  Prot = 0
	ProtRead  Prot = Prot(C.UC_PROT_READ)
	ProtWrite Prot = Prot(C.UC_PROT_WRITE)
	ProtExec  Prot = Prot(C.UC_PROT_EXEC)
	ProtAll   Prot = ProtRead | ProtWrite | ProtExec
)

func (p Prot) String() string {
	b := []byte("---")
	if p&ProtRead != 0 {
		b[0] = 'r'
	}
	if p&ProtWrite != 0 {
		b[1] = 'w'
	}
	if p&ProtExec != 0 {
		b[2] = 'x'
	}
	if p&^ProtAll != 0 {
		return fmt.Sprintf("%s+%#x", b, uint32(p&^ProtAll))
	}
	return string(b)
}

// CPUModel is a Unicorn x86 CPU model (uc_cpu_x86). The model decides
// which instructions the engine's translator accepts; what cpuid answers
// is the caller's business (HookCPUID).
type CPUModel int

const (
	// CPUDefault is Unicorn's default model (qemu64).
	CPUDefault CPUModel = -1
	// CPUSkylakeClient executes SSE up to SSE4.2, POPCNT, MOVBE, AES,
	// PCLMULQDQ, BMI1/2 and ADX, and no AVX (Unicorn's TCG has none); also
	// rdrand and rdseed, which return the host's randomness.
	CPUSkylakeClient = CPUModel(C.UC_CPU_X86_SKYLAKE_CLIENT)
	// CPUSandyBridge executes SSE up to SSE4.2, POPCNT, AES, PCLMULQDQ and
	// rdtscp, and no AVX; rdrand and rdseed raise #UD (measured: the
	// newest Intel model of 2.1.1 without them).
	CPUSandyBridge = CPUModel(C.UC_CPU_X86_SANDYBRIDGE)
)

// Options are an engine's fixed choices.
type Options struct {
	// CPUModel selects the CPU model (CPUDefault: Unicorn's own).
	CPUModel CPUModel
	// Translate, if not nil, gives the engine a virtual TLB (vmem.go):
	// guest addresses are translated by a page table in C that asks
	// Translate for every page it does not hold yet. Without it, guest
	// addresses are Unicorn's physical addresses (Map, MapPtr).
	Translate TranslateFunc
}

// Engine is one Unicorn x86 CPU with its own memory map and translation
// cache. See the package documentation for the threading rules.
type Engine struct {
	uc   *C.uc_engine
	mode Mode

	// hooks maps each live Go-callback hook's table handle to its Unicorn
	// hook id, so Close can release the table entries.
	hooks map[uintptr]C.uc_hook

	// acct is the C accounting state (nil until EnableAccounting);
	// costHandle is the table handle of its cost function.
	acct        *C.probesim_acct
	costHandle  uintptr
	watchHandle uintptr // the watch function's table handle (0: none)
	counters    *Counters

	// vm is the page table of an engine opened with a translator (nil
	// otherwise); translateHandle is the translator's table handle.
	vm              *C.probesim_vm
	translateHandle uintptr
	basePT          *PageTable // BasePageTable's handle (pagetable.go)
	tables          int        // live tables from NewPageTable
	tableSwitches   uint64

	// started is set by the first Start: from then on translations exist
	// and adding a translation-time hook must drop them.
	started bool

	// scratchCtx is ClearException's context (nil until first used).
	scratchCtx *Context

	// cbFailure is the first failure (panic or invalid result) of a Go
	// callback during the current Start; Start returns it.
	cbFailure error

	// stops counts Stop calls; a Go block hook that stopped the engine
	// records its block in blockStopPC (valid: blockStopped) so that Start
	// can repair the PC (see Start).
	stops        uint64
	blockStopped bool
	blockStopPC  uint64

	// flagRepairs counts the runs whose EFLAGS probesim_emu_start
	// repaired (eflags.go).
	flagRepairs uint64
}

// Version is the Unicorn release this binding is written for; Open refuses
// any other.
const Version = "2.1.1"

// checkVersion refuses a libunicorn other than the one the binding's facts
// were measured on (doc.go).
func checkVersion() error {
	var major, minor C.uint
	v := uint32(C.uc_version(&major, &minor))
	return versionMismatch(uint(major), uint(minor), uint(v>>8)&0xff)
}

func versionMismatch(major, minor, patch uint) error {
	if major != C.PROBESIM_UC_MAJOR || minor != C.PROBESIM_UC_MINOR || patch != C.PROBESIM_UC_PATCH {
		return fmt.Errorf("unicorn: linked libunicorn is %d.%d.%d, want %s (run make deps)", major, minor, patch, Version)
	}
	return nil
}

// Open creates an x86 engine in mode m with Unicorn's default CPU model
// and no virtual TLB.
func Open(m Mode) (*Engine, error) { return OpenWith(m, Options{CPUModel: CPUDefault}) }

// OpenWith creates an x86 engine in mode m with the given options.
func OpenWith(m Mode, o Options) (*Engine, error) {
	if err := checkVersion(); err != nil {
		return nil, err
	}
	if m != Mode32 && m != Mode64 {
		return nil, fmt.Errorf("unicorn: open: unsupported mode %d (want Mode32 or Mode64)", int(m))
	}
	var h *C.uc_engine
	virtual := C.int(0)
	if o.Translate != nil {
		virtual = 1
	}
	if err := check("open", C.probesim_open(C.int(m), C.int(o.CPUModel), virtual, &h)); err != nil {
		return nil, err
	}
	e := &Engine{uc: h, mode: m, hooks: map[uintptr]C.uc_hook{}}
	if o.Translate != nil {
		if err := e.installVM(o.Translate); err != nil {
			e.Close()
			return nil, err
		}
	}
	return e, nil
}

// Mode reports the mode the engine was opened in.
func (e *Engine) Mode() Mode { return e.mode }

// Close releases the Unicorn engine, its hooks, the callback table entries
// and the accounting memory. It is idempotent. It must not be called from a
// callback of the same engine.
func (e *Engine) Close() error {
	if e == nil || e.uc == nil {
		return nil
	}
	e.scratchCtx.Free()
	e.scratchCtx = nil
	rc := C.uc_close(e.uc)
	e.uc = nil
	for handle := range e.hooks {
		unregister(handle)
	}
	e.hooks = nil
	if e.acct != nil {
		C.probesim_acct_free(e.acct)
		e.acct = nil
		unregister(e.costHandle)
		e.costHandle = 0
		if e.watchHandle != 0 {
			unregister(e.watchHandle)
			e.watchHandle = 0
		}
	}
	if e.vm != nil {
		C.probesim_vm_free(e.vm)
		e.vm = nil
		unregister(e.translateHandle)
		e.translateHandle = 0
	}
	e.attachCounters(nil)
	return check("close", rc)
}

// alive returns ErrClosed once the engine has been closed.
func (e *Engine) alive() error {
	if e == nil || e.uc == nil {
		return ErrClosed
	}
	return nil
}

// Start runs the guest from begin until the PC reaches until, timeout
// microseconds pass (0: none) or count instructions ran (0: no limit), or a
// hook stops it. count > 0 makes Unicorn count every instruction (slow) and
// switching between count > 0 and count == 0 flushes all translations: pick
// one per engine. until should be an address that is never executed.
//
// A block on a fenced page (FenceExec) is stopped before it runs; Start
// then flushes the TLB, so that the fetch is checked against the page
// table again, and resumes there by itself (unless a hook asked to stop,
// or failed), with the same until, timeout and count, which start afresh.
//
// With a virtual TLB, an access the page table refuses ends Start with a
// CodeException error, and PageFault describes the access.
func (e *Engine) Start(begin, until, timeout, count uint64) error {
	if err := e.alive(); err != nil {
		return err
	}
	e.cbFailure = nil
	e.started = true
	for {
		e.blockStopped = false
		stops := e.stops
		if e.acct != nil {
			e.acct.stopped = 0
			e.acct.fence_hit = 0
		}
		if e.vm != nil {
			e.vm.fault.pending = 0
		}
		rc := C.probesim_emu_start(e.uc, C.uint64_t(begin), C.uint64_t(until),
			C.uint64_t(timeout), C.size_t(count), (*C.uint64_t)(unsafe.Pointer(&e.flagRepairs)))
		stopCalled := e.stops != stops
		e.repairBlockStopPC()
		if e.acct != nil && e.acct.fence_hit != 0 {
			err := e.clearFences()
			if err == nil && rc == C.UC_ERR_OK && e.cbFailure == nil && !stopCalled {
				begin = uint64(e.acct.stop_pc)
				continue
			}
			if err != nil && e.cbFailure == nil {
				e.cbFailure = err
			}
		}
		if f := e.cbFailure; f != nil {
			e.cbFailure = nil
			return f
		}
		return check("emu_start", rc)
	}
}

// repairBlockStopPC sets the PC to the block a block hook stopped before.
//
// Unicorn (measured on 2.0.1, and 2.1.1 still) leaves the PC stale after such a stop whenever ANY
// UC_HOOK_CODE exists, whatever its range: a stop from a block hook exits
// the translated block at its entry check (TB_EXIT_REQUESTED), and
// cpu_tb_exec (qemu/accel/tcg/cpu-exec.c) restores the PC to the block's
// start only if !HOOK_EXISTS(uc, UC_HOOK_CODE), assuming a code hook
// already synced it; but only instructions inside a code hook's range sync
// the PC, and the block hook does not. The PC is then whatever the guest
// last stored: the target of an unchained jump, or the address of the last
// instruction whose helper needed it (cpuid, syscall, ...), possibly in
// another block (TestBlockStopPCWithUnrelatedCodeHook). Resuming there
// re-executes or skips instructions.
func (e *Engine) repairBlockStopPC() {
	pc, ok := e.blockStopPC, e.blockStopped
	if e.acct != nil && e.acct.stopped != 0 {
		pc, ok = uint64(e.acct.stop_pc), true
	}
	e.blockStopped = false
	if !ok || e.uc == nil {
		return
	}
	r := RIP
	if e.mode == Mode32 {
		r = EIP
	}
	// Outside emulation a PC write cannot fail or lose anything.
	_ = e.RegWrite(r, pc)
}

// Stop asks a running Start to return. Called from a hook, it takes effect at
// the next translated-block boundary (see the package documentation for the
// exact semantics per hook type).
func (e *Engine) Stop() error {
	if err := e.alive(); err != nil {
		return err
	}
	e.stops++
	return check("emu_stop", C.uc_emu_stop(e.uc))
}

// RemoveCache drops this engine's translated blocks that overlap
// [begin, end). Needed after code bytes change from outside the guest
// (host writes, MemWrite, another engine). With a virtual TLB, only pages
// the page table holds can have translated blocks (vmem.go); without one,
// unmapped parts of the range are skipped (Unicorn alone would silently do
// nothing when begin is unmapped).
func (e *Engine) RemoveCache(begin, end uint64) error {
	if err := e.alive(); err != nil {
		return err
	}
	if end <= begin {
		return fmt.Errorf("unicorn: ctl_remove_cache: empty range [%#x, %#x)", begin, end)
	}
	return e.removeTranslations(begin, end-1)
}

// removeTranslations drops translations overlapping the inclusive range
// [first, last]. Hooks that Unicorn compiles into translated code (code,
// block, memory-access hooks) only apply to code translated after they are
// added, so adding one calls this for its range. Nothing was translated
// before the first Start, which skips the work.
func (e *Engine) removeTranslations(first, last uint64) error {
	if err := e.alive(); err != nil {
		return err
	}
	if !e.started {
		return nil
	}
	if e.vm != nil {
		end := last + 1
		if last == math.MaxUint64 {
			end = last &^ (pageSize - 1)
		}
		err := check("ctl_remove_cache", C.probesim_vm_remove_cache(e.uc, e.vm, C.uint64_t(first), C.uint64_t(end)))
		if e.acct != nil && e.acct.fence_overflow != 0 {
			if ferr := e.FlushTLB(); err == nil {
				err = ferr
			}
		}
		return err
	}
	return check("ctl_remove_cache", C.probesim_remove_cache(e.uc, C.uint64_t(first), C.uint64_t(last)))
}

// FlushTranslations drops every translated block of this engine
// (UC_CTL_TB_FLUSH).
func (e *Engine) FlushTranslations() error {
	if err := e.alive(); err != nil {
		return err
	}
	return check("ctl_flush_tb", C.probesim_flush_tb(e.uc))
}
