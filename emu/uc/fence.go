package uc

/*
#include "shim.h"
*/
import "C"

// Exec fences.
//
// With a virtual TLB, a page whose execute permission goes away may still
// have a TLB entry that grants it. Flushing the whole TLB on every such
// change would make a probe's NX flip around every out-of-line step cost a
// flush and the refills after it. A fence instead marks the page: the
// accounting block hook, which every translated block calls before its
// first instruction, stops the engine before any block on a fenced page
// (nothing of it runs or is charged). The check costs the hot path
// nothing: fencing a page changes its cost-cache state, so its blocks miss
// and the miss path looks at the fence mark (accounting.c). Start then
// flushes the TLB, which lifts every fence, and resumes at that block: the
// fetch is translated from the page table again, and faults if the page is
// still not executable. Translated blocks are kept throughout: Unicorn
// finds a block by its physical page, resolved through the TLB with a
// fetch check, so a block cannot be entered from a page that is not
// executable once the TLB is right.
//
// When the page is given execute permission back (ProtectPages), its fence
// is lifted: the TLB entry is right again and the blocks run as before.
// Pages also get fenced when RemoveCache's own lookup put an execute
// permission into the TLB for a page without one (vm.c).
//
// Without a virtual TLB (a plain engine), FenceExec drops the range's
// translations instead, as Protect removing EXEC does not stop translated
// code there.

// FenceExec makes sure no translated block of [begin, end) runs while the
// range is not executable (see the file comment). It is meant for a range
// about to lose execute permission, and also drops the range's cached
// costs (InvalidateCosts): while it is not executable the guest may
// rewrite it, and Unicorn then retranslates blocks of the same address and
// size, which the cost cache could not tell apart. Without accounting
// (EnableAccounting) the TLB is flushed instead; so it is when more than
// PROBESIM_MAX_FENCES pages are fenced.
func (e *Engine) FenceExec(begin, end uint64) error {
	if err := e.alive(); err != nil {
		return err
	}
	if end <= begin || !e.started {
		return nil // nothing translated or priced yet
	}
	if e.vm == nil {
		return e.removeTranslations(begin, end-1)
	}
	if e.acct == nil {
		return e.FlushTLB()
	}
	if C.probesim_fence_pages(e.acct, C.uint64_t(begin), C.uint64_t(end)) == 0 {
		return e.FlushTLB()
	}
	return nil
}

// Fences returns the fenced pages, in no particular order.
func (e *Engine) Fences() []uint64 {
	if e.alive() != nil || e.acct == nil {
		return nil
	}
	var out []uint64
	for i := uint32(0); i < uint32(e.acct.fence_count); i++ {
		out = append(out, uint64(e.acct.fences[i].page)*PageSize)
	}
	return out
}

// clearFences runs after the block hook stopped a block on a fenced page.
func (e *Engine) clearFences() error { return e.FlushTLB() }

// StoppedBeforeBlock reports whether the accounting hook has stopped the
// current run before a block (budget used up, or a fenced block). Unicorn
// still calls the code hooks of that block's first instruction, which does
// not run: such a hook should then do nothing.
func (e *Engine) StoppedBeforeBlock() bool {
	return e.alive() == nil && e.acct != nil && e.acct.stopped != 0
}
