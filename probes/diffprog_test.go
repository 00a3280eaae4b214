package probes

import (
	"encoding/binary"

	"golang.org/x/arch/x86/x86asm"

	"github.com/probesim/probesim/emu/insn"
)

// The programs of the differential test (diff_test.go).
//
// Each runs one instruction from a known state and writes what it left,
// so that the same program can run natively and under probesim, probed or
// not, and the outputs be compared byte for byte. Its memory:
//
//	lowBase..lowEnd    rw-  data the registers point into (a pattern in its
//	                        first part), the stack (sp's own page), the
//	                        signal stack and the output buffers
//	codeBase           r-x  prologue, dump, signal handler, landing
//	                        trampolines; the instruction's pages filled with
//	                        int3, so that landing anywhere unforeseen traps
//	                        at a known place
//	highBase..highEnd  rw-  where disp32 = 0x44332211 (decode.txt's filler
//	                        bytes) sends [reg+disp32] and [rip+disp32]
//
// The prologue installs handlers for SIGILL, SIGTRAP, SIGBUS, SIGFPE and
// SIGSEGV on the signal stack, loads xmm0-7 (xmm0-15) with patterns, sets
// sp, the flags (CF, AF, SF, OF) and every other general register to a
// distinct pointer into the data, and jumps to the instruction. Every
// place the instruction can go to by design (the next instruction, a
// relative branch's target inside the instruction's pages) is a landing:
// a jump to a trampoline that records which landing it was and goes to the
// dump. The dump saves every general register, the flags, the FXSAVE image
// (x87, MXCSR, every xmm), the stack from 0x180 below sp to 0x80 above it
// and 64 bytes at every address the instruction accesses (emu/insn's
// Accesses, from the known registers), then writes it all to stdout and
// exits 0. A signal instead writes the signal number, the interrupted ip,
// si_addr and si_code, and exits 0.

const (
	lowBase   = 0x20000
	lowEnd    = 0x200000
	patBytes  = 0x5000   // the pattern's length from lowBase
	regBase   = 0x20100  // the first register's value
	regStep   = 0x340    // between two registers' values
	diffSP    = 0x24e00  // sp at the instruction: its own page, the pattern's last
	xmmInit   = 0x24800  // the xmm registers' initial values
	cfgAddr   = 0x24400  // stack_t and the sigaction in the pattern
	altStack  = 0x1f0000 // the signal stack (0x8000 bytes)
	privStack = 0x1fc000 // the dump's own stack, for pushf
	dumpBuf   = 0x1e0000 // the dump record
	faultBuf  = 0x1ec000 // the signal record
	fxArea    = 0x1e8000 // FXSAVE's image (16-aligned)
	landingAt = 0x1e7ff0 // the landing number the trampoline stores

	codeBase  = 0x400000
	testPage  = 0x401000 // two pages of int3 around the instruction
	trampBase = 0x403000
	codeLen   = 0x4000
	testAt    = testPage + 0x800 // the instruction's usual place

	highBase = 0x44350000
	highEnd  = 0x44740000

	stackBelow, stackAbove = 0x180, 0x80
	winBytes               = 64
	maxWindows             = 4
)

// The dump record's layout (offsets in dumpBuf). The two records are told
// apart by their lengths.
const (
	dLanding = 8    // the landing number
	dRegs    = 16   // 16 registers, x86 order, 8 bytes each
	dFlags   = 144  // eflags/rflags
	dFX      = 160  // 512 bytes of FXSAVE
	dStack   = 672  // stackBelow+stackAbove bytes; zero when sp was not in the data
	dWindows = 1088 // maxWindows windows of winBytes
	dumpLen  = dWindows + maxWindows*winBytes
	fLen     = 40 // the signal record: 0, signo, ip, si_addr, si_code
)

// FXSAVE bytes that depend on the CPU, not on the instruction: FOP, the
// last x87 instruction and operand pointers (AMD saves them only when an
// exception is pending) and MXCSR_MASK. The comparison ignores them.
var fxVolatile = [][2]int{{6, 24}, {28, 32}}

// diffRegValue is register r's value (x86 order) before the instruction.
func diffRegValue(r int) uint64 {
	if r == 4 {
		return diffSP
	}
	return regBase + uint64(r)*regStep
}

// diffFlags: CF, AF, SF and OF set, ZF and PF clear, IF and bit 1.
const diffFlags = 0x893 | 0x200

