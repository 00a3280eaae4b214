package mcacheck

import (
	"encoding/hex"
	"fmt"

	"golang.org/x/arch/x86/x86asm"
)

// Block is one basic block of the corpus: machine code and the mode it runs in.
type Block struct {
	Name   string `json:"name"`   // unique, e.g. "fixture/x86_64/loop/_start.loop0"
	Mode   int    `json:"mode"`   // 32 or 64
	Hex    string `json:"hex"`    // the block's bytes, lowercase hex without spaces
	Source string `json:"source"` // where the bytes come from
}

// Code returns the block's bytes.
func (b Block) Code() ([]byte, error) {
	code, err := hex.DecodeString(b.Hex)
	if err != nil {
		return nil, fmt.Errorf("block %s: bad hex: %v", b.Name, err)
	}
	if len(code) == 0 {
		return nil, fmt.Errorf("block %s: no bytes", b.Name)
	}
	if b.Mode != 32 && b.Mode != 64 {
		return nil, fmt.Errorf("block %s: mode must be 32 or 64, got %d", b.Name, b.Mode)
	}
	return code, nil
}

// insn is one decoded instruction of a block or function.
type insn struct {
	off    int // offset from the start of the decoded code
	len    int // length in bytes
	op     x86asm.Op
	target int    // offset of a direct branch or call target, when hasRel
	hasRel bool   // a direct (relative) branch or call
	flow   bool   // ends a basic block (any control transfer)
	text   string // Intel syntax, for messages
}

// decodeAll decodes code linearly. endbr64/endbr32, which x86asm v0.33 misdecodes, are taken
// as 4-byte NOPs, as the timing package does. It stops with an error at the first byte that
// does not decode; stopAtFlow stops after the first control transfer instead.
func decodeAll(code []byte, mode int, stopAtFlow bool) ([]insn, error) {
	var out []insn
	for off := 0; off < len(code); {
		in, err := decodeAt(code, off, mode)
		if err != nil {
			return out, err
		}
		out = append(out, in)
		off += in.len
		if stopAtFlow && in.flow {
			break
		}
	}
	return out, nil
}

func decodeAt(code []byte, off, mode int) (insn, error) {
	rest := code[off:]
	if len(rest) >= 4 && rest[0] == 0xf3 && rest[1] == 0x0f && rest[2] == 0x1e &&
		(rest[3] == 0xfa || rest[3] == 0xfb) {
		return insn{off: off, len: 4, op: x86asm.NOP, text: "endbr"}, nil
	}
	inst, err := x86asm.Decode(rest, mode)
	if err != nil || inst.Op == 0 || inst.Len <= 0 {
		return insn{}, fmt.Errorf("undecodable bytes at offset %#x: % x", off, rest[:min(len(rest), 15)])
	}
	in := insn{off: off, len: inst.Len, op: inst.Op, flow: isFlow(inst.Op),
		text: x86asm.IntelSyntax(inst, uint64(off), nil)}
	for _, a := range inst.Args {
		if r, ok := a.(x86asm.Rel); ok {
			in.hasRel = true
			in.target = off + inst.Len + int(r)
		}
	}
	return in, nil
}

// isFlow reports whether op ends a basic block: every jump, call, return, trap and system
// call, as in the emulator, whose block hook fires once per translated block.
func isFlow(op x86asm.Op) bool {
	switch op {
	case x86asm.JA, x86asm.JAE, x86asm.JB, x86asm.JBE, x86asm.JCXZ, x86asm.JE, x86asm.JECXZ,
		x86asm.JG, x86asm.JGE, x86asm.JL, x86asm.JLE, x86asm.JMP, x86asm.JNE, x86asm.JNO,
		x86asm.JNP, x86asm.JNS, x86asm.JO, x86asm.JP, x86asm.JRCXZ, x86asm.JS,
		x86asm.LOOP, x86asm.LOOPE, x86asm.LOOPNE, x86asm.CALL, x86asm.LCALL, x86asm.LJMP,
		x86asm.RET, x86asm.LRET, x86asm.IRET, x86asm.IRETD, x86asm.IRETQ,
		x86asm.SYSCALL, x86asm.SYSENTER, x86asm.SYSEXIT, x86asm.SYSRET,
		x86asm.INT, x86asm.INTO, x86asm.UD1, x86asm.UD2, x86asm.HLT:
		return true
	}
	return false
}

// span is a block inside a function: byte offsets [start, end).
type span struct{ start, end int }

// entryBlock is the block at offset 0: up to and including the first control transfer.
func entryBlock(insns []insn) (span, error) {
	for _, in := range insns {
		if in.flow {
			return span{0, in.off + in.len}, nil
		}
	}
	return span{}, fmt.Errorf("no control transfer found")
}

// selfLoops lists, in address order, the blocks that branch back to their own start: a
// direct jump at offset b to an instruction boundary t < b with no other control transfer in
// [t, b). These are the single-block loops, the blocks a hot loop runs back to back.
func selfLoops(insns []insn) []span {
	index := make(map[int]int, len(insns)) // instruction start offset -> position
	for i, in := range insns {
		index[in.off] = i
	}
	var loops []span
	for i, in := range insns {
		if !in.hasRel || in.op == x86asm.CALL || in.target >= in.off {
			continue
		}
		j, ok := index[in.target]
		if !ok {
			continue
		}
		clean := true
		for k := j; k < i; k++ {
			if insns[k].flow {
				clean = false
				break
			}
		}
		if clean {
			loops = append(loops, span{in.target, in.off + in.len})
		}
	}
	// Branches are visited in address order and two self-loops cannot overlap (neither may
	// contain the other's branch), so loops are already in order of their start.
	return loops
}
