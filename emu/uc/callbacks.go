package uc

// This file holds the //export'ed entry points called by the C trampolines.
// cgo forbids C definitions in the preamble of a file with //export, so the
// preamble only includes declarations.

/*
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"runtime/debug"
)

// recoverCallback is deferred by every entry point: a panic must not unwind
// into Unicorn's C frames, so it is recorded for Start to return and the
// emulation is stopped.
func (e *Engine) recoverCallback() {
	if r := recover(); r != nil {
		e.failCallback(&CallbackPanic{Value: r, Stack: debug.Stack()})
	}
}

// failCallback records the first callback failure of the current Start and
// stops the engine.
func (e *Engine) failCallback(err error) {
	if e.cbFailure == nil {
		e.cbFailure = err
	}
	if e.uc != nil {
		C.uc_emu_stop(e.uc)
	}
}

//export probesimGoIntr
func probesimGoIntr(handle C.uintptr_t, intno C.uint32_t) {
	cb := lookup(uintptr(handle))
	if cb == nil {
		return
	}
	defer cb.eng.recoverCallback()
	if fn, ok := cb.fn.(func(uint32)); ok {
		fn(uint32(intno))
	}
}

//export probesimGoSyscall
func probesimGoSyscall(handle C.uintptr_t) {
	cb := lookup(uintptr(handle))
	if cb == nil {
		return
	}
	defer cb.eng.recoverCallback()
	if fn, ok := cb.fn.(func()); ok {
		fn()
	}
}

//export probesimGoCPUID
func probesimGoCPUID(handle C.uintptr_t) (skipNative C.int) {
	cb := lookup(uintptr(handle))
	if cb == nil {
		return 0
	}
	defer cb.eng.recoverCallback()
	if fn, ok := cb.fn.(cpuidFunc); ok && fn() {
		return 1
	}
	return 0
}

//export probesimGoCode
func probesimGoCode(handle C.uintptr_t, addr C.uint64_t, size C.uint32_t) {
	cb := lookup(uintptr(handle))
	if cb == nil {
		return
	}
	defer cb.eng.recoverCallback()
	switch fn := cb.fn.(type) {
	case func(uint64, uint32):
		fn(uint64(addr), uint32(size))
	case blockFunc:
		// A stop from a block hook ends Start before this block; Start
		// makes sure the PC says so (Engine.repairBlockStopPC).
		e := cb.eng
		stops := e.stops
		fn(uint64(addr), uint32(size))
		if e.stops != stops {
			e.blockStopped, e.blockStopPC = true, uint64(addr)
		}
	}
}

//export probesimGoTranslate
func probesimGoTranslate(handle C.uintptr_t, page C.uint64_t, access C.int, paddr *C.uint64_t, perms *C.uint32_t) (ok C.int) {
	cb := lookup(uintptr(handle))
	if cb == nil {
		return 0
	}
	defer cb.eng.recoverCallback()
	fn, isTranslate := cb.fn.(TranslateFunc)
	if !isTranslate {
		return 0
	}
	p, prot, found := fn(uint64(page), MemAccess(access))
	if !found {
		return 0
	}
	*paddr = C.uint64_t(p)
	*perms = C.uint32_t(prot & ProtAll)
	return 1
}

//export probesimGoInvalidInsn
func probesimGoInvalidInsn(handle C.uintptr_t) (handled C.bool) {
	cb := lookup(uintptr(handle))
	if cb == nil {
		return false
	}
	defer cb.eng.recoverCallback()
	if fn, ok := cb.fn.(invalidInsnFunc); ok {
		return C.bool(fn())
	}
	return false
}

//export probesimGoPortIO
func probesimGoPortIO(handle C.uintptr_t, port C.uint32_t, size C.int, value C.uint32_t, out C.int) C.uint32_t {
	cb := lookup(uintptr(handle))
	if cb == nil {
		return 0
	}
	defer cb.eng.recoverCallback()
	if fn, ok := cb.fn.(PortIOFunc); ok {
		return C.uint32_t(fn(uint32(port), int(size), out != 0, uint32(value)))
	}
	return 0
}

//export probesimGoWatch
func probesimGoWatch(handle C.uintptr_t, addr C.uint64_t) (proceed C.int) {
	cb := lookup(uintptr(handle))
	if cb == nil {
		return 1
	}
	defer cb.eng.recoverCallback()
	if fn, ok := cb.fn.(WatchFunc); ok && !fn(uint64(addr)) {
		return 0
	}
	return 1
}

// maxBlockInsns bounds what a cost function may return for one block: the
// cache keeps the count in 31 bits.
const maxBlockInsns = 1<<31 - 1

//export probesimGoCostMiss
func probesimGoCostMiss(handle C.uintptr_t, addr C.uint64_t, size C.uint32_t, insns *C.uint32_t, costFP *C.uint64_t) (ok C.int) {
	cb := lookup(uintptr(handle))
	if cb == nil {
		return 0
	}
	defer cb.eng.recoverCallback()
	fn, isCost := cb.fn.(CostFunc)
	if !isCost {
		return 0
	}
	n, c := fn(uint64(addr), uint32(size))
	if n > maxBlockInsns {
		cb.eng.failCallback(fmt.Errorf("unicorn: cost function: block %#x+%d: %d instructions exceeds %d",
			uint64(addr), uint32(size), n, maxBlockInsns))
		return 0
	}
	*insns = C.uint32_t(n)
	*costFP = C.uint64_t(c)
	return 1
}