// diffCase is one program: an instruction at an address in a mode.
type diffCase struct {
	name string // the hex bytes, or a hand-written case's name
	mode int
	code []byte // the instruction
	at   uint64 // its address (testAt unless a page-edge case)
	// setup runs after the registers are set, before the jump; nil for
	// none. It must keep the flags (only mov and lea).
	setup func(a *asm)
	// execStack maps the data (and stack) executable too.
	execStack bool
	// landings are places in the instruction's pages an indirect branch
	// goes to, made landings like the next instruction.
	landings []uint64
	// sp is the stack pointer the setup gives the instruction (0: diffSP).
	sp uint64
}

// spBefore is sp at the instruction.
func (c diffCase) spBefore() uint64 {
	if c.sp != 0 {
		return c.sp
	}
	return diffSP
}

// dasm is an asm for one mode.
type dasm struct {
	asm
	mode int
}

func (a *dasm) rex(w bool, reg, rm int) {
	if a.mode != 64 {
		return
	}
	b := byte(0x40)
	if w {
		b |= 8
	}
	if reg >= 8 {
		b |= 4
	}
	if rm >= 8 {
		b |= 1
	}
	if b != 0x40 || w {
		a.raw(b)
	}
}

// storeAbs is mov [addr], r (the full register).
func (a *dasm) storeAbs(r int, addr uint32) {
	a.rex(a.mode == 64, r, 0)
	if a.mode == 64 {
		a.raw(0x89, byte(0x04|(r&7)<<3), 0x25).u32(addr)
	} else {
		a.raw(0x89, byte(0x05|(r&7)<<3)).u32(addr)
	}
}

// loadAbs is mov r, [addr].
func (a *dasm) loadAbs(r int, addr uint32) {
	a.rex(a.mode == 64, r, 0)
	if a.mode == 64 {
		a.raw(0x8b, byte(0x04|(r&7)<<3), 0x25).u32(addr)
	} else {
		a.raw(0x8b, byte(0x05|(r&7)<<3)).u32(addr)
	}
}

// movImm32 is mov r32, imm (zero-extended in 64-bit mode).
func (a *dasm) movImm32(r int, v uint32) {
	a.rex(false, 0, r)
	a.raw(0xb8 + byte(r&7)).u32(v)
}

// syscall enters the kernel with the mode's instruction.
func (a *dasm) syscall() {
	if a.mode == 64 {
		a.raw(0x0f, 0x05)
	} else {
		a.raw(0xcd, 0x80)
	}
}

// sysArgs sets a syscall's number and up to four arguments.
func (a *dasm) sysArgs(nr uint32, args ...uint32) {
	a.movImm32(0, nr)
	regs := []int{7, 6, 2, 10} // rdi, rsi, rdx, r10
	if a.mode == 32 {
		regs = []int{3, 1, 2, 6} // ebx, ecx, edx, esi
	}
	for i, v := range args {
		a.movImm32(regs[i], v)
	}
}

// jmpTo is jmp rel32 from the current place at base+len to target.
func (a *dasm) jmpTo(base, target uint64) {
	rel := rel32(target, base+uint64(len(a.b))+5)
	a.raw(0xe9).u32(rel)
}

// syscall numbers per mode.
func nrs(mode int) (write, exitGroup, rtSigaction, sigaltstack, exit uint32) {
	if mode == 64 {
		return 1, 231, 13, 131, 60
	}
	return 4, 252, 174, 186, 1
}

// diffProgram is a built case: the ELF image and what the dump covers.
type diffProgram struct {
	elf     []byte
	windows []insn.Access // the accessed addresses the dump copies
	inst    x86asm.Inst
}

