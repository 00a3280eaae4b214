package probes

import (
	"fmt"
)

// The hand-written cases of the differential test: branches, calls and
// returns, RIP-relative operands and stack writes where pages end, and
// jumps into code on the stack and to a stack pointer that points into
// code. Landing addresses are in the instruction's two pages (testPage).

const (
	pageEnd   = testPage + 0x1000 // the boundary between the two pages
	landFar   = testPage + 0x1100 // a landing past the boundary
	landBack  = testPage + 0x0100 // a landing well before it
	dataWord  = regBase + 0x2000  // a data word an indirect branch reads
	spPage    = diffSP &^ 0xfff   // the stack page's start
	stackCode = diffSP            // code written on an executable stack
)

// handSetup builds setups: movs that keep the flags.
type handSetup struct{ mode int }

// store32 is mov dword [addr], v.
func (h handSetup) store32(a *asm, addr uint64, v uint32) {
	if h.mode == 64 {
		a.raw(0xc7, 0x04, 0x25).u32(uint32(addr)).u32(v)
	} else {
		a.raw(0xc7, 0x05).u32(uint32(addr)).u32(v)
	}
}

// storeWord stores a stack word (upper half zero in 64-bit mode).
func (h handSetup) storeWord(a *asm, addr, v uint64) {
	h.store32(a, addr, uint32(v))
	if h.mode == 64 {
		h.store32(a, addr+4, uint32(v>>32))
	}
}

// reg sets register r (x86 order) to v.
func (h handSetup) reg(a *asm, r int, v uint32) {
	if r >= 8 {
		a.raw(0x41)
	}
	a.raw(0xb8 + byte(r&7)).u32(v)
}

// relTo encodes a branch opcode with a rel32 at at to target.
func relTo(op []byte, at, target uint64) []byte {
	n := uint64(len(op) + 4)
	return (&asm{}).raw(op...).u32(rel32(target, at+n)).b
}

