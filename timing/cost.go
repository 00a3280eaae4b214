package timing

import (
	"github.com/probesim/probesim/timing/internal/x86form"
	"golang.org/x/arch/x86/x86asm"
)

// BlockCost is the cost of one execution of a basic block.
type BlockCost struct {
	Insns     uint32 // instructions, counting an undecodable tail as one
	CostFP    uint64 // cycles x256 charged per execution
	Undecoded int    // bytes of the undecodable tail (0: the whole block decoded)
	Untabled  uint32 // decoded instructions without a table row, charged defaultCost

	// The terms of CostFP = max(IssueFP, PortsFP, DividerFP, chain) + SerialFP, where chain is
	// LoopFP or PathFP as Profile.Chain selects. All cycles x256.
	IssueFP   uint64 // total uops / issue width
	PortsFP   uint64 // port pressure
	DividerFP uint64 // busy time of the non-pipelined dividers
	LoopFP    uint64 // loop-carried dependency chain per iteration
	PathFP    uint64 // one-shot critical path through the block
	SerialFP  uint64 // serializing instructions (cpuid)
}

// defaultCost is charged for an instruction the table does not know and for an undecodable
// tail: one ALU uop of latency 1, like a simple integer instruction.
var defaultCost = insnCost{Uops: 1, Latency: 1, Groups: []portGroup{{p0156, fpOne}}}

// tableLoadLatency is the load-to-use latency built into the generated Skylake rows
// (llvm-mca's SKL model: 5 cycles, its ReadAfterLd advance).
const tableLoadLatency = 5

// CostBlock computes the cost of the basic block whose bytes are code, decoded in mode 32
// or 64. addr is the block's guest address; the model does not depend on it (branch
// displacements are relative), and it is taken so callers need not special-case it if a
// future model does. Decoding stops at the first undecodable instruction: the rest of the
// block counts as one instruction of defaultCost and its length is reported in Undecoded.
// Any other mode makes the whole block undecodable.
//
// CostBlock does not modify the profile and is safe for concurrent use as long as no Set
// or Override runs at the same time.
func (p *Profile) CostBlock(code []byte, addr uint64, mode int) BlockCost {
	_ = addr
	var bc BlockCost
	var chain chainState
	chain.reset()
	var ports portLoad
	var uops, divider, fpDivider uint64
	// fused counts uops in the fused domain, which is what the front end
	// issues per cycle: a load micro-fuses with its operation, and a
	// flag-setting ALU instruction macro-fuses with a following jcc
	// (Intel optimization manual, "Micro-fusion" and "Macro-fusion"). The
	// issue bound uses it; ports see the unfused uops.
	var fused uint64
	prevFusible := false
	table := p.table
	if table == nil {
		table, _ = lookupInsnTable(p.InsnTable) // a Profile built without Validate
	}
	loadLat := int32(p.LoadLatency)
	charge := func(c *insnCost) {
		uops += uint64(c.Uops)
		for _, g := range c.Groups {
			ports.add(g.Mask, uint64(g.UopsFP))
		}
		divider += uint64(c.DividerFP)
		fpDivider += uint64(c.FPDividerFP)
	}
	var formBuf [64]byte
	for off := 0; off < len(code); {
		inst, ok := decodeOne(code[off:], mode)
		if !ok {
			bc.Undecoded = len(code) - off
			bc.Insns++
			charge(&defaultCost)
			fused += uint64(defaultCost.Uops)
			break
		}
		_, rep := x86form.RepPrefix(&inst)
		cost, found := lookupCost(table, &inst, formBuf[:0])
		if !found {
			bc.Untabled++
		}
		acc := analyze(&inst, rep)
		f := uint64(cost.Uops)
		if cost.Load && f >= 2 {
			f-- // the load micro-fuses
		}
		if prevFusible && isJcc(inst.Op) && f > 0 {
			f-- // macro-fused with the flag-setting instruction before it
		}
		fused += f
		prevFusible = macroFusible(&inst)
		lat := int32(cost.Latency)
		if cost.Load {
			lat = max(1, lat+loadLat-tableLoadLatency)
		}
		if acc.zeroIdiom {
			// Eliminated at rename: issues, but takes no port and no time (llvm-mca's
			// Skylake model does the same).
			uops += uint64(cost.Uops)
			lat = 0
		} else {
			charge(&cost)
		}
		if inst.Op == x86asm.CPUID {
			bc.SerialFP += p.CPUIDCycles * fpOne
		}
		chain.apply(&acc, lat, loadLat, cost.Load)
		bc.Insns++
		off += inst.Len
	}
	width := uint64(max(p.IssueWidth, 1))
	bc.IssueFP = fused * fpOne / width
	bc.PortsFP = ports.boundFP()
	bc.DividerFP = max(divider, fpDivider)
	bc.LoopFP = chain.loopCarriedFP()
	bc.PathFP = uint64(chain.path) * fpOne
	chainFP := bc.LoopFP
	if p.Chain == ChainCriticalPath {
		chainFP = bc.PathFP
	}
	bc.CostFP = max(bc.IssueFP, bc.PortsFP, bc.DividerFP, chainFP) + bc.SerialFP
	return bc
}

