package emu

import (
	"github.com/probesim/probesim/emu/uc"
	"github.com/probesim/probesim/kernel"
)

// The guest's CPUID.
//
// What cpuid answers is part of the modelled machine, not of the engine:
// the C library picks its string and memory routines (ifuncs, cache-size
// thresholds) from it, so the same program runs different instructions,
// and different cycle counts, under different answers. The Core therefore
// answers cpuid itself from a table, whatever CPU model the engine has.
//
// cpuidQEMU64v201 is what Unicorn 2.0.1's default qemu64 model answered
// (recorded with the cpuid instruction on 2.0.1, every leaf 0..0x14 and
// 0x80000000..0x80000020 with subleaves 0..7): the answers probesim's
// reports were made with until the engine moved to 2.1.1. Leaves not
// listed answer zeros, as 2.0.1 did for every other leaf recorded. Leaf
// 0x80000001 EDX and 0x80000008 EAX differ between the modes: long mode
// and the virtual address width exist only in 64-bit mode.
type cpuidKey struct{ leaf, subleaf uint32 }

type cpuidRegs struct{ eax, ebx, ecx, edx uint32 }

// anySubleaf marks a leaf whose answer does not depend on ECX.
const anySubleaf = ^uint32(0)

var cpuidQEMU64v201 = map[cpuidKey]cpuidRegs{
	{0x0, anySubleaf}:        {0x0000000d, 0x68747541, 0x444d4163, 0x69746e65}, // "AuthenticAMD", max leaf 0xd
	{0x1, anySubleaf}:        {0x00000663, 0x00000800, 0x02182200, 0x07088100},
	{0x2, anySubleaf}:        {0x00000001, 0x00000000, 0x00000000, 0x002c307d},
	{0x4, 0}:                 {0x00000121, 0x01c0003f, 0x0000003f, 0x00000001},
	{0x4, 1}:                 {0x00000122, 0x01c0003f, 0x0000003f, 0x00000001},
	{0x4, 2}:                 {0x00000143, 0x03c0003f, 0x00000fff, 0x00000001},
	{0x5, anySubleaf}:        {0x00000000, 0x00000000, 0x00000003, 0x00000000},
	{0x7, 0}:                 {0x00000000, 0x00180108, 0x00000000, 0x00000000},
	{0x80000000, anySubleaf}: {0x8000000a, 0x68747541, 0x444d4163, 0x69746e65},
	{0x80000002, anySubleaf}: {0x554d4551, 0x72695620, 0x6c617574, 0x55504320}, // "QEMU Virtual CPU version 2.5+"
	{0x80000003, anySubleaf}: {0x72657620, 0x6e6f6973, 0x352e3220, 0x0000002b},
	{0x80000005, anySubleaf}: {0x01ff01ff, 0x01ff01ff, 0x40020140, 0x40020140},
	{0x80000006, anySubleaf}: {0x00000000, 0x42004200, 0x02008140, 0x00000000},
}

// cpuidModeDependent holds the leaves whose answer depends on the mode.
var cpuidModeDependent = map[uint32][2]cpuidRegs{ // [i386, x86-64]
	0x80000001: {{0x00000663, 0, 0x00001031, 0x88000000}, {0x00000663, 0, 0x00001031, 0xa8000000}},
	0x80000008: {{0x00000028, 0, 0, 0}, {0x00003028, 0, 0, 0}},
}

// cpuidAnswer is the modelled CPU's answer to cpuid with eax = leaf and
// ecx = subleaf.
func (c *Core) cpuidAnswer(leaf, subleaf uint32) cpuidRegs {
	if m, ok := cpuidModeDependent[leaf]; ok {
		if c.arch == kernel.I386 {
			return m[0]
		}
		return m[1]
	}
	if r, ok := cpuidQEMU64v201[cpuidKey{leaf, anySubleaf}]; ok {
		return r
	}
	return cpuidQEMU64v201[cpuidKey{leaf, subleaf}]
}

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
	out := []uint64{uint64(r.eax), uint64(r.ebx), uint64(r.ecx), uint64(r.edx)}
	regs := cpuidOutRegs
	if c.arch == kernel.I386 {
		regs = []uc.Reg{uc.EAX, uc.EBX, uc.ECX, uc.EDX}
	}
	return c.eng.RegWriteBatch(regs, out) == nil
}
