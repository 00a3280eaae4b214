package uc

/*
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
)

// Hook identifies a hook added by one of the Hook* methods.
type Hook struct {
	id     C.uc_hook
	handle uintptr
}

// MemAccess is the kind of invalid memory access reported to a fault hook;
// the values are Unicorn's uc_mem_type.
type MemAccess int

const (
	MemReadUnmapped  = MemAccess(C.UC_MEM_READ_UNMAPPED)
	MemWriteUnmapped = MemAccess(C.UC_MEM_WRITE_UNMAPPED)
	MemFetchUnmapped = MemAccess(C.UC_MEM_FETCH_UNMAPPED)
	MemReadProt      = MemAccess(C.UC_MEM_READ_PROT)
	MemWriteProt     = MemAccess(C.UC_MEM_WRITE_PROT)
	MemFetchProt     = MemAccess(C.UC_MEM_FETCH_PROT)
)

func (a MemAccess) String() string {
	switch a {
	case MemReadUnmapped:
		return "read-unmapped"
	case MemWriteUnmapped:
		return "write-unmapped"
	case MemFetchUnmapped:
		return "fetch-unmapped"
	case MemReadProt:
		return "read-prot"
	case MemWriteProt:
		return "write-prot"
	case MemFetchProt:
		return "fetch-prot"
	case MemRead:
		return "read"
	case MemWrite:
		return "write"
	case MemFetch:
		return "fetch"
	}
	return fmt.Sprintf("MemAccess(%d)", int(a))
}

var errNilCallback = errors.New("unicorn: hook_add: nil callback")

// addHook registers fn in the callback table and installs a hook through the
// given C installer, which receives the table handle as user_data.
func (e *Engine) addHook(fn any, install func(id *C.uc_hook, handle C.uintptr_t) C.uc_err) (Hook, error) {
	if err := e.alive(); err != nil {
		return Hook{}, err
	}
	handle := register(&callback{eng: e, fn: fn})
	var id C.uc_hook
	if err := check("hook_add", install(&id, C.uintptr_t(handle))); err != nil {
		unregister(handle)
		return Hook{}, err
	}
	e.hooks[handle] = id
	return Hook{id: id, handle: handle}, nil
}

// HookDel removes a hook added to this engine. Deleting a hook from inside
// its own callback is allowed.
func (e *Engine) HookDel(h Hook) error {
	if err := e.alive(); err != nil {
		return err
	}
	id, ok := e.hooks[h.handle]
	if !ok || id != h.id {
		return errors.New("unicorn: hook_del: hook does not belong to this engine or was already deleted")
	}
	err := check("hook_del", C.uc_hook_del(e.uc, id))
	delete(e.hooks, h.handle)
	unregister(h.handle)
	return err
}

// HookInterrupt calls fn for every CPU exception and software interrupt
// (UC_HOOK_INTR): int3 is 3, int 0x80 is 0x80, divide error is 0, etc.
// For int3 / int n, RIP already points past the instruction.
func (e *Engine) HookInterrupt(fn func(intno uint32)) (Hook, error) {
	if fn == nil {
		return Hook{}, errNilCallback
	}
	return e.addHook(fn, func(id *C.uc_hook, h C.uintptr_t) C.uc_err {
		return C.probesim_hook_intr(e.uc, id, h)
	})
}

// HookSyscall calls fn for every x86-64 `syscall` instruction
// (UC_HOOK_INSN + UC_X86_INS_SYSCALL). RIP inside fn: see the package doc.
func (e *Engine) HookSyscall(fn func()) (Hook, error) {
	if fn == nil {
		return Hook{}, errNilCallback
	}
	return e.addHook(fn, func(id *C.uc_hook, h C.uintptr_t) C.uc_err {
		return C.probesim_hook_syscall(e.uc, id, h)
	})
}

// HookCPUID calls fn for every `cpuid` (UC_HOOK_INSN + UC_X86_INS_CPUID).
// If fn returns true the native cpuid is skipped and the registers fn wrote
// are the result; if false the native (qemu64) cpuid runs after fn.
func (e *Engine) HookCPUID(fn func() bool) (Hook, error) {
	if fn == nil {
		return Hook{}, errNilCallback
	}
	return e.addHook(cpuidFunc(fn), func(id *C.uc_hook, h C.uintptr_t) C.uc_err {
		return C.probesim_hook_cpuid(e.uc, id, h)
	})
}

// PortIOFunc is called for an in (out false; its result is the value read)
// or out instruction (UC_HOOK_INSN + UC_X86_INS_IN, OUT). RIP inside the
// hook is not the instruction's but the last one Unicorn stored (the
// block's start, normally), and a Stop takes effect at the end of the
// translated block. Unicorn 2.1.1 executes in and out at CPL 3 whatever
// IOPL says (a real CPU raises #GP): a hook is how to refuse them.
type PortIOFunc func(port uint32, size int, out bool, value uint32) uint32

// HookPortIO installs fn for both in and out.
func (e *Engine) HookPortIO(fn PortIOFunc) error {
	if fn == nil {
		return errNilCallback
	}
	if _, err := e.addHook(fn, func(id *C.uc_hook, h C.uintptr_t) C.uc_err {
		return C.probesim_hook_in(e.uc, id, h)
	}); err != nil {
		return err
	}
	_, err := e.addHook(fn, func(id *C.uc_hook, h C.uintptr_t) C.uc_err {
		return C.probesim_hook_out(e.uc, id, h)
	})
	return err
}

// hookRange converts Unicorn's inclusive hook range (begin > end: all) to
// the inclusive range of code whose translation must be dropped.
func hookRange(begin, end uint64) (first, last uint64) {
	if begin > end {
		return 0, math.MaxUint64
	}
	return begin, end
}

// HookCode calls fn before each instruction whose address is in the
// inclusive range [begin, end] (begin > end means every address). One Go
// call per instruction: for tests, tools and single probe sites only.
// Translations of the range are dropped so the hook applies to code that
// already ran.
func (e *Engine) HookCode(begin, end uint64, fn func(addr uint64, size uint32)) (Hook, error) {
	if fn == nil {
		return Hook{}, errNilCallback
	}
	if err := e.removeTranslations(hookRange(begin, end)); err != nil {
		return Hook{}, err
	}
	return e.addHook(fn, func(id *C.uc_hook, h C.uintptr_t) C.uc_err {
		return C.probesim_hook_code(e.uc, id, h, C.uint64_t(begin), C.uint64_t(end))
	})
}

// HookBlock calls fn at the start of each translated block whose address is
// in [begin, end] (inclusive; begin > end means all). One Go call per
// executed block: slow, for tests and tools; use EnableAccounting for the
// hot path. Translations of the range are dropped so the hook applies to
// code that already ran.
func (e *Engine) HookBlock(begin, end uint64, fn func(addr uint64, size uint32)) (Hook, error) {
	if fn == nil {
		return Hook{}, errNilCallback
	}
	if err := e.removeTranslations(hookRange(begin, end)); err != nil {
		return Hook{}, err
	}
	return e.addHook(blockFunc(fn), func(id *C.uc_hook, h C.uintptr_t) C.uc_err {
		return C.probesim_hook_block(e.uc, id, h, C.uint64_t(begin), C.uint64_t(end))
	})
}

// HookInvalidInsn calls fn when the CPU hits an undefined opcode (ud2,
// 0f ff, ...). Returning true continues emulation (fn must have moved RIP or
// stopped the engine); false makes Start fail with CodeInsnInvalid.
func (e *Engine) HookInvalidInsn(fn func() bool) (Hook, error) {
	if fn == nil {
		return Hook{}, errNilCallback
	}
	return e.addHook(invalidInsnFunc(fn), func(id *C.uc_hook, h C.uintptr_t) C.uc_err {
		return C.probesim_hook_insn_invalid(e.uc, id, h)
	})
}

// cpuidFunc and invalidInsnFunc give the two func() bool callbacks distinct
// dynamic types in the table.
type (
	cpuidFunc       func() bool
	invalidInsnFunc func() bool
)

// blockFunc marks a block hook's callback, whose stops need the PC repair
// done by Start.
type blockFunc func(addr uint64, size uint32)
