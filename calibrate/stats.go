package calibrate

import (
	"math"
	"slices"
)

// Summary is the median and spread of one quantity over the repeats.
type Summary struct {
	Median, Min, Max float64
	// SpreadPercent is the interquartile range over the median, in
	// percent (0 for a zero median).
	SpreadPercent float64
	N             int
}

// Summarize computes a Summary. Quartiles are by linear interpolation
// between order statistics (the "type 7" rule of R and numpy), so the
// median of an even count is the mean of the middle two.
func Summarize(v []float64) Summary {
	if len(v) == 0 {
		return Summary{}
	}
	s := slices.Clone(v)
	slices.Sort(s)
	q := func(p float64) float64 {
		h := p * float64(len(s)-1)
		lo := math.Floor(h)
		i := int(lo)
		if i+1 >= len(s) {
			return s[i]
		}
		return s[i] + (h-lo)*(s[i+1]-s[i])
	}
	out := Summary{Median: q(0.5), Min: s[0], Max: s[len(s)-1], N: len(s)}
	if out.Median != 0 {
		out.SpreadPercent = 100 * (q(0.75) - q(0.25)) / math.Abs(out.Median)
	}
	return out
}

// round1 rounds to one decimal, so profiles print stable, readable numbers.
func round1(x float64) float64 { return math.Round(x*10) / 10 }

// nsToCycles converts nanoseconds to whole cycles of a clock of hz,
// rounding to nearest; negative times (a difference of two noisy
// measurements) become 0.
func nsToCycles(ns float64, hz uint64) uint64 {
	c := math.Round(ns * float64(hz) / 1e9)
	if c <= 0 || math.IsNaN(c) {
		return 0
	}
	return uint64(c)
}

// cyclesToNS converts cycles of a clock of hz to nanoseconds.
func cyclesToNS(c, hz uint64) float64 { return float64(c) * 1e9 / float64(hz) }
