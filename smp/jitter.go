package smp

// Kernel cost jitter.
//
// On real hardware the same syscall or exception costs a different number
// of cycles each time (cache and TLB state, interrupts). With fixed costs a
// simulated machine phase-locks its threads: every seed gives the same
// interleaving, and a sweep over seeds measures nothing. The profile's
// kernel_jitter_percent spreads each kernel entry/exit cost (syscall,
// exception, page fault, context switch) uniformly over +-j% of its value
// (timing.Profile.Jitter).
//
// The random bits are a counter-based hash of (seed, thread, the thread's
// own count of jittered costs), not a shared stream: a thread draws the
// same sequence whatever vCPU it runs on and however the other threads
// interleave, so fast mode and lockstep agree, and two configurations that
// differ only in their vCPU count see the same noise per thread (common
// random numbers, which sharpen comparisons between them).

// jitterSalt separates these draws from the seed's other uses.
const jitterSalt = 0x6a6974746572 // "jitter"

// jittered returns cost spread for the next kernel event of thread t.
func (m *Machine) jittered(t *thread, cost uint64) uint64 {
	if t == nil || m.cfg.Profile.KernelJitterPercent == 0 {
		return cost
	}
	t.kernelEvents++
	r := mix64(m.cfg.Seed ^ jitterSalt ^ uint64(t.kt.TID)<<40 ^ t.kernelEvents)
	return m.cfg.Profile.Jitter(cost, r)
}

// runningThread is the thread on the vCPU that runs now, or nil.
func (m *Machine) runningThread() *thread {
	if m.curV == nil {
		return nil
	}
	return m.curV.cur
}

// mix64 is SplitMix64's finaliser: a bijection of 64-bit values whose
// outputs for consecutive inputs are statistically independent.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}
