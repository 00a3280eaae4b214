package emu

// CPUID is the modelled CPU's answer to cpuid with eax = leaf and ecx =
// subleaf, as the guest's cpuid instruction gets it: what the kernel's
// /proc/cpuinfo describes.
func (c *Core) CPUID(leaf, subleaf uint32) [4]uint32 { return c.cpuidAnswer(leaf, subleaf) }
