package kernel

import (
	"math"
	"math/bits"
)

// Fixed-point time (cycles << FPShift), as the machine's clocks count it.
// Timeouts and timer values come from guests and may be anything, so every
// conversion and every sum with a clock saturates: a time that does not
// fit is "never", not a wrapped-around time in the past. A deadline at or
// past NeverFP (2^55 cycles, 139 days of guest time at 3 GHz) never fires:
// such a wait is one without a timeout. Package smp uses the same
// arithmetic for its quanta, slices and budgets.

const (
	// FPShift is the number of fractional bits of a fixed-point time.
	FPShift = 8
	// NeverFP is the first fixed-point time at which no timer fires.
	NeverFP = 1 << 63

	fpShift = FPShift
	neverFP = NeverFP
)

// ToFP converts whole cycles to fixed point, saturating at MaxUint64.
func ToFP(cycles uint64) uint64 {
	if cycles > math.MaxUint64>>fpShift {
		return math.MaxUint64
	}
	return cycles << fpShift
}

// AddFP adds fixed-point times, saturating at MaxUint64.
func AddFP(a, b uint64) uint64 {
	s, carry := bits.Add64(a, b, 0)
	if carry != 0 {
		return math.MaxUint64
	}
	return s
}

func toFP(cycles uint64) uint64 { return ToFP(cycles) }
func addFP(a, b uint64) uint64  { return AddFP(a, b) }

// nsToFP converts guest nanoseconds to fixed-point cycles, rounding down
// and saturating.
func (k *Kernel) nsToFP(ns uint64) uint64 {
	hi, lo := bits.Mul64(ns, k.cfg.FreqHz)
	if hi >= 1_000_000_000 {
		return math.MaxUint64
	}
	cycles, _ := bits.Div64(hi, lo, 1_000_000_000)
	return toFP(cycles)
}

// wakeTime is the fixed-point cycle at which a timeout of sec seconds and
// nsec nanoseconds (valid: sec >= 0, 0 <= nsec < 10^9) ends: after now,
// or, when absolute, at that time of the monotonic clock (or of the
// realtime one, which starts at Epoch). It saturates like
// timespec64_to_ktime, which caps a timespec at KTIME_MAX.
func (k *Kernel) wakeTime(now uint64, sec, nsec int64, absolute, realtime bool) uint64 {
	hi, ns := bits.Mul64(uint64(sec), 1_000_000_000)
	ns, carry := bits.Add64(ns, uint64(nsec), 0)
	if hi != 0 || carry != 0 {
		ns = math.MaxUint64
	}
	if !absolute {
		return addFP(now, k.nsToFP(ns))
	}
	if realtime {
		ns -= min(ns, Epoch*1_000_000_000)
	}
	return k.nsToFP(ns)
}

// never turns a deadline too far to come into "no deadline".
func never(deadline uint64) uint64 {
	if deadline >= neverFP {
		return 0
	}
	return deadline
}