// decodeOne decodes the instruction at the start of code. endbr64/endbr32 (F3 0F 1E FA/FB),
// which x86asm v0.33 decodes as a one-byte REP with no op, are returned as 4-byte NOPs. An
// error, an op-less result (a lone prefix) or an unsupported mode is not ok.
func decodeOne(code []byte, mode int) (x86asm.Inst, bool) {
	if mode != 32 && mode != 64 {
		return x86asm.Inst{}, false
	}
	if len(code) >= 4 && code[0] == 0xF3 && code[1] == 0x0F && code[2] == 0x1E &&
		(code[3] == 0xFA || code[3] == 0xFB) {
		return x86asm.Inst{Op: x86asm.NOP, Len: 4, Mode: mode}, true
	}
	inst, err := x86asm.Decode(code, mode)
	if err != nil || inst.Op == 0 || inst.Len <= 0 {
		return x86asm.Inst{}, false
	}
	return inst, true
}

// lookupCost finds inst's row: the exact form, else the same form at another operand width,
// else (for a memory operand) the register form plus one load uop on ports 2/3 and the load
// latency. found is false when it falls back to defaultCost.
func lookupCost(t *insnTable, inst *x86asm.Inst, buf []byte) (insnCost, bool) {
	if t == nil {
		return defaultCost, false
	}
	form := x86form.Append(buf, inst)
	if r := t.exact(inst.Op, form); r != nil {
		return r.Cost, true
	}
	if r := t.sameShape(inst.Op, form); r != nil {
		return r.Cost, true
	}
	for _, kind := range []string{"r", "x"} {
		var alt [64]byte
		regForm, ok := replaceMem(alt[:0], form, kind)
		if !ok {
			break
		}
		if r := t.sameShape(inst.Op, regForm); r != nil {
			c := r.Cost
			c.Uops++
			c.Latency += tableLoadLatency // rescaled to the profile's load latency by the caller
			c.Load = true
			c.Groups = append(append([]portGroup(nil), c.Groups...), portGroup{p23, fpOne})
			return c, true
		}
	}
	return defaultCost, false
}

// replaceMem rewrites the first memory token of form ("m32", "m", "mc") as kind.
func replaceMem(dst, form []byte, kind string) ([]byte, bool) {
	start := 0
	for i := 0; i <= len(form); i++ {
		if i < len(form) && form[i] != ',' && form[i] != ' ' {
			continue
		}
		if start < i && form[start] == 'm' && (i-start == 1 || form[start+1] != 'm') {
			dst = append(dst, form[:start]...)
			dst = append(dst, kind...)
			return append(dst, form[i:]...), true
		}
		start = i + 1
	}
	return dst, false
}

// macroFusible reports whether inst can macro-fuse with a following jcc on
// Skylake: cmp, test, add, sub, and, inc, dec without a memory operand
// combined with an immediate.
func macroFusible(inst *x86asm.Inst) bool {
	switch inst.Op {
	case x86asm.CMP, x86asm.TEST, x86asm.ADD, x86asm.SUB, x86asm.AND, x86asm.INC, x86asm.DEC:
	default:
		return false
	}
	hasMem, hasImm := false, false
	for _, a := range inst.Args {
		switch a.(type) {
		case x86asm.Mem:
			hasMem = true
		case x86asm.Imm:
			hasImm = true
		}
	}
	return !(hasMem && hasImm)
}

// isJcc reports whether op is a conditional jump.
func isJcc(op x86asm.Op) bool {
	switch op {
	case x86asm.JA, x86asm.JAE, x86asm.JB, x86asm.JBE, x86asm.JE, x86asm.JG, x86asm.JGE, x86asm.JL,
		x86asm.JLE, x86asm.JNE, x86asm.JNO, x86asm.JNP, x86asm.JNS, x86asm.JO, x86asm.JP, x86asm.JS:
		return true
	}
	return false
}
