package emu

import (
	"sync"

	"github.com/probesim/probesim/emu/uc"
	"github.com/probesim/probesim/kernel"
)

// The modelled CPU.
//
// The engine runs Unicorn's SandyBridge model (cpuModel), chosen as the
// model closest to the timing profile's Skylake that keeps every run a
// pure function of its inputs: Unicorn 2.1.1's models from IvyBridge on
// (skylake-client included) execute rdrand and rdseed with the host's
// randomness, which no API of Unicorn can trap or seed, while on
// SandyBridge they raise #UD, as on a real SandyBridge. What is lost
// against skylake-client: MOVBE, BMI1/2, ADX, FSGSBASE, ERMS (and AVX,
// which Unicorn's TCG does not run on any model).
//
// What cpuid answers is part of the model: the C library picks its string
// and memory routines from it. The Core answers from a table read once per
// mode from the model itself (cpuidTable), after cpuidMasks take away what
// the engine does not run correctly; AT_HWCAP is the table's CPUID.1:EDX,
// so the two always agree. TestAdvertisedFeaturesMatchTheCPU runs one
// instruction of every advertised feature natively and under probesim.
//
// Deviations that cpuid cannot express (the engine's own, measured, see
// docs/ARCHITECTURE.md): x87 and SSE exception flags are never set in the
// status word and MXCSR; every vCPU reports APIC id 0 and one core.
const cpuModel = uc.CPUSandyBridge

// cpuidLeaf is one answer: eax, ebx, ecx, edx.
type cpuidLeaf [4]uint32

type cpuidKey struct{ leaf, subleaf uint32 }

// cpuidMask clears bits of a leaf's answer (eax, ebx, ecx, edx).
type cpuidMask [4]uint32

// cpuidMasks take away features the model advertises but the engine does
// not run as the CPU does. None, on SandyBridge: every feature it
// advertises passes TestAdvertisedFeaturesMatchTheCPU.
var cpuidMasks = map[uint32]cpuidMask{}

// cpuidSubleafLeaves are the leaves whose answer depends on ECX.
var cpuidSubleafLeaves = map[uint32]bool{4: true, 7: true, 0xb: true, 0xd: true, 0x8000001d: true}

// maxSubleaf bounds the subleaves recorded of such a leaf.
const maxSubleaf = 8

type cpuidModel struct {
	table map[cpuidKey]cpuidLeaf
	err   error
}

var (
	cpuidOnce   [2]sync.Once
	cpuidModels [2]cpuidModel
)

// modelCPUID returns the table of arch's engine model, reading it on first
// use from a scratch engine (a few milliseconds, once per process).
func modelCPUID(arch kernel.Arch) (map[cpuidKey]cpuidLeaf, error) {
	i, mode := 1, uc.Mode64
	if arch == kernel.I386 {
		i, mode = 0, uc.Mode32
	}
	cpuidOnce[i].Do(func() {
		cpuidModels[i].table, cpuidModels[i].err = readModelCPUID(mode)
	})
	return cpuidModels[i].table, cpuidModels[i].err
}

// readModelCPUID executes cpuid on a scratch engine of the model for every
// leaf it reports (up to its maximum basic and extended leaves).
func readModelCPUID(mode uc.Mode) (map[cpuidKey]cpuidLeaf, error) {
	e, err := uc.OpenWith(mode, uc.Options{CPUModel: cpuModel})
	if err != nil {
		return nil, err
	}
	defer e.Close()
	const code = 0x10000
	if err := e.Map(code, 0x1000, uc.ProtAll); err != nil {
		return nil, err
	}
	if err := e.MemWrite(code, []byte{0x0f, 0xa2}); err != nil { // cpuid
		return nil, err
	}
	in := []uc.Reg{uc.RAX, uc.RCX}
	out := []uc.Reg{uc.RAX, uc.RBX, uc.RCX, uc.RDX}
	if mode == uc.Mode32 {
		in, out = []uc.Reg{uc.EAX, uc.ECX}, []uc.Reg{uc.EAX, uc.EBX, uc.ECX, uc.EDX}
	}
	ask := func(leaf, sub uint32) (cpuidLeaf, error) {
		if err := e.RegWriteBatch(in, []uint64{uint64(leaf), uint64(sub)}); err != nil {
			return cpuidLeaf{}, err
		}
		if err := e.Start(code, code+2, 0, 0); err != nil {
			return cpuidLeaf{}, err
		}
		v := make([]uint64, 4)
		if err := e.RegReadBatch(out, v); err != nil {
			return cpuidLeaf{}, err
		}
		return cpuidLeaf{uint32(v[0]), uint32(v[1]), uint32(v[2]), uint32(v[3])}, nil
	}
	table := map[cpuidKey]cpuidLeaf{}
	for _, base := range []uint32{0, 0x80000000} {
		top, err := ask(base, 0)
		if err != nil {
			return nil, err
		}
		for leaf := base; leaf <= top[0] && leaf-base < 0x100; leaf++ {
			subs := uint32(1)
			if cpuidSubleafLeaves[leaf] {
				subs = maxSubleaf
			}
			for sub := uint32(0); sub < subs; sub++ {
				r, err := ask(leaf, sub)
				if err != nil {
					return nil, err
				}
				m := cpuidMasks[leaf]
				for j := range r {
					r[j] &^= m[j]
				}
				key := cpuidKey{leaf, sub}
				if !cpuidSubleafLeaves[leaf] {
					key.subleaf = anySubleaf
				}
				table[key] = r
			}
		}
	}
	return table, nil
}

// anySubleaf marks a leaf whose answer does not depend on ECX.
const anySubleaf = ^uint32(0)

// cpuidAnswer is the modelled CPU's answer to cpuid with eax = leaf and
// ecx = subleaf. A leaf the model does not report answers zeros (and a
// subleaf past those recorded, too).
func (c *Core) cpuidAnswer(leaf, subleaf uint32) cpuidLeaf {
	if r, ok := c.cpuid[cpuidKey{leaf, anySubleaf}]; ok {
		return r
	}
	return c.cpuid[cpuidKey{leaf, subleaf}]
}

// HWCap is AT_HWCAP for the Core's CPU: CPUID.1:EDX, as the kernel puts it
// in the auxiliary vector on x86.
func (c *Core) HWCap() uint64 { return uint64(c.cpuidAnswer(1, 0)[3]) }

// HWCap2 is AT_HWCAP2: 0. Its x86 bits say that ring-3 mwait or the
// FSGSBASE instructions are enabled, and neither is (no such feature).
func (c *Core) HWCap2() uint64 { return 0 }

var (
	cpuidInRegs  = []uc.Reg{uc.EAX, uc.ECX}
	cpuidOutRegs = []uc.Reg{uc.RAX, uc.RBX, uc.RCX, uc.RDX}
)

// onCPUID answers the guest's cpuid from the model (the engine's own
// answer is skipped). As on hardware, the four registers are written
// zero-extended in 64-bit mode.
func (c *Core) onCPUID() bool {
	var in [2]uint64
	if c.eng.RegReadBatch(cpuidInRegs, in[:]) != nil {
		return false
	}
	r := c.cpuidAnswer(uint32(in[0]), uint32(in[1]))
	out := []uint64{uint64(r[0]), uint64(r[1]), uint64(r[2]), uint64(r[3])}
	regs := cpuidOutRegs
	if c.arch == kernel.I386 {
		regs = []uc.Reg{uc.EAX, uc.EBX, uc.ECX, uc.EDX}
	}
	return c.eng.RegWriteBatch(regs, out) == nil
}