// buildDiff builds c's program. inst is c.code decoded in c.mode.
func buildDiff(c diffCase, inst x86asm.Inst) diffProgram {
	mode := c.mode
	code := make([]byte, codeLen)
	for i := range code {
		code[i] = 0xcc
	}
	put := func(at uint64, b []byte) { copy(code[at-codeBase:], b) }
	write, exitGroup, rtSigaction, sigaltstack, exit := nrs(mode)

	// The exit stub the signal frame's restorer points at (never used:
	// the handler exits itself).
	a := &dasm{mode: mode}
	restorer := uint64(codeBase)
	a.sysArgs(exit, 0)
	a.syscall()

	// The signal handler.
	handler := codeBase + uint64(len(a.b))
	if mode == 64 {
		// rdi = signo, rsi = siginfo, rdx = ucontext.
		a.storeAbs(7, faultBuf+8)
		a.raw(0x48, 0x8b, 0x82).u32(168) // mov rax, [rdx+168]: uc_mcontext.rip
		a.storeAbs(0, faultBuf+16)
		a.raw(0x48, 0x8b, 0x46, 16) // mov rax, [rsi+16]: si_addr
		a.storeAbs(0, faultBuf+24)
		a.raw(0x8b, 0x46, 8) // mov eax, [rsi+8]: si_code
		a.storeAbs(0, faultBuf+32)
	} else {
		a.raw(0x8b, 0x44, 0x24, 4) // mov eax, [esp+4]: signo
		a.storeAbs(0, faultBuf+8)
		a.raw(0x8b, 0x44, 0x24, 12) // mov eax, [esp+12]: ucontext
		a.raw(0x8b, 0x40, 76)       // mov eax, [eax+76]: uc_mcontext.eip
		a.storeAbs(0, faultBuf+16)
		a.raw(0x8b, 0x44, 0x24, 8) // mov eax, [esp+8]: siginfo
		a.raw(0x8b, 0x48, 12)      // mov ecx, [eax+12]: si_addr
		a.storeAbs(1, faultBuf+24)
		a.raw(0x8b, 0x40, 8) // mov eax, [eax+8]: si_code
		a.storeAbs(0, faultBuf+32)
	}
	a.sysArgs(write, 1, faultBuf, fLen)
	a.syscall()
	a.sysArgs(exitGroup, 0)
	a.syscall()

	// The dump.
	dump := codeBase + uint64(len(a.b))
	for r := 0; r < 16; r++ {
		if mode == 32 && r >= 8 {
			break
		}
		a.storeAbs(r, uint32(dumpBuf+dRegs+8*r))
	}
	a.movImm32(4, privStack)
	a.raw(0x9c) // pushf; pop [dumpBuf+dFlags]
	if mode == 64 {
		a.raw(0x8f, 0x04, 0x25).u32(uint32(dumpBuf + dFlags))
	} else {
		a.raw(0x8f, 0x05).u32(uint32(dumpBuf + dFlags))
	}
	a.raw(0xfc) // cld
	// The stack window, if sp was inside the data.
	a.loadAbs(6, uint32(dumpBuf+dRegs+8*4))
	a.rex(a.mode == 64, 0, 6)
	a.raw(0x81, 0xee).u32(stackBelow) // sub rsi, stackBelow
	a.rex(a.mode == 64, 0, 6)
	a.raw(0x81, 0xfe).u32(lowBase) // cmp rsi, lowBase
	a.raw(0x72, 0)                 // jb skip (patched)
	jb1 := len(a.b)
	a.rex(a.mode == 64, 0, 6)
	a.raw(0x81, 0xfe).u32(dumpBuf - stackBelow - stackAbove) // cmp rsi, below the buffers
	a.raw(0x73, 0)                                           // jae skip (patched)
	jb2 := len(a.b)
	a.movImm32(7, dumpBuf+dStack)
	a.movImm32(1, stackBelow+stackAbove)
	a.raw(0xf3, 0xa4) // rep movsb
	a.b[jb1-1] = byte(len(a.b) - jb1)
	a.b[jb2-1] = byte(len(a.b) - jb2)
	if mode == 64 { // fxsave [fxArea]
		a.raw(0x0f, 0xae, 0x04, 0x25).u32(fxArea)
	} else {
		a.raw(0x0f, 0xae, 0x05).u32(fxArea)
	}
	a.movImm32(6, fxArea)
	a.movImm32(7, dumpBuf+dFX)
	a.movImm32(1, 512)
	a.raw(0xf3, 0xa4)
	windows := accessWindows(c, inst)
	for i, w := range windows {
		a.movImm32(6, uint32(w.Addr))
		a.movImm32(7, uint32(dumpBuf+dWindows+i*winBytes))
		a.movImm32(1, uint32(w.Size))
		a.raw(0xf3, 0xa4)
	}
	a.loadAbs(0, landingAt)
	a.storeAbs(0, dumpBuf+dLanding)
	a.sysArgs(write, 1, dumpBuf, dumpLen)
	a.syscall()
	a.sysArgs(exitGroup, 0)
	a.syscall()

	// The prologue: the entry point.
	entry := codeBase + uint64(len(a.b))
	a.sysArgs(sigaltstack, cfgAddr, 0)
	a.syscall()
	for _, sig := range []uint32{4, 5, 7, 8, 11} {
		a.sysArgs(rtSigaction, sig, cfgAddr+0x40, 0, 8)
		a.syscall()
	}
	nxmm := 8
	if mode == 64 {
		nxmm = 16
	}
	for x := 0; x < nxmm; x++ {
		a.raw(0xf3) // movdqu xmm, [abs]
		if x >= 8 {
			a.raw(0x44)
		}
		if mode == 64 {
			a.raw(0x0f, 0x6f, byte(0x04|(x&7)<<3), 0x25).u32(uint32(xmmInit + 16*x))
		} else {
			a.raw(0x0f, 0x6f, byte(0x05|(x&7)<<3)).u32(uint32(xmmInit + 16*x))
		}
	}
	a.movImm32(4, diffSP)
	a.raw(0x68).u32(diffFlags).raw(0x9d) // push flags; popf
	for r := 0; r < 16; r++ {
		if r == 4 || (mode == 32 && r >= 8) {
			continue
		}
		a.movImm32(r, uint32(diffRegValue(r)))
	}
	if c.setup != nil {
		c.setup(&a.asm)
	}
	a.jmpTo(codeBase, c.at)
	if uint64(len(a.b)) > testPage-codeBase {
		panic("diff program: prologue and dump overflow their page")
	}
	put(codeBase, a.b)

	// The instruction and its landings.
	put(c.at, c.code)
	next := c.at + uint64(len(c.code))
	landings := append([]uint64{next}, c.landings...)
	for _, arg := range inst.Args {
		if r, ok := arg.(x86asm.Rel); ok {
			t := next + uint64(int64(r))
			if mode == 32 {
				t = uint64(uint32(t))
			}
			landings = append(landings, t)
		}
	}
	used := map[uint64]bool{}
	for k, l := range landings {
		// A landing needs its 5 bytes inside the instruction's pages, clear
		// of the instruction and of the other landings; else the int3
		// there traps, which tells the place as well.
		if l < testPage || l+5 > trampBase || (l+5 > c.at && l < next) {
			continue
		}
		clear := true
		for i := l; i < l+5; i++ {
			if used[i] {
				clear = false
			}
		}
		if !clear {
			continue
		}
		for i := l; i < l+5; i++ {
			used[i] = true
		}
		tr := trampBase + uint64(16*k)
		b := &dasm{mode: mode}
		b.jmpTo(l, tr)
		put(l, b.b)
		t := &dasm{mode: mode}
		if mode == 64 {
			t.raw(0xc6, 0x04, 0x25).u32(landingAt).raw(byte(k + 1))
		} else {
			t.raw(0xc6, 0x05).u32(landingAt).raw(byte(k + 1))
		}
		t.jmpTo(tr, dump)
		put(tr, t.b)
	}

	// The data: the pattern, the xmm values, stack_t and the sigaction.
	data := make([]byte, patBytes)
	for i := range data {
		data[i] = byte(i*7 + i>>8 + 0x5a)
	}
	le := binary.LittleEndian
	cfg := data[cfgAddr-lowBase:]
	clear(cfg[:0x80])
	const saSiginfo, saOnstack, saRestorer = 4, 0x08000000, 0x04000000
	if mode == 64 {
		le.PutUint64(cfg[0:], altStack) // ss_sp
		le.PutUint32(cfg[8:], 0)        // ss_flags
		le.PutUint64(cfg[16:], 0x8000)  // ss_size
		le.PutUint64(cfg[0x40:], handler)
		le.PutUint64(cfg[0x48:], saSiginfo|saOnstack|saRestorer)
		le.PutUint64(cfg[0x50:], restorer)
		le.PutUint64(cfg[0x58:], 0) // mask
	} else {
		le.PutUint32(cfg[0:], altStack)
		le.PutUint32(cfg[4:], 0)
		le.PutUint32(cfg[8:], 0x8000)
		le.PutUint32(cfg[0x40:], uint32(handler))
		le.PutUint32(cfg[0x44:], saSiginfo|saOnstack|saRestorer)
		le.PutUint32(cfg[0x48:], uint32(restorer))
	}
	return diffProgram{elf: diffELF(mode, entry, code, data, c.execStack), windows: windows, inst: inst}
}

