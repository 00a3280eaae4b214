package uc

/*
#include "shim.h"
*/
import "C"

// Exec fences.
//
// Removing EXEC with Protect does not stop code Unicorn already translated
// (TestProtectNeedsRemoveCache), so the classic answer is RemoveCache on
// every loss of execute permission. But translating is the most expensive
// thing Unicorn does (5-8 us even for a one-instruction block,
// BenchmarkRetranslate, BenchmarkSSOLHit), and a page whose NX bit is
// cleared and set again
// around every single-step (probes' out-of-line stepping) would be
// retranslated on every hit although its bytes never changed.
//
// A fence keeps the translations of a range and makes sure none of them
// runs: the accounting block hook, which every translated block calls
// before its first instruction, stops the engine before any block that
// overlaps a fenced range (nothing of it runs or is charged). The check
// costs the hot path nothing: fencing a range changes the cost-cache page
// state of its pages, so their blocks miss and the miss path checks the
// fences (accounting.c). Start then
// drops the translations of every fenced range, lifts the fences and
// resumes at that block, so Unicorn translates it again and checks the
// fetch against the current protection (a fetch fault, normally). When
// the range becomes executable again, Protect lifts the fence and the kept
// translations run as before.
//
// Fences say nothing about bytes: the caller must still drop translations
// (RemoveCache) whenever bytes of a fenced range change from the host side,
// exactly as for executable code. Guest stores are seen by Unicorn itself.

// FenceExec keeps this engine's translations of [begin, end) but makes sure
// none of them runs until Protect gives the range EXEC or RemoveCache covers
// it (see the file comment). It is meant for a range about to lose EXEC,
// and also drops the range's cached costs (InvalidateCosts): while it is
// not executable the guest may rewrite it, and Unicorn then retranslates
// blocks of the same address and size, which the cost cache could not tell
// apart. Without accounting (EnableAccounting) the translations are dropped
// instead, as are the oldest fence's when PROBESIM_MAX_FENCES ranges are
// fenced already.
func (e *Engine) FenceExec(begin, end uint64) error {
	if err := e.alive(); err != nil {
		return err
	}
	if end <= begin || !e.started {
		return nil // nothing translated or priced yet
	}
	if e.acct == nil {
		return e.removeTranslations(begin, end-1)
	}
	if C.probesim_fence_exec(e.acct, C.uint64_t(begin), C.uint64_t(end)) != 0 {
		return nil
	}
	if err := e.dropFence(0); err != nil {
		return err
	}
	C.probesim_fence_exec(e.acct, C.uint64_t(begin), C.uint64_t(end))
	return nil
}

// dropPartialFences drops (with their translations) the fences that overlap
// [begin, end) without lying inside it; Protect lifted those inside.
func (e *Engine) dropPartialFences(begin, end uint64) error {
	var first error
	for i := uint32(0); i < uint32(e.acct.fence_count); {
		f := e.acct.fences[i]
		lo, hi := uint64(f.begin), uint64(f.end)
		if hi <= begin || lo >= end || (lo >= begin && hi <= end) {
			i++
			continue
		}
		if err := e.dropFence(i); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Fences returns the fenced ranges, oldest first.
func (e *Engine) Fences() [][2]uint64 {
	if e.alive() != nil || e.acct == nil {
		return nil
	}
	var out [][2]uint64
	for i := uint32(0); i < uint32(e.acct.fence_count); i++ {
		f := e.acct.fences[i]
		out = append(out, [2]uint64{uint64(f.begin), uint64(f.end)})
	}
	return out
}

// dropFence drops the translations of fence i and removes it.
func (e *Engine) dropFence(i uint32) error {
	f := e.acct.fences[i]
	C.probesim_fence_remove(e.acct, C.uint32_t(i))
	return e.removeTranslations(uint64(f.begin), uint64(f.end)-1)
}

// liftCoveredFences removes the fences inside [first, last], whose
// translations were all just dropped.
func (e *Engine) liftCoveredFences(first, last uint64) {
	if e.acct == nil {
		return
	}
	for i := uint32(0); i < uint32(e.acct.fence_count); {
		f := e.acct.fences[i]
		if uint64(f.begin) >= first && uint64(f.end)-1 <= last {
			C.probesim_fence_remove(e.acct, C.uint32_t(i))
			continue
		}
		i++
	}
}

// dropAllFences drops the translations of every fenced range (after the
// block hook stopped a block overlapping one).
func (e *Engine) dropAllFences() error {
	var first error
	for e.acct.fence_count > 0 {
		if err := e.dropFence(0); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// StoppedBeforeBlock reports whether the accounting hook has stopped the
// current run before a block (budget used up, or a fenced block). Unicorn
// 2.0.1 still calls the code hooks of that block's first instruction, which
// does not run: such a hook should then do nothing.
func (e *Engine) StoppedBeforeBlock() bool {
	return e.alive() == nil && e.acct != nil && e.acct.stopped != 0
}
