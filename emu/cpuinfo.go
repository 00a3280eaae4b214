package emu

// CPUID is the modelled CPU's answer to cpuid with eax = leaf and ecx =
// subleaf, as the guest's cpuid instruction gets it: what the kernel's
// /proc/cpuinfo describes.
func (c *Core) CPUID(leaf, subleaf uint32) [4]uint32 {
	r := c.cpuidAnswer(leaf, subleaf)
	return [4]uint32{r.eax, r.ebx, r.ecx, r.edx}
}
