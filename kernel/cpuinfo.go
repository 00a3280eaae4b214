package kernel

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// /proc/cpuinfo as arch/x86/kernel/cpu/proc.c shows it, from the modelled
// CPU's cpuid answers (Config.CPUID) for every vCPU, and the profile's
// clock frequency. The flag names are those of
// arch/x86/include/asm/cpufeatures.h for the bits the answers may set.

// cpuidFlags names the feature bits by (leaf, register index, bit).
var cpuidFlags = []struct {
	leaf uint32
	reg  int // 0 eax, 1 ebx, 2 ecx, 3 edx
	bits map[uint]string
}{
	{1, 3, map[uint]string{0: "fpu", 1: "vme", 2: "de", 3: "pse", 4: "tsc", 5: "msr", 6: "pae", 7: "mce", 8: "cx8",
		9: "apic", 11: "sep", 12: "mtrr", 13: "pge", 14: "mca", 15: "cmov", 16: "pat", 17: "pse36", 18: "pn",
		19: "clflush", 21: "dts", 22: "acpi", 23: "mmx", 24: "fxsr", 25: "sse", 26: "sse2", 27: "ss", 28: "ht",
		29: "tm", 30: "ia64", 31: "pbe"}},
	{0x80000001, 3, map[uint]string{11: "syscall", 19: "mp", 20: "nx", 22: "mmxext", 25: "fxsr_opt",
		26: "pdpe1gb", 27: "rdtscp", 29: "lm", 30: "3dnowext", 31: "3dnow"}},
	{1, 2, map[uint]string{0: "pni", 1: "pclmulqdq", 2: "dtes64", 3: "monitor", 4: "ds_cpl", 5: "vmx", 6: "smx",
		7: "est", 8: "tm2", 9: "ssse3", 10: "cid", 11: "sdbg", 12: "fma", 13: "cx16", 14: "xtpr", 15: "pdcm",
		17: "pcid", 18: "dca", 19: "sse4_1", 20: "sse4_2", 21: "x2apic", 22: "movbe", 23: "popcnt",
		24: "tsc_deadline_timer", 25: "aes", 26: "xsave", 28: "avx", 29: "f16c", 30: "rdrand", 31: "hypervisor"}},
	{0x80000001, 2, map[uint]string{0: "lahf_lm", 1: "cmp_legacy", 2: "svm", 3: "extapic", 4: "cr8_legacy",
		5: "abm", 6: "sse4a", 7: "misalignsse", 8: "3dnowprefetch", 9: "osvw", 10: "ibs", 11: "xop",
		12: "skinit", 13: "wdt", 15: "lwp", 16: "fma4", 17: "tce", 19: "nodeid_msr", 21: "tbm",
		22: "topoext", 23: "perfctr_core", 24: "perfctr_nb"}},
	{7, 1, map[uint]string{0: "fsgsbase", 1: "tsc_adjust", 3: "bmi1", 4: "hle", 5: "avx2", 7: "smep",
		8: "bmi2", 9: "erms", 10: "invpcid", 11: "rtm", 14: "mpx", 16: "avx512f", 17: "avx512dq",
		18: "rdseed", 19: "adx", 20: "smap", 23: "clflushopt", 24: "clwb", 29: "sha_ni", 30: "avx512bw",
		31: "avx512vl"}},
	{7, 2, map[uint]string{1: "avx512vbmi", 2: "umip", 3: "pku", 4: "ospke", 5: "waitpkg", 8: "gfni",
		9: "vaes", 10: "vpclmulqdq", 22: "rdpid"}},
}

// cpuinfoText is the whole of /proc/cpuinfo.
func (k *Kernel) cpuinfoText() string {
	id := k.cfg.CPUID
	if id == nil {
		id = func(uint32, uint32) [4]uint32 { return [4]uint32{} }
	}
	l0 := id(0, 0)
	vendor := make([]byte, 12)
	binary.LittleEndian.PutUint32(vendor[0:], l0[1])
	binary.LittleEndian.PutUint32(vendor[4:], l0[3])
	binary.LittleEndian.PutUint32(vendor[8:], l0[2])
	var brand []byte
	for leaf := uint32(0x80000002); leaf <= 0x80000004; leaf++ {
		r := id(leaf, 0)
		for _, v := range r {
			brand = binary.LittleEndian.AppendUint32(brand, v)
		}
	}
	modelName := strings.TrimSpace(strings.TrimRight(string(brand), "\x00"))
	l1 := id(1, 0)
	family := l1[0] >> 8 & 0xf
	model := l1[0] >> 4 & 0xf
	if family == 0xf {
		family += l1[0] >> 20 & 0xff
	}
	if family >= 6 {
		model |= (l1[0] >> 16 & 0xf) << 4
	}
	var flags []string
	for _, g := range cpuidFlags {
		v := id(g.leaf, 0)[g.reg]
		for bit := uint(0); bit < 32; bit++ {
			if name, ok := g.bits[bit]; ok && v&(1<<bit) != 0 {
				flags = append(flags, name)
			}
		}
	}
	mhz := float64(k.cfg.FreqHz) / 1e6
	cpus := k.sched.CPUs()
	var b strings.Builder
	for i := 0; i < cpus; i++ {
		fmt.Fprintf(&b, "processor\t: %d\nvendor_id\t: %s\ncpu family\t: %d\nmodel\t\t: %d\nmodel name\t: %s\n"+
			"stepping\t: %d\ncpu MHz\t\t: %.3f\ncache size\t: 512 KB\nphysical id\t: 0\nsiblings\t: %d\n"+
			"core id\t\t: %d\ncpu cores\t: %d\napicid\t\t: %d\ninitial apicid\t: %d\nfpu\t\t: yes\n"+
			"fpu_exception\t: yes\ncpuid level\t: %d\nwp\t\t: yes\nflags\t\t: %s\nbogomips\t: %.2f\n"+
			"clflush size\t: 64\ncache_alignment\t: 64\naddress sizes\t: 40 bits physical, 48 bits virtual\n"+
			"power management:\n\n",
			i, string(vendor), family, model, modelName, l1[0]&0xf, mhz, cpus, i, cpus, i, i, l0[0],
			strings.Join(flags, " "), 2*mhz)
	}
	return b.String()
}