// accessWindows are the 64-byte windows at the addresses inst accesses
// from the known registers that lie wholly in the data or the high area
// (the stack window covers sp's), at most maxWindows.
func accessWindows(c diffCase, inst x86asm.Inst) []insn.Access {
	var regs insn.Regs
	for r := 0; r < 16; r++ {
		regs.GPR[r] = diffRegValue(r)
	}
	var out []insn.Access
	for _, acc := range insn.Accesses(inst, c.at, c.mode, regs) {
		w := insn.Access{Addr: acc.Addr, Size: winBytes}
		inside := (w.Addr >= lowBase && w.Addr+w.Size <= dumpBuf-0x10000) || (w.Addr >= highBase && w.Addr+w.Size <= highEnd)
		if inside && len(out) < maxWindows {
			out = append(out, w)
		}
	}
	return out
}

// diffELF is the static executable: code at codeBase (r-x), the data at
// lowBase (rw-, the pattern file-backed, the rest zero), the high area
// (rw-, zero), and a non-executable stack unless exec.
func diffELF(mode int, entry uint64, code, pattern []byte, exec bool) []byte {
	type seg struct {
		vaddr, off, filesz, memsz uint64
		flags                     uint32
	}
	const r, w, x = 4, 2, 1
	dataFlags := uint32(r | w)
	if exec {
		dataFlags |= x
	}
	segs := []seg{ // in address order, as PT_LOADs must be
		{lowBase, 0x1000 + uint64(len(code)), uint64(len(pattern)), lowEnd - lowBase, dataFlags},
		{codeBase, 0x1000, uint64(len(code)), uint64(len(code)), r | x},
		{highBase, 0, 0, highEnd - highBase, r | w},
	}
	le := binary.LittleEndian
	var h []byte
	phnum := len(segs) + 1
	if mode == 64 {
		h = make([]byte, 64+56*phnum)
		copy(h, "\x7fELF\x02\x01\x01")
		le.PutUint16(h[16:], 2)  // ET_EXEC
		le.PutUint16(h[18:], 62) // EM_X86_64
		le.PutUint32(h[20:], 1)  // version
		le.PutUint64(h[24:], entry)
		le.PutUint64(h[32:], 64) // phoff
		le.PutUint16(h[52:], 64) // ehsize
		le.PutUint16(h[54:], 56) // phentsize
		le.PutUint16(h[56:], uint16(phnum))
		le.PutUint16(h[58:], 64) // shentsize
		for i, s := range segs {
			p := h[64+56*i:]
			le.PutUint32(p[0:], 1) // PT_LOAD
			le.PutUint32(p[4:], s.flags)
			le.PutUint64(p[8:], s.off)
			le.PutUint64(p[16:], s.vaddr)
			le.PutUint64(p[24:], s.vaddr)
			le.PutUint64(p[32:], s.filesz)
			le.PutUint64(p[40:], s.memsz)
			le.PutUint64(p[48:], 0x1000)
		}
		p := h[64+56*len(segs):]
		le.PutUint32(p[0:], 0x6474e551) // PT_GNU_STACK
		le.PutUint32(p[4:], dataFlags)
		le.PutUint64(p[48:], 16)
	} else {
		h = make([]byte, 52+32*phnum)
		copy(h, "\x7fELF\x01\x01\x01")
		le.PutUint16(h[16:], 2)
		le.PutUint16(h[18:], 3) // EM_386
		le.PutUint32(h[20:], 1)
		le.PutUint32(h[24:], uint32(entry))
		le.PutUint32(h[28:], 52)
		le.PutUint16(h[40:], 52)
		le.PutUint16(h[42:], 32)
		le.PutUint16(h[44:], uint16(phnum))
		le.PutUint16(h[46:], 40)
		for i, s := range segs {
			p := h[52+32*i:]
			le.PutUint32(p[0:], 1)
			le.PutUint32(p[4:], uint32(s.off))
			le.PutUint32(p[8:], uint32(s.vaddr))
			le.PutUint32(p[12:], uint32(s.vaddr))
			le.PutUint32(p[16:], uint32(s.filesz))
			le.PutUint32(p[20:], uint32(s.memsz))
			le.PutUint32(p[24:], s.flags)
			le.PutUint32(p[28:], 0x1000)
		}
		p := h[52+32*len(segs):]
		le.PutUint32(p[0:], 0x6474e551)
		le.PutUint32(p[24:], dataFlags)
		le.PutUint32(p[28:], 16)
	}
	img := make([]byte, 0x1000+len(code)+len(pattern))
	copy(img, h)
	copy(img[0x1000:], code)
	copy(img[0x1000+len(code):], pattern)
	return img
}
