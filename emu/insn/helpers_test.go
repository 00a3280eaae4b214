package insn

import "golang.org/x/arch/x86/x86asm"

// Block addresses the tests decode at: a 64-bit and a 32-bit text address.
const (
	text64 = 0x401000
	text32 = 0x8049000
)

// reg sets one register for regsWith: R is the 64-bit name (RAX..R15).
type reg struct {
	R x86asm.Reg
	V uint64
}

// regsWith returns a register file whose unnamed GPRs point far from every
// address the tests fault at (0x5550_4000_0000 + i<<24, 0x4000_0000 + i<<24
// when read as 32 bits), so that only the named registers can produce a
// match, then applies sets.
func regsWith(sets ...reg) Regs {
	var r Regs
	for i := range r.GPR {
		r.GPR[i] = 0x5550_4000_0000 + uint64(i)<<24
	}
	for _, s := range sets {
		r.GPR[s.R-x86asm.RAX] = s.V
	}
	return r
}

// cat concatenates instruction encodings into one block.
func cat(insns ...[]byte) []byte {
	var code []byte
	for _, in := range insns {
		code = append(code, in...)
	}
	return code
}
