package kernel

import (
	"math/big"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Clock ids (include/uapi/linux/time.h).
const (
	cRealtime       = 0
	cMonotonic      = 1
	cProcessCPU     = 2
	cThreadCPU      = 3
	cMonotonicRaw   = 4
	cRealtimeCoarse = 5
	cMonoCoarse     = 6
	cBoottime       = 7
)

// cycles1500ms is 1.5 s at the harness's 3 GHz.
const cycles1500ms = 4_500_000_000

// timespec reads a timespec of the given field width (4 or 8 bytes).
func (h *harness) timespec(addr uint64, wide bool) (sec, frac uint64) {
	if wide {
		return h.u64(addr), h.u64(addr + 8)
	}
	return uint64(h.u32(addr)), uint64(h.u32(addr + 4))
}

func TestClockGettime(t *testing.T) {
	forEachArch(t, func(t *testing.T, h *harness) {
		h.cycles = cycles1500ms
		h.th.CPUCycles = func() uint64 { return 3_000_000_300 } // 1 s + 100 ns
		wide := h.arch == X8664
		size := 8
		if wide {
			size = 16
		}
		for _, tc := range []struct {
			id        uint64
			sec, nsec uint64
		}{
			{cRealtime, Epoch + 1, 500_000_000},
			{cRealtimeCoarse, Epoch + 1, 500_000_000},
			{cMonotonic, 1, 500_000_000},
			{cMonotonicRaw, 1, 500_000_000},
			{cMonoCoarse, 1, 500_000_000},
			{cBoottime, 1, 500_000_000},
			{cProcessCPU, 1, 500_000_000},
			{cThreadCPU, 1, 100},
		} {
			ts := h.statBuf(size)
			require.Equal(t, uint64(0), h.call("clock_gettime", tc.id, ts), "clock %d", tc.id)
			sec, nsec := h.timespec(ts, wide)
			assert.Equal(t, tc.sec, sec, "clock %d seconds", tc.id)
			assert.Equal(t, tc.nsec, nsec, "clock %d nanoseconds", tc.id)
			h.requireSentinelAfter(ts, size)

			if h.arch == I386 {
				// clock_gettime64 takes struct __kernel_timespec: 2 x 64 bits.
				ts = h.statBuf(16)
				require.Equal(t, uint64(0), h.call("clock_gettime64", tc.id, ts))
				sec, nsec = h.timespec(ts, true)
				assert.Equal(t, tc.sec, sec, "clock_gettime64 %d", tc.id)
				assert.Equal(t, tc.nsec, nsec, "clock_gettime64 %d", tc.id)
				h.requireSentinelAfter(ts, 16)
			}
		}

		h.th.CPUCycles = nil
		ts := h.alloc(16)
		require.Equal(t, uint64(0), h.call("clock_gettime", cThreadCPU, ts))
		sec, nsec := h.timespec(ts, wide)
		assert.Equal(t, []uint64{1, 500_000_000}, []uint64{sec, nsec}, "no per-thread counter: the global clock")

		for _, id := range []uint64{10, 16, 99} { // removed, MAX_CLOCKS, unknown
			assert.Equal(t, h.errRet(syscall.EINVAL), h.call("clock_gettime", id, ts), "clock %#x", id)
		}
		assert.Equal(t, h.errRet(syscall.EFAULT), h.call("clock_gettime", cMonotonic, unmapped))
		if h.arch == I386 {
			assert.Equal(t, h.errRet(syscall.EINVAL), h.call("clock_gettime64", 99, ts))
			assert.Equal(t, h.errRet(syscall.EFAULT), h.call("clock_gettime64", cRealtime, unmapped))
		}
	})
}

func TestClockFollowsCycles(t *testing.T) {
	h := newHarness(t, X8664)
	ts := h.alloc(16)
	for _, tc := range []struct {
		cycles    uint64
		sec, nsec uint64
	}{
		{0, 0, 0},
		{2, 0, 0}, // 0.67 ns truncates
		{3, 0, 1},
		{2_999_999_999, 0, 999_999_999},
		{3_000_000_000, 1, 0},
		{cycles1500ms, 1, 500_000_000},
	} {
		h.cycles = tc.cycles
		require.Equal(t, uint64(0), h.call("clock_gettime", cMonotonic, ts))
		sec, nsec := h.timespec(ts, true)
		assert.Equal(t, []uint64{tc.sec, tc.nsec}, []uint64{sec, nsec}, "%d cycles", tc.cycles)
	}

	// No overflow of cycles * 1e9 on long runs: compare with exact math.
	h.cycles = 1<<63 + 12345
	require.Equal(t, uint64(0), h.call("clock_gettime", cMonotonic, ts))
	ns := new(big.Int).Mul(new(big.Int).SetUint64(h.cycles), big.NewInt(1_000_000_000))
	ns.Quo(ns, big.NewInt(testFreq))
	sec, nsec := h.timespec(ts, true)
	want := new(big.Int).Add(new(big.Int).Mul(new(big.Int).SetUint64(sec), big.NewInt(1_000_000_000)), new(big.Int).SetUint64(nsec))
	assert.Equal(t, ns.String(), want.String())
}

func TestClockGetres(t *testing.T) {
	forEachArch(t, func(t *testing.T, h *harness) {
		wide := h.arch == X8664
		size := 8
		if wide {
			size = 16
		}
		res := h.statBuf(size)
		require.Equal(t, uint64(0), h.call("clock_getres", cMonotonic, res))
		sec, nsec := h.timespec(res, wide)
		assert.Equal(t, []uint64{0, 1}, []uint64{sec, nsec})
		h.requireSentinelAfter(res, size)
		assert.Equal(t, uint64(0), h.call("clock_getres", cRealtime, 0), "a NULL result is allowed")
		assert.Equal(t, h.errRet(syscall.EINVAL), h.call("clock_getres", 99, res))
		assert.Equal(t, h.errRet(syscall.EINVAL), h.call("clock_getres", 99, 0), "the clock is checked even without a result")
		assert.Equal(t, h.errRet(syscall.EFAULT), h.call("clock_getres", cRealtime, unmapped))
		if h.arch == I386 {
			res = h.statBuf(16)
			require.Equal(t, uint64(0), h.call("clock_getres_time64", cThreadCPU, res))
			sec, nsec = h.timespec(res, true)
			assert.Equal(t, []uint64{0, 1}, []uint64{sec, nsec})
			h.requireSentinelAfter(res, 16)
			assert.Equal(t, h.errRet(syscall.EINVAL), h.call("clock_getres_time64", 99, res))
		}
	})
}

func TestGettimeofday(t *testing.T) {
	forEachArch(t, func(t *testing.T, h *harness) {
		h.cycles = cycles1500ms + 3000 // 1.5 s + 1 µs
		wide := h.arch == X8664
		size := 8
		if wide {
			size = 16
		}
		tv, tz := h.statBuf(size), h.statBuf(8)
		require.Equal(t, uint64(0), h.call("gettimeofday", tv, tz))
		sec, usec := h.timespec(tv, wide)
		assert.Equal(t, []uint64{Epoch + 1, 500_001}, []uint64{sec, usec})
		h.requireSentinelAfter(tv, size)
		assert.Equal(t, make([]byte, 8), h.get(tz, 8), "struct timezone: UTC, no DST")
		h.requireSentinelAfter(tz, 8)

		assert.Equal(t, uint64(0), h.call("gettimeofday", 0, 0))
		assert.Equal(t, h.errRet(syscall.EFAULT), h.call("gettimeofday", unmapped, 0))
		assert.Equal(t, h.errRet(syscall.EFAULT), h.call("gettimeofday", 0, unmapped))
	})
}

func TestTime(t *testing.T) {
	forEachArch(t, func(t *testing.T, h *harness) {
		h.cycles = cycles1500ms
		assert.Equal(t, uint64(Epoch+1), h.call("time", 0))
		ws := 4
		if h.arch == X8664 {
			ws = 8
		}
		p := h.statBuf(ws)
		h.cycles = 3 * cycles1500ms // 4.5 s
		assert.Equal(t, uint64(Epoch+4), h.call("time", p))
		assert.Equal(t, uint64(Epoch+4), h.word(p), "time also stores the result")
		h.requireSentinelAfter(p, ws)
		assert.Equal(t, h.errRet(syscall.EFAULT), h.call("time", unmapped))
	})
}

// TestClockAtExtremeFrequencies: the profile allows freq_hz from 1 to 1e12;
// cycles convert to nanoseconds exactly (rounded down) at every one, and
// saturate past 2^64-1 ns instead of wrapping. Before, any clock above
// 18 GHz wrapped within its first second.
func TestClockAtExtremeFrequencies(t *testing.T) {
	for _, tc := range []struct {
		freq, cycles uint64
	}{
		{1_000_000_000_000, 999_999_999_999}, // 1e12 Hz, just under a second
		{1_000_000_000_000, 1<<63 + 12345},
		{20_000_000_000, 19_999_999_999},
		{3_000_000_000, cycles1500ms},
		{1, 18_000_000_000}, // 1 Hz: 5.7e2 years, still in range
		{1, 1 << 40},        // past 2^64-1 ns
		{7, 1<<64 - 1},
	} {
		h := newHarness(t, X8664, func(c *Config) { c.FreqHz = tc.freq })
		h.cycles = tc.cycles
		want := new(big.Int).Mul(new(big.Int).SetUint64(tc.cycles), big.NewInt(1_000_000_000))
		want.Div(want, new(big.Int).SetUint64(tc.freq))
		if !want.IsUint64() {
			want.SetUint64(1<<64 - 1)
		}
		ts := h.statBuf(16)
		require.Equal(t, uint64(0), h.call("clock_gettime", cMonotonic, ts))
		sec, nsec := h.timespec(ts, true)
		assert.Equal(t, want.Uint64()/1e9, sec, "%d cycles at %d Hz", tc.cycles, tc.freq)
		assert.Equal(t, want.Uint64()%1e9, nsec, "%d cycles at %d Hz", tc.cycles, tc.freq)
		require.Equal(t, uint64(0), h.call("clock_gettime", cRealtime, ts))
		rsec, _ := h.timespec(ts, true)
		assert.GreaterOrEqual(t, rsec, sec, "realtime does not wrap below monotonic")
	}
}