func diffHandCases() []diffCase {
	var out []diffCase
	for _, mode := range []int{64, 32} {
		h := handSetup{mode}
		add := func(name string, code []byte, at uint64, setup func(*asm), landings ...uint64) {
			out = append(out, diffCase{name: name, mode: mode, code: code, at: at, setup: setup, landings: landings})
		}
		// Relative branches and calls ending at the page boundary, and
		// starting at it.
		add("jmp rel32 ending at a page end", relTo([]byte{0xe9}, pageEnd-5, landFar), pageEnd-5, nil)
		add("call rel32 ending at a page end", relTo([]byte{0xe8}, pageEnd-5, landFar), pageEnd-5, nil)
		add("jb rel32 taken, at a page end", relTo([]byte{0x0f, 0x82}, pageEnd-6, landBack), pageEnd-6, nil)
		add("jz rel8 not taken, falling into the next page", []byte{0x74, 0x10}, pageEnd-2, nil)
		add("jmp rel8 back over the page start", []byte{0xeb, 0x80}, pageEnd, nil)
		add("loop taken at a page end", []byte{0xe2, 0x10}, pageEnd-2, func(a *asm) { h.reg(a, 1, 3) })
		add("jecxz taken at a page end", []byte{0xe3, 0x10}, pageEnd-2, func(a *asm) { h.reg(a, 1, 0) })
		// Indirect branches, calls and returns at the boundary.
		add("call eax at a page end", []byte{0xff, 0xd0}, pageEnd-2, func(a *asm) { h.reg(a, 0, landFar) }, landFar)
		add("jmp [ebx] at a page end", []byte{0xff, 0x23}, pageEnd-2, func(a *asm) {
			h.reg(a, 3, dataWord)
			h.storeWord(a, dataWord, landFar)
		}, landFar)
		add("call [ebx] at a page start", []byte{0xff, 0x13}, pageEnd, func(a *asm) {
			h.reg(a, 3, dataWord)
			h.storeWord(a, dataWord, landBack)
		}, landBack)
		add("ret at a page start", []byte{0xc3}, pageEnd, func(a *asm) { h.storeWord(a, diffSP, landFar) }, landFar)
		add("ret imm16 at a page end", []byte{0xc2, 0x10, 0x00}, pageEnd-3, func(a *asm) { h.storeWord(a, diffSP, landBack) }, landBack)
		// The stack pointer near the bottom of its page: an out-of-line
		// slot below sp fits, just, or does not (the repost's fallbacks).
		redZone := uint64(0)
		if mode == 64 {
			redZone = 128
		}
		word := uint64(mode / 8)
		for _, s := range []struct {
			name  string
			code  []byte
			below uint64 // what the instruction writes below sp
		}{
			{"push eax", []byte{0x50}, word},
			{"call rel32", nil, word},
			{"pushf", []byte{0x9c}, word},
			{"enter 0x20, 2", []byte{0xc8, 0x20, 0x00, 0x02}, 3 * word},
		} {
			fit := max(8, s.below) + redZone + maxInsnSize
			for _, off := range []uint64{fit, fit - 8, 16} {
				if off == 16 && fit-8 == 16 {
					continue
				}
				sp := spPage + off
				code := s.code
				if code == nil {
					code = relTo([]byte{0xe8}, testAt, landFar)
				}
				add(fmt.Sprintf("%s with sp %#x into its page", s.name, off), code, testAt, func(a *asm) {
					h.reg(a, 4, uint32(sp))
					h.reg(a, 5, uint32(sp+0x40)) // ebp: enter's frame
				})
				out[len(out)-1].sp = sp
			}
		}
		add("popf with sp at the bottom of its page", []byte{0x9d}, testAt, func(a *asm) {
			h.reg(a, 4, spPage+8)
			h.storeWord(a, spPage+8, 0x2d7)
		})
		out[len(out)-1].sp = spPage + 8
		// A jump to code on an executable stack, and to a stack pointer
		// that points into the program's code (no slot can be written
		// there: ssol-stack falls back to stepping in place).
		spReg := []byte{0xff, 0xe4} // jmp esp
		c := diffCase{name: "jmp esp into code on the stack", mode: mode, code: spReg, at: testAt, execStack: true, landings: []uint64{landFar},
			setup: func(a *asm) {
				jmp := relTo([]byte{0xe9}, stackCode, landFar)
				h.store32(a, stackCode, uint32(jmp[0])|uint32(jmp[1])<<8|uint32(jmp[2])<<16|uint32(jmp[3])<<24)
				h.store32(a, stackCode+4, uint32(jmp[4]))
			}}
		out = append(out, c)
		add("jmp esp with sp pointing into the code", spReg, testAt, func(a *asm) { h.reg(a, 4, landFar) }, landFar)
		out[len(out)-1].sp = landFar
		if mode == 64 {
			// RIP-relative operands where pages end: loads of the next
			// page's first bytes, a store to the data, lea, and calls and
			// jumps through memory.
			ripAt := func(op []byte, extra int, at, target uint64) []byte {
				n := uint64(len(op) + 4 + extra)
				b := (&asm{}).raw(op...).u32(rel32(target, at+n)).b
				return append(b, make([]byte, extra)...)
			}
			add("mov rax, [rip] reading the next page, at a page end", ripAt([]byte{0x48, 0x8b, 0x05}, 0, pageEnd-7, pageEnd), pageEnd-7, nil)
			add("mov [rip], rsi into the data, at a page end", ripAt([]byte{0x48, 0x89, 0x35}, 0, pageEnd-7, dataWord), pageEnd-7, nil)
			add("lea rsi, [rip] across the page start", ripAt([]byte{0x48, 0x8d, 0x35}, 0, pageEnd, testPage), pageEnd, nil)
			add("cmp dword [rip], imm8 at a page end", ripAt([]byte{0x83, 0x3d}, 1, pageEnd-7, dataWord), pageEnd-7, nil)
			add("cmovb r8, [rip] at a page end", ripAt([]byte{0x4c, 0x0f, 0x42, 0x05}, 0, pageEnd-8, dataWord), pageEnd-8, nil)
			add("call [rip] at a page end", ripAt([]byte{0xff, 0x15}, 0, pageEnd-6, dataWord), pageEnd-6,
				func(a *asm) { h.storeWord(a, dataWord, landFar) }, landFar)
			add("jmp [rip] at a page start", ripAt([]byte{0xff, 0x25}, 0, pageEnd, dataWord), pageEnd,
				func(a *asm) { h.storeWord(a, dataWord, landBack) }, landBack)
			add("lcall m16:32 [ebx]", []byte{0xff, 0x1b}, testAt, func(a *asm) {
				h.reg(a, 3, dataWord)
				h.store32(a, dataWord, landFar)
				h.store32(a, dataWord+4, 0x33)
			}, landFar)
		}
	}
	return out
}
