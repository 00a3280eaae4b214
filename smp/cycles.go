package smp

import "github.com/probesim/probesim/kernel"

// Fixed-point cycle arithmetic.
//
// A vCPU's clock counts cycles in fixed point with fpShift fractional bits
// (uc.Counters), so a uint64 holds 2^56 cycles. Quanta, budgets, time
// slices and timeouts come from users and guests and may be anything up to
// 2^64-1, so every conversion to fixed point and every sum of a clock and
// such an amount saturates: an end that does not fit is "never", never a
// wrapped-around time in the past (which would stop a slice before it ran
// an instruction and spin the scheduler forever).
//
// Timers further out than neverFP never fire: a futex wait or sleep that
// long is a wait without a timeout. The clocks then never come near the
// end of their range (they only grow by running, which cannot reach 2^55
// cycles in any host lifetime, and by idling to a due timer), so the C
// counters adding block costs to them cannot wrap either.

// The arithmetic is the kernel's (kernel/cycles.go), whose timers share
// the clocks.

const fpShift = kernel.FPShift

// neverFP is the first fixed-point cycle at which no timer fires: 2^55
// cycles, 139 days of guest time at 3 GHz.
const neverFP = kernel.NeverFP

// toFP converts whole cycles to fixed point, saturating at MaxUint64.
func toFP(cycles uint64) uint64 { return kernel.ToFP(cycles) }

// addFP adds fixed-point cycles, saturating at MaxUint64.
func addFP(a, b uint64) uint64 { return kernel.AddFP(a, b) }
