package uc

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"unsafe"
)

// CostFunc prices one translated block: how many instructions it holds and
// what it costs in cycles * 256 (24.8 fixed point). It is called once per
// distinct (addr, size) block, on a cost-cache miss, from inside Start.
type CostFunc func(addr uint64, size uint32) (insns uint32, costFP uint64)

// Counters is what the C block hook charges: executed instructions and
// cycles, and a cycle budget. It lives in C memory so the hook never calls
// into Go; the accessors are plain memory loads (no cgo call).
//
// A Counters is used from one goroutine at a time (the one running the
// engine it is attached to).
type Counters struct {
	p        *C.probesim_counters
	attached int  // number of engines whose SetCounters points here
	freed    bool // Free was called; memory released at the last detach
}

// NewCounters returns zeroed counters with no budget (StopAt = MaxUint64).
func NewCounters() *Counters {
	// cgo's C.malloc never returns nil (it aborts on exhaustion).
	p := (*C.probesim_counters)(C.malloc(C.size_t(unsafe.Sizeof(C.probesim_counters{}))))
	*p = C.probesim_counters{}
	p.stop_at_fp = C.uint64_t(math.MaxUint64)
	p.fast_limit_fp = p.stop_at_fp
	return &Counters{p: p}
}

// Free releases the counters. If an engine still charges them, the memory is
// released when the last such engine detaches (SetCounters of another value
// or Close). Idempotent. After Free the accessors return 0.
func (c *Counters) Free() {
	if c == nil || c.freed {
		return
	}
	c.freed = true
	c.release()
}

func (c *Counters) release() {
	if c.freed && c.attached == 0 && c.p != nil {
		C.free(unsafe.Pointer(c.p))
		c.p = nil
	}
}

func (c *Counters) live() bool { return c != nil && !c.freed && c.p != nil }

// Insns is the number of guest instructions charged so far.
func (c *Counters) Insns() uint64 {
	if !c.live() {
		return 0
	}
	return uint64(c.p.insns)
}

// CyclesFP is the cycles charged so far, times 256.
func (c *Counters) CyclesFP() uint64 {
	if !c.live() {
		return 0
	}
	return uint64(c.p.cycles_fp)
}

// Cycles is CyclesFP rounded down to whole cycles.
func (c *Counters) Cycles() uint64 { return c.CyclesFP() >> 8 }

// SetStopAt sets the budget: the block hook stops the engine after charging
// a block that brings CyclesFP to fp or beyond. MaxUint64 disables it.
func (c *Counters) SetStopAt(fp uint64) {
	if c.live() {
		c.p.stop_at_fp = C.uint64_t(fp)
		if c.p.skip_valid == 0 {
			c.p.fast_limit_fp = c.p.stop_at_fp
		}
	}
}

// StopAt returns the budget set by SetStopAt.
func (c *Counters) StopAt() uint64 {
	if !c.live() {
		return 0
	}
	return uint64(c.p.stop_at_fp)
}

// BudgetHit reports whether the block hook stopped the engine because the
// budget was reached (sticky until ResetBudgetHit).
func (c *Counters) BudgetHit() bool { return c.live() && c.p.budget_hit != 0 }

// ResetBudgetHit clears the BudgetHit flag.
func (c *Counters) ResetBudgetHit() {
	if c.live() {
		c.p.budget_hit = 0
	}
}

// SkipNextBlockAt makes the hook skip charging the next block that starts
// at addr: call it after stopping before an instruction of a block that was
// already charged, so that resuming there does not charge it twice.
func (c *Counters) SkipNextBlockAt(addr uint64) {
	if c.live() {
		c.p.skip_at = C.uint64_t(addr)
		c.p.skip_valid = 1
		c.p.fast_limit_fp = 0
	}
}

// Add charges work done outside translated code (e.g. kernel events). It
// does not stop anything: if it crosses the budget, the next executed block
// stops the engine (after running, see the package doc).
func (c *Counters) Add(insns, costFP uint64) {
	if c.live() {
		c.p.insns += C.uint64_t(insns)
		c.p.cycles_fp += C.uint64_t(costFP)
	}
}

// EnableAccounting installs the C block hook that charges every executed
// block to the current Counters (see SetCounters), pricing each distinct
// block once with cost. Code translated before the first call is dropped so
// that it is charged too. Calling it again replaces the cost function and
// empties the cost cache; the hook stays installed until Close.
func (e *Engine) EnableAccounting(cost func(addr uint64, size uint32) (insns uint32, costFP uint64)) error {
	if err := e.alive(); err != nil {
		return err
	}
	if cost == nil {
		return errors.New("unicorn: enable accounting: nil cost function")
	}
	cb := &callback{eng: e, fn: CostFunc(cost)}
	if e.acct != nil {
		replace(e.costHandle, cb)
		C.probesim_acct_clear(e.acct)
		return nil
	}
	// The block hook is compiled into translated code: drop what is
	// already translated so every block gets charged.
	if err := e.removeTranslations(0, math.MaxUint64); err != nil {
		return err
	}
	handle := register(cb)
	a := C.probesim_acct_new(C.uintptr_t(handle))
	if a == nil {
		unregister(handle)
		return errors.New("unicorn: enable accounting: out of C memory for the cost cache")
	}
	if e.counters.live() {
		C.probesim_acct_set_counters(a, e.counters.p)
	} else {
		C.probesim_acct_set_counters(a, nil)
	}
	if err := check("hook_add(accounting)", C.probesim_acct_install(e.uc, a)); err != nil {
		C.probesim_acct_free(a)
		unregister(handle)
		return err
	}
	e.acct, e.costHandle = a, handle
	if e.vm != nil {
		e.vm.acct = a
	}
	return nil
}

