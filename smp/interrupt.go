package smp

import (
	"sync/atomic"

	"github.com/probesim/probesim/kernel"
)

// Interrupting a run and reporting its progress.
//
// Both happen at scheduling decisions, between slices, on the goroutine
// that called Run: Interrupt only sets a flag that the next decision reads,
// and Progress is called there. A slice of several running vCPUs ends
// within a quantum; a vCPU running alone (no other running vCPU, no thread
// queued for it) would otherwise run until its next syscall or event, so
// its slices are cut every checkCycles. Cutting such a slice changes
// nothing the run computes: the next decision picks the same vCPU and
// thread again (no other can run), with no context switch, no timer to
// fire before its wake time and no time slice to account, and the slice
// goes on at the same pc, the C hook having stopped at a block boundary.
// The report corpus (internal/corpus) pins that.

// checkCycles bounds the slices of a vCPU running alone, so that an
// interruption or a progress report waits at most this many cycles of
// guest time (about 6 ms at 3 GHz; on the host, well under a second).
var checkCycles uint64 = 1 << 24 // a variable only for tests (export_test.go)

// StopInterrupted is the report's stop_reason of a run that Interrupt
// ended.
const StopInterrupted = "interrupted"

// interruption is the Machine's interruption and progress state.
type interruption struct {
	// sig is the signal Interrupt was given, 0 until then.
	sig atomic.Int32
	// nextProgress is the clock at which Progress is next called.
	nextProgress uint64
}

// Interrupt ends the run at the next scheduling decision, as if signal sig
// had killed the process from outside: the report's stop_reason is
// "interrupted", its signal sig and its exit status 128+sig, and every
// count in it is the run's up to that decision. The first call wins. It
// may be called from any goroutine, before or during Run.
func (m *Machine) Interrupt(sig int) {
	if sig <= 0 || sig > 64 {
		sig = kernel.SIGKILL
	}
	m.sig.CompareAndSwap(0, int32(sig))
}

// poll runs at every scheduling decision, v being the vCPU about to run
// (the lowest clock): it reports progress and says whether the run was
// interrupted.
func (m *Machine) poll(v *vcpu) (ending, bool) {
	if every := m.cfg.ProgressEvery; m.cfg.Progress != nil && every > 0 && m.sig.Load() == 0 {
		if c := v.counters.Cycles(); c >= m.nextProgress {
			m.cfg.Progress(c)
			m.nextProgress = addFP(c-c%every, every) // saturating, as for clocks
		}
	}
	// Checked after Progress, so that a Progress call that interrupts
	// ends the run at once.
	if sig := int(m.sig.Load()); sig != 0 {
		return ending{reason: StopInterrupted, status: 128 + sig, signal: sig}, true
	}
	return ending{}, false
}
