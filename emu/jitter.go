package emu

// SetKernelJitter installs fn, which spreads a kernel entry/exit cost (in
// cycles) for the running thread: the machine draws it from the run's seed
// (smp/jitter.go). The core applies it to syscall entry/exit and to the page
// faults that grow the stack. nil, the default, charges costs exactly.
func (c *Core) SetKernelJitter(fn func(cost uint64) uint64) { c.jitter = fn }

// kernelCostFP is cost, spread by the jitter, in fixed point.
func (c *Core) kernelCostFP(cost uint64) uint64 {
	if c.jitter != nil {
		cost = c.jitter(cost)
	}
	return cost << 8
}