// SetCounters selects the counters the block hook charges from now on (nil:
// charge nothing). It is a plain store into C memory, cheap enough to call
// at every vCPU switch.
func (e *Engine) SetCounters(c *Counters) {
	if e.alive() != nil {
		return
	}
	e.attachCounters(c)
}

func (e *Engine) attachCounters(c *Counters) {
	if old := e.counters; old != c {
		if old != nil {
			old.attached--
			old.release()
		}
		if c != nil {
			c.attached++
		}
		e.counters = c
	}
	if e.acct != nil {
		if c.live() {
			C.probesim_acct_set_counters(e.acct, c.p)
		} else {
			C.probesim_acct_set_counters(e.acct, nil)
		}
	}
}

// Counters returns the counters set by SetCounters.
func (e *Engine) Counters() *Counters { return e.counters }

// InvalidateCosts drops the cached cost of every block that overlaps
// [begin, end) — including blocks starting before begin that run into it —
// so they are priced again. Call it whenever code bytes change. A range
// beyond a few hundred bytes is dropped page by page in O(pages), which
// also drops the other blocks of its pages (see the package doc).
func (e *Engine) InvalidateCosts(begin, end uint64) {
	if e.alive() != nil || e.acct == nil {
		return
	}
	C.probesim_acct_invalidate(e.acct, C.uint64_t(begin), C.uint64_t(end))
}

// CostCacheMisses is how many times the cost function was called (one per
// distinct block, plus re-queries after invalidation or evictions).
func (e *Engine) CostCacheMisses() uint64 {
	if e.alive() != nil || e.acct == nil {
		return 0
	}
	return uint64(e.acct.misses)
}

// CostCacheEntries is the number of blocks the cost cache holds now.
func (e *Engine) CostCacheEntries() uint64 {
	if e.alive() != nil || e.acct == nil {
		return 0
	}
	return uint64(C.probesim_acct_entries(e.acct))
}

// CostCacheEvictions is how many cached blocks were pushed out of a full
// set (the table doubles when this grows fast).
func (e *Engine) CostCacheEvictions() uint64 {
	if e.alive() != nil || e.acct == nil {
		return 0
	}
	return uint64(e.acct.evictions)
}

// WatchFunc is called, from the block hook, for a watched address that an
// executed block holds, after the block was charged and before it runs.
// Returning false stops the engine before the block; the block is not
// charged again when it resumes (at its start), and the function is asked
// again then.
type WatchFunc func(addr uint64) (proceed bool)

// SetWatchFunc installs the function the block hook asks about watched
// addresses (WatchAddr). It needs accounting (EnableAccounting).
func (e *Engine) SetWatchFunc(fn WatchFunc) error {
	if err := e.alive(); err != nil {
		return err
	}
	if e.acct == nil {
		return errors.New("unicorn: watch: accounting is not enabled")
	}
	if fn == nil {
		return errNilCallback
	}
	cb := &callback{eng: e, fn: fn}
	if e.acct.watch_handle != 0 {
		replace(uintptr(e.acct.watch_handle), cb)
		return nil
	}
	e.acct.watch_handle = C.uintptr_t(register(cb))
	e.watchHandle = uintptr(e.acct.watch_handle)
	return nil
}

// WatchAddr makes every executed block that holds the instruction at addr
// ask the watch function first (SetWatchFunc). Unlike HookCode, a watched
// address costs nothing per instruction, changes no translation and can be
// added and removed at any time, also inside Start: the block hook checks
// the (short, sorted) list only while it is not empty. The question comes
// at the block's start, so instructions of the block before addr run after
// it. At most PROBESIM_MAX_WATCHES addresses are watched at once.
func (e *Engine) WatchAddr(addr uint64) error {
	if err := e.alive(); err != nil {
		return err
	}
	if e.acct == nil || e.acct.watch_handle == 0 {
		return errors.New("unicorn: watch: no watch function (SetWatchFunc)")
	}
	if C.probesim_watch_add(e.acct, C.uint64_t(addr)) == 0 {
		return fmt.Errorf("unicorn: watch %#x: %d addresses are watched already", addr, C.PROBESIM_MAX_WATCHES)
	}
	return nil
}

// UnwatchAddr stops watching addr.
func (e *Engine) UnwatchAddr(addr uint64) {
	if e.alive() == nil && e.acct != nil {
		C.probesim_watch_remove(e.acct, C.uint64_t(addr))
	}
}
