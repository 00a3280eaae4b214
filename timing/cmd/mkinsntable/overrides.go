package main

import (
	"fmt"
	"strings"
)

// placeholderLatency is what llvm-mca reports for instructions its model does not cover
// (traps, most string instructions); see the timing-sources notes: "it gives int3, invlpg,
// wrmsr a placeholder latency of 100".
const placeholderLatency = 100

// applyOverrides replaces llvm-mca rows that are placeholders or that the cost model treats
// differently, and records why in probe.note (emitted next to the row):
//
//   - Traps (int, int3, ud2, hlt): the trap itself is a kernel event charged by the emulator
//     (Profile.Kernel.ExceptionEntryExit / SyscallEntryExit); inside the block the instruction
//     is one uop of latency 1.
//   - movs, lods, cmps: llvm-mca has no model; the row is the sum of the rows of the uops the
//     instruction performs (load, store, compare, pointer increments), with the latency of the
//     part that produces its register result.
//   - rep-prefixed string instructions: one iteration, i.e. the row of the plain instruction.
//     The emulator's block hook fires once per iteration (QEMU translates "rep X" as one
//     iteration that jumps back to itself), so the charge scales with the count. This
//     overstates fast-string rep movs/stos on long copies (Skylake moves 16-32 bytes/cycle).
func applyOverrides(probes []probe) error {
	byAsm := map[string]*probe{}
	for i := range probes {
		byAsm[probes[i].asm] = &probes[i]
	}
	row := func(asm string) (cost, error) {
		p, ok := byAsm[asm]
		if !ok {
			return cost{}, fmt.Errorf("override refers to missing probe %q", asm)
		}
		if p.cost.latency == placeholderLatency {
			return cost{}, fmt.Errorf("override builds on placeholder row %q", asm)
		}
		return p.cost, nil
	}
	for _, trap := range []string{"int 0x80", "int3", "ud2", "hlt"} {
		p := byAsm[trap]
		if p == nil {
			return fmt.Errorf("missing trap probe %q", trap)
		}
		p.cost.latency = 1
		p.note = "trap: its cost is a kernel event"
	}
	sizes := map[string]int{"b": 8, "w": 16, "d": 32, "q": 64}
	for s, sz := range sizes {
		load := "mov " + dstReg[sz] + ", " + memPtr[sz]
		store := "mov " + memPtr[sz] + ", " + srcReg[sz]
		cmp := "cmp " + dstReg[sz] + ", " + memPtr[sz]
		inc := "add rax, 3"
		composed := []struct {
			asm, latencyOf string
			parts          []string
		}{
			{"movs" + s, inc, []string{load, store, inc, inc}},
			{"lods" + s, load, []string{load, inc}},
			{"cmps" + s, cmp, []string{load, cmp, inc, inc}},
		}
		for _, c := range composed {
			sum, err := compose(row, c.latencyOf, c.parts)
			if err != nil {
				return err
			}
			p := byAsm[c.asm]
			if p == nil {
				return fmt.Errorf("missing string probe %q", c.asm)
			}
			sum.side = p.cost.side
			p.cost = sum
			p.note = "no llvm-mca model; sum of " + strings.Join(c.parts, " + ")
		}
	}
	for i := range probes {
		p := &probes[i]
		plain, isRep := strings.CutPrefix(p.asm, "rep ")
		if !isRep {
			if plain, isRep = strings.CutPrefix(p.asm, "repe "); !isRep {
				plain, isRep = strings.CutPrefix(p.asm, "repne ")
			}
		}
		if !isRep {
			continue
		}
		c, err := row(plain)
		if err != nil {
			return err
		}
		p.cost = c
		p.note = "one iteration = the row of " + plain
	}
	for _, p := range probes {
		if p.cost.latency == placeholderLatency {
			return fmt.Errorf("%q still has llvm-mca's placeholder latency; add an override", p.asm)
		}
	}
	return nil
}

// compose sums the uops, port groups and load/store flags of parts; the latency is that of
// latencyOf.
func compose(row func(string) (cost, error), latencyOf string, parts []string) (cost, error) {
	var sum cost
	lat, err := row(latencyOf)
	if err != nil {
		return sum, err
	}
	sum.latency = lat.latency
	for _, asm := range parts {
		c, err := row(asm)
		if err != nil {
			return sum, err
		}
		sum.uops += c.uops
		sum.rthroughputFP += c.rthroughputFP
		sum.load = sum.load || c.load
		sum.store = sum.store || c.store
		sum.dividerFP += c.dividerFP
		sum.fpDividerFP += c.fpDividerFP
		for _, g := range c.groups {
			sum.groups = addGroup(sum.groups, g)
		}
	}
	return sum, nil
}

func addGroup(gs []group, g group) []group {
	for i := range gs {
		if gs[i].mask == g.mask {
			gs[i].uopsFP += g.uopsFP
			return gs
		}
	}
	return append(gs, g)
}
