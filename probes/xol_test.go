package probes

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/emu/uc"
	"github.com/probesim/probesim/smp"
)

// Out-of-line against in-place execution, one instruction at a time.
//
// Each case is a tiny static program, built here as an ELF file: a
// prologue gives every general-purpose register a distinct value, fills the
// 128 bytes below sp with a pattern (the x86-64 red zone), sets the flags,
// runs the case's own setup and jumps to the instruction under test. Every
// way out of the instruction (the fallthrough, a short and a far branch
// target) is a landing that exits. The program runs on one vCPU without a
// probe (the instruction in place, as the CPU runs it), then probed at the
// instruction with ssol-stack and xol (slot copy, TF step, fixups, through
// the engine's real trap path) and with inline. At the first landing a watch
// captures every general-purpose register, ip and flags, the stack from
// below what the instruction may write (and the red zone) to above its sp,
// and the data page; the captures must be identical.
//
// Each case also runs with sp moved near the bottom of its page: exactly
// as low as still leaves room for the slot below the instruction's stack
// writes and the red zone (the slot is then adjacent to them, and must not
// overlap), and 8 bytes lower, where there is no room and the hit falls
// back to inline stepping (the page is not the stack's lowest).

// xolLayout is where a test program's parts live.
type xolLayout struct {
	mode     int
	code     uint64 // prologue
	test     uint64 // the instruction under test
	short    uint64 // a branch target within rel8 reach of test
	far      uint64 // a branch target beyond it
	data     uint64 // a read-write page
	dataSize int
}

func layoutFor(mode int) xolLayout {
	if mode == 64 {
		return xolLayout{mode: 64, code: 0x401000, test: 0x401400, short: 0x401480, far: 0x401600, data: 0x603000, dataSize: 8192}
	}
	return xolLayout{mode: 32, code: 0x8049000, test: 0x8049400, short: 0x8049480, far: 0x8049600, data: 0x804c000, dataSize: 8192}
}

// lowStackAt is where a lowStack case's sp starts: the data's second page,
// so that a slot at the bottom of sp's page is not over the first page's
// data (ssol-stack trusts that page's bottom to be free).
const lowStackAt = 0x1e00

// asm is a little machine-code builder.
type asm struct{ b []byte }

func (a *asm) raw(b ...byte) *asm { a.b = append(a.b, b...); return a }
func (a *asm) u32(v uint32) *asm  { a.b = binary.LittleEndian.AppendUint32(a.b, v); return a }
func (a *asm) u64(v uint64) *asm  { a.b = binary.LittleEndian.AppendUint64(a.b, v); return a }

// movImm sets general-purpose register r (0-15 in Intel order: ax, cx, dx,
// bx, sp, bp, si, di, r8-r15) to v.
func (a *asm) movImm(mode int, r int, v uint64) *asm {
	if mode == 32 {
		return a.raw(0xb8 + byte(r)).u32(uint32(v))
	}
	rex := byte(0x48)
	if r >= 8 {
		rex |= 0x01
	}
	return a.raw(rex, 0xb8+byte(r&7)).u64(v)
}

// rel32 is the displacement of a branch ending at next to target.
func rel32(target, next uint64) uint32 { return uint32(int32(int64(target) - int64(next))) }

// exitCode is exit_group(0).
func exitCode(mode int) []byte {
	if mode == 64 {
		return []byte{0xb8, 0xe7, 0, 0, 0, 0x31, 0xff, 0x0f, 0x05}
	}
	return []byte{0xb8, 0xfc, 0, 0, 0, 0x31, 0xdb, 0xcd, 0x80}
}

// regValues are the registers' initial values (sp excluded), distinct in
// every byte so that a swapped or clobbered register shows.
func regValue(mode, r int) uint64 {
	v := 0x1111111111111111*uint64(r+1) ^ 0x0123456789abcdef
	if mode == 32 {
		v &= 0xffffffff
	}
	return v
}

// The initial flags: CF, AF, SF and OF set, ZF and PF clear, and the
// reserved bit 1; IF as user mode always has it.
const xolFlags = 0x893 | 0x200

// xolCase is one instruction under test.
type xolCase struct {
	name  string
	class Class
	modes []int
	// setup runs after the common prologue (l is the program's layout).
	setup func(l xolLayout, a *asm)
	// insn is the instruction's bytes at l.test.
	insn func(l xolLayout) []byte
	// lands is where it must go: "next", "short" or "far".
	lands string
}

// lowStack cases run the instruction with sp in the data page, below 4
// GiB (and not at the places in sp's page the other cases try).
var lowStack = map[string]bool{"lcall m16:32": true}

func bothModes() []int     { return []int{32, 64} }
func onlyMode(m int) []int { return []int{m} }

// ripTo is the disp32 of a RIP-relative operand at test+off in an
// instruction of length n, addressing addr.
func ripTo(l xolLayout, n int, addr uint64) uint32 { return rel32(addr, l.test+uint64(n)) }

func xolCases() []xolCase {
	none := func(xolLayout, *asm) {}
	b := func(bs ...byte) func(xolLayout) []byte { return func(xolLayout) []byte { return bs } }
	setReg := func(r int, f func(l xolLayout) uint64) func(xolLayout, *asm) {
		return func(l xolLayout, a *asm) { a.movImm(l.mode, r, f(l)) }
	}
	far := func(l xolLayout) uint64 { return l.far }
	data := func(l xolLayout) uint64 { return l.data }
	pushFar := func(l xolLayout, a *asm) { a.raw(0x68).u32(uint32(l.far)) }
	const ax, cx, bx, si = 0, 1, 3, 6
	return []xolCase{
		// Relative jumps: the ip fix.
		{"jmp rel8", ClassRelJump, bothModes(), none, b(0xeb, 0x7e), "short"},
		{"jmp rel32", ClassRelJump, bothModes(), none, func(l xolLayout) []byte {
			return (&asm{}).raw(0xe9).u32(rel32(l.far, l.test+5)).b
		}, "far"},
		{"jnz taken", ClassRelJump, bothModes(), none, b(0x75, 0x7e), "short"},
		{"jz not taken", ClassRelJump, bothModes(), none, b(0x74, 0x7e), "next"},
		{"jo rel32 taken", ClassRelJump, bothModes(), none, func(l xolLayout) []byte {
			return (&asm{}).raw(0x0f, 0x80).u32(rel32(l.far, l.test+6)).b
		}, "far"},
		{"loop taken", ClassRelJump, bothModes(), setReg(cx, func(xolLayout) uint64 { return 5 }), b(0xe2, 0x7e), "short"},
		{"loop not taken", ClassRelJump, bothModes(), setReg(cx, func(xolLayout) uint64 { return 1 }), b(0xe2, 0x7e), "next"},
		{"jecxz taken", ClassRelJump, bothModes(), setReg(cx, func(xolLayout) uint64 { return 0 }), b(0xe3, 0x7e), "short"},
		// Calls: the ip fix and the pushed return address.
		{"call rel32", ClassRelCall, bothModes(), none, func(l xolLayout) []byte {
			return (&asm{}).raw(0xe8).u32(rel32(l.far, l.test+5)).b
		}, "far"},
		{"call reg", ClassIndirectCall, bothModes(), setReg(ax, far), b(0xff, 0xd0), "far"},
		{"call [reg]", ClassIndirectCall, bothModes(), setReg(bx, data), b(0xff, 0x13), "far"},
		// Returns and indirect jumps: no ip fix.
		{"ret", ClassRet, bothModes(), pushFar, b(0xc3), "far"},
		{"ret imm16", ClassRet, bothModes(), func(l xolLayout, a *asm) {
			a.raw(0x68).u32(0x5a5a5a5a)
			pushFar(l, a)
		}, b(0xc2, 0x08, 0x00), "far"},
		{"jmp reg", ClassIndirectJump, bothModes(), setReg(ax, far), b(0xff, 0xe0), "far"},
		{"jmp [reg]", ClassIndirectJump, bothModes(), setReg(bx, data), b(0xff, 0x23), "far"},
		// Flags.
		{"pushf", ClassPushf, bothModes(), none, b(0x9c), "next"},
		{"popf", ClassPopf, bothModes(), func(_ xolLayout, a *asm) { a.raw(0x68).u32(0x2d7) }, b(0x9d), "next"},
		// Plain instructions and stack writes.
		{"add reg", ClassPlain, bothModes(), none, b(0x01, 0xd8), "next"},
		{"imul", ClassPlain, bothModes(), none, b(0x69, 0xc3, 0x78, 0x56, 0x34, 0x12), "next"},
		{"lock add [reg]", ClassPlain, bothModes(), setReg(bx, data), b(0xf0, 0x01, 0x03), "next"},
		{"xchg [reg]", ClassPlain, bothModes(), setReg(bx, data), b(0x87, 0x03), "next"},
		{"store below sp", ClassPlain, bothModes(), none, b(0x89, 0x4c, 0x24, 0xf8), "next"},
		{"push reg", ClassStackWrite, bothModes(), none, b(0x50), "next"},
		{"push imm32", ClassStackWrite, bothModes(), none, b(0x68, 0x44, 0x33, 0x22, 0x11), "next"},
		{"pop reg", ClassPlain, bothModes(), none, b(0x5b), "next"},
		{"enter", ClassStackWrite, bothModes(), none, b(0xc8, 0x20, 0x00, 0x00), "next"},
		{"leave", ClassPlain, bothModes(), func(l xolLayout, a *asm) {
			a.raw(0x50) // push ax: the saved frame pointer leave pops
			if l.mode == 64 {
				a.raw(0x48)
			}
			a.raw(0x89, 0xe5) // mov bp, sp
		}, b(0xc9), "next"},
		{"pusha", ClassStackWrite, onlyMode(32), none, b(0x60), "next"},
		{"mov abs", ClassPlain, onlyMode(32), none, func(l xolLayout) []byte { return (&asm{}).raw(0xa1).u32(uint32(l.data + 8)).b }, "next"},
		{"push r15", ClassStackWrite, onlyMode(64), none, b(0x41, 0x57), "next"},
		// RIP-relative operands (64-bit): the copy addresses off a scratch
		// register.
		{"mov rax, [rip]", ClassRIPRelative, onlyMode(64), none, func(l xolLayout) []byte {
			return (&asm{}).raw(0x48, 0x8b, 0x05).u32(ripTo(l, 7, l.data+8)).b
		}, "next"},
		{"mov [rip], rsi", ClassRIPRelative, onlyMode(64), none, func(l xolLayout) []byte {
			return (&asm{}).raw(0x48, 0x89, 0x35).u32(ripTo(l, 7, l.data+16)).b
		}, "next"},
		{"add [rip], imm8", ClassRIPRelative, onlyMode(64), none, func(l xolLayout) []byte {
			return (&asm{}).raw(0x83, 0x05).u32(ripTo(l, 7, l.data+24)).raw(0x07).b
		}, "next"},
		{"lea rsi, [rip]", ClassRIPRelative, onlyMode(64), none, func(l xolLayout) []byte {
			return (&asm{}).raw(0x48, 0x8d, 0x35).u32(ripTo(l, 7, l.far)).b
		}, "next"},
		{"mov r8, [rip]", ClassRIPRelative, onlyMode(64), setReg(si, data), func(l xolLayout) []byte {
			return (&asm{}).raw(0x4c, 0x8b, 0x05).u32(ripTo(l, 7, l.data+8)).b
		}, "next"},
		// pause and the nops: the engine drops a step's #DB after pause
		// (emu/uc/doc.go), so they are emulated as the nops they are.
		{"pause", ClassPlain, bothModes(), none, b(0xf3, 0x90), "next"},
		{"nop", ClassPlain, bothModes(), none, b(0x90), "next"},
		{"nopw", ClassPlain, bothModes(), none, b(0x66, 0x90), "next"},
		{"nopl 5", ClassPlain, bothModes(), none, b(0x0f, 0x1f, 0x44, 0x00, 0x00), "next"},
		{"nopw 9", ClassPlain, bothModes(), none, b(0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00), "next"},
		// Far calls through memory: the pushed return address is an
		// operand-size word (4 bytes, then the selector's 4-byte slot),
		// not one 8-byte address, and only it is fixed. (With 32-bit
		// operands in 64-bit mode the engine pushes through sp's low 32
		// bits, an engine deviation: the case runs with sp below 4 GiB.)
		{"lcall m16:32", ClassIndirectCall, bothModes(), func(l xolLayout, a *asm) {
			a.movImm(l.mode, bx, l.data)
			sel := uint32(0x23) // __USER32_CS
			if l.mode == 64 {
				sel = 0x33 // __USER_CS
			}
			a.raw(0x66, 0xc7, 0x43, 0x04).raw(byte(sel), byte(sel>>8)) // mov word [bx+4], sel
		}, b(0xff, 0x1b), "far"},
		{"call [rip]", ClassIndirectCall, onlyMode(64), none, func(l xolLayout) []byte {
			return (&asm{}).raw(0xff, 0x15).u32(ripTo(l, 6, l.data)).b
		}, "far"},
		{"jmp [rip]", ClassIndirectJump, onlyMode(64), none, func(l xolLayout) []byte {
			return (&asm{}).raw(0xff, 0x25).u32(ripTo(l, 6, l.data)).b
		}, "far"},
	}
}

// xolProgram is one test program: a case in a mode, with sp where the
// loader left it (place 0) or at byte place of its page at the
// instruction.
type xolProgram struct {
	c     xolCase
	l     xolLayout
	place uint64
	lift  uint64 // bytes the case's setup pushes
	path  string
}

// wordOf is the stack word of mode.
func wordOf(mode int) int { return mode / 8 }

// prologue is the code before the instruction, up to (not including) the
// jump to it, and the offset of the case's setup in it.
func (p xolProgram) prologue() (*asm, int) {
	mode, a := p.l.mode, &asm{}
	for r := 0; r < 16; r++ {
		if r == 4 || (mode == 32 && r >= 8) {
			continue // sp; r8-r15 do not exist in 32-bit mode
		}
		a.movImm(mode, r, regValue(mode, r))
	}
	rex := func() {
		if mode == 64 {
			a.raw(0x48)
		}
	}
	if lowStack[p.c.name] {
		a.movImm(mode, 4, p.l.data+lowStackAt)
	}
	if p.place != 0 {
		rex()
		a.raw(0x81, 0xe4).u32(0xfffff000) // and sp, -4096
		rex()
		a.raw(0x81, 0xc4).u32(uint32(p.place + p.lift)) // add sp, place+lift
	}
	// The red-zone pattern: the 128 bytes below sp, a word at a time (ax's
	// value, its low byte counting), then the flags.
	word := wordOf(mode)
	for i := 1; i <= 128/word; i++ {
		a.raw(0x04, byte(i)) // add al, i
		rex()
		a.raw(0x89, 0x44, 0x24, byte(-i*word)) // mov [sp-i*word], ax
	}
	a.movImm(mode, 0, regValue(mode, 0))
	a.raw(0x68).u32(xolFlags).raw(0x9d) // push imm; popf
	setupAt := len(a.b)
	p.c.setup(p.l, a)
	return a, setupAt
}

// jumpAt is the address of the prologue's jump to the instruction.
func (p xolProgram) jumpAt() uint64 {
	a, _ := p.prologue()
	return p.l.code + uint64(len(a.b))
}

// build writes the program to dir.
func (p *xolProgram) build(t *testing.T, dir string) {
	t.Helper()
	l, mode := p.l, p.l.mode
	a, _ := p.prologue()
	a.raw(0xe9).u32(rel32(l.test, p.jumpAt()+5))
	require.Less(t, len(a.b), int(l.test-l.code), "prologue too long")
	code := bytes.Repeat([]byte{0xf4}, int(l.far-l.code)+len(exitCode(mode))) // hlt faults if reached
	copy(code, a.b)
	insn := p.c.insn(l)
	copy(code[l.test-l.code:], insn)
	for _, land := range []uint64{l.test + uint64(len(insn)), l.short, l.far} {
		copy(code[land-l.code:], exitCode(mode))
	}
	data := make([]byte, l.dataSize)
	for i := 0; i < l.dataSize; i += 8 {
		binary.LittleEndian.PutUint64(data[i:], 0x0706050403020100+uint64(i)*0x0808080808080808)
	}
	// The first data word is the far target (call/jmp through memory).
	if mode == 64 {
		binary.LittleEndian.PutUint64(data, l.far)
	} else {
		binary.LittleEndian.PutUint32(data, uint32(l.far))
	}
	p.path = filepath.Join(dir, fmt.Sprintf("xol%d-%d", mode, p.place))
	require.NoError(t, os.WriteFile(p.path, staticELF(mode, l.code, code, l.data, data), 0o755))
}

// staticELF is a static executable: code at codeAddr (r-x), data at
// dataAddr (rw-), a non-executable stack (PT_GNU_STACK without PF_X),
// entry at codeAddr, no sections.
func staticELF(mode int, codeAddr uint64, code []byte, dataAddr uint64, data []byte) []byte {
	const codeOff, dataOff = 0x1000, 0x2000
	var out bytes.Buffer
	w := func(v any) { _ = binary.Write(&out, binary.LittleEndian, v) }
	ident := [elf.EI_NIDENT]byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)}
	rx, rw := uint32(elf.PF_R|elf.PF_X), uint32(elf.PF_R|elf.PF_W)
	if mode == 64 {
		w(elf.Header64{Ident: ident, Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_X86_64), Version: 1,
			Entry: codeAddr, Phoff: 64, Ehsize: 64, Phentsize: 56, Phnum: 3, Shentsize: 64})
		w(elf.Prog64{Type: uint32(elf.PT_LOAD), Flags: rx, Off: codeOff, Vaddr: codeAddr, Paddr: codeAddr,
			Filesz: uint64(len(code)), Memsz: uint64(len(code)), Align: 0x1000})
		w(elf.Prog64{Type: uint32(elf.PT_LOAD), Flags: rw, Off: dataOff, Vaddr: dataAddr, Paddr: dataAddr,
			Filesz: uint64(len(data)), Memsz: uint64(len(data)), Align: 0x1000})
		w(elf.Prog64{Type: uint32(elf.PT_GNU_STACK), Flags: rw, Align: 16})
	} else {
		ident[elf.EI_CLASS] = byte(elf.ELFCLASS32)
		w(elf.Header32{Ident: ident, Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_386), Version: 1,
			Entry: uint32(codeAddr), Phoff: 52, Ehsize: 52, Phentsize: 32, Phnum: 3, Shentsize: 40})
		w(elf.Prog32{Type: uint32(elf.PT_LOAD), Flags: rx, Off: codeOff, Vaddr: uint32(codeAddr), Paddr: uint32(codeAddr),
			Filesz: uint32(len(code)), Memsz: uint32(len(code)), Align: 0x1000})
		w(elf.Prog32{Type: uint32(elf.PT_LOAD), Flags: rw, Off: dataOff, Vaddr: uint32(dataAddr), Paddr: uint32(dataAddr),
			Filesz: uint32(len(data)), Memsz: uint32(len(data)), Align: 0x1000})
		w(elf.Prog32{Type: uint32(elf.PT_GNU_STACK), Flags: rw, Align: 16})
	}
	img := make([]byte, dataOff+len(data))
	copy(img, out.Bytes())
	copy(img[codeOff:], code)
	copy(img[dataOff:], data)
	return img
}

// xolState is what a landing saw.
type xolState struct {
	Landing uint64
	Regs    []uint64 // every general-purpose register, then ip and flags
	Stack   []byte   // from below what the instruction may write to sp+64
	Data    []byte
	// Where sp was: at the case's setup and at the instruction.
	spSetup, spTest uint64
}

// below is how far under sp the instruction's state reaches: what it may
// write there implicitly, and the red zone on x86-64. fit is how far above
// its page's start sp must be for a slot to fit under that, with the 8
// bytes the 2006 repost keeps free at least.
func (p xolProgram) below(t *testing.T) (below, fit uint64) {
	inst, err := Check(p.c.insn(p.l), p.l.mode)
	require.NoError(t, err)
	writes, redZone := uint64(StackWriteBytes(inst, p.l.mode)), uint64(0)
	if p.l.mode == 64 {
		redZone = 128 // the x86-64 psABI's red zone
	}
	return writes + redZone, max(8, writes) + redZone + maxInsnSize
}

// run runs the program, probed at the instruction with s ("" = no probe),
// and returns what the first landing saw.
func (p xolProgram) run(t *testing.T, s Strategy) (xolState, *Engine) {
	t.Helper()
	l, mode := p.l, p.l.mode
	m, err := smp.New(smp.Config{Program: p.path, Seed: 1})
	require.NoError(t, err)
	defer m.Close()
	regs := []uc.Reg{uc.RAX, uc.RCX, uc.RDX, uc.RBX, uc.RSP, uc.RBP, uc.RSI, uc.RDI,
		uc.R8, uc.R9, uc.R10, uc.R11, uc.R12, uc.R13, uc.R14, uc.R15, uc.RIP, uc.EFLAGS}
	if mode == 32 {
		regs = []uc.Reg{uc.EAX, uc.ECX, uc.EDX, uc.EBX, uc.ESP, uc.EBP, uc.ESI, uc.EDI, uc.EIP, uc.EFLAGS}
	}
	var st xolState
	var fail error
	below, _ := p.below(t)
	capture := func(ev smp.WatchEvent) {
		if st.Regs != nil {
			return
		}
		st.Landing = ev.Addr
		st.Regs = make([]uint64, len(regs))
		st.Stack = make([]byte, below+64)
		st.Data = make([]byte, 4096) // the first page: the second is a lowStack case's stack
		fail = errors.Join(m.ReadRegs(regs, st.Regs),
			m.AddressSpace().ReadForce(st.spTest-below, st.Stack),
			m.AddressSpace().ReadForce(l.data, st.Data))
	}
	insn := p.c.insn(l)
	for _, land := range []uint64{l.test + uint64(len(insn)), l.short, l.far} {
		require.NoError(t, m.Watch(land, capture))
	}
	// sp at the setup and at the jump (one watch when the setup is empty).
	_, setupAt := p.prologue()
	setup, jump := l.code+uint64(setupAt), p.jumpAt()
	require.NoError(t, m.Watch(setup, func(smp.WatchEvent) {
		st.spSetup = m.SP()
		if setup == jump {
			st.spTest = st.spSetup
		}
	}))
	if setup != jump {
		require.NoError(t, m.Watch(jump, func(smp.WatchEvent) { st.spTest = m.SP() }))
	}
	var e *Engine
	if s != "" {
		spec, err := Resolve(m.Image(), fmt.Sprintf("%#x", l.test))
		require.NoError(t, err)
		require.Equal(t, p.c.class, spec.Class, "class of % x", insn)
		e, err = Attach(m, []Spec{spec}, s, nil)
		require.NoError(t, err)
	}
	r, err := m.Run()
	require.NoError(t, err)
	require.NoError(t, fail)
	require.Equal(t, "exit", r.StopReason, "%s: fault %+v", s, r.Fault)
	require.NotNil(t, st.Regs, "no landing reached")
	if e != nil {
		res := e.Results()[0]
		require.Equal(t, uint64(1), res.Hits, "%s", s)
		require.Zero(t, res.Misses, "%s", s)
	}
	return st, e
}

// TestOutOfLineMatchesInPlace: for every fixup class, in both modes where
// it exists, the instruction stepped out of line (and inline) leaves every
// register, the stack around sp (red zone included) and the data exactly as
// running it in place does, and goes to the same place; with sp as the
// loader left it, as low in its page as a slot still fits, and lower (which
// matters only on the stack: an XOL slot is never near sp).
func TestOutOfLineMatchesInPlace(t *testing.T) {
	classes := map[int]map[Class]bool{32: {}, 64: {}}
	for _, c := range xolCases() {
		for _, mode := range c.modes {
			t.Run(fmt.Sprintf("%d/%s", mode, c.name), func(t *testing.T) {
				dir := t.TempDir()
				natural := xolProgram{c: c, l: layoutFor(mode)}
				natural.build(t, dir)
				want, _ := natural.run(t, "")
				l := natural.l
				land := map[string]uint64{"next": l.test + uint64(len(c.insn(l))), "short": l.short, "far": l.far}[c.lands]
				require.Equal(t, land, want.Landing, "in place, the instruction went elsewhere")
				compare := func(p xolProgram, want xolState, s Strategy, atStart uint64) {
					t.Helper()
					got, e := p.run(t, s)
					if s == SSOLStack {
						require.Equal(t, atStart, e.Stats().StackStart, "sp at %#x: slots at the stack VMA's start", p.place)
						require.Zero(t, e.Stats().InlineFallback, "sp at %#x: inline fallbacks", p.place)
						require.Equal(t, uint64(1), e.Stats().NXFlips, "the stack is NX")
					}
					if s == XOL {
						st := e.Stats()
						require.Zero(t, st.InlineFallback+st.NXFlips+st.StackStart, "sp at %#x", p.place)
						require.Equal(t, uint64(1), st.XOLSlotsMaxInUse+st.Emulated, "a slot, or emulated")
					}
					require.Equal(t, want.spTest, got.spTest)
					require.Equal(t, want.Landing, got.Landing, "%s: landing", s)
					require.Equal(t, want.Regs, got.Regs, "%s: registers (ax cx dx bx sp bp si di [r8-r15] ip flags)", s)
					require.Equal(t, want.Stack, got.Stack, "%s: stack", s)
					require.Equal(t, want.Data, got.Data, "%s: data", s)
				}
				compare(natural, want, SSOLStack, 0)
				compare(natural, want, XOL, 0)
				compare(natural, want, Inline, 0)

				// sp as low as a slot still fits under what the instruction
				// may write, then 8 bytes lower, then 16 bytes into the page
				// (where a slot at the page's start would sit inside the
				// red zone or under the instruction's stack writes).
				classes[mode][c.class] = true
				if lowStack[c.name] {
					return
				}
				lift := want.spSetup - want.spTest
				_, fit := natural.below(t)
				for _, place := range []uint64{fit, fit - 8, 16} {
					if place == 16 && fit-8 == 16 {
						continue
					}
					p := xolProgram{c: c, l: l, place: place, lift: lift}
					p.build(t, dir)
					in, _ := p.run(t, "")
					require.Equal(t, place, in.spTest%4096, "sp's place in its page")
					atStart := uint64(0)
					if place < fit {
						atStart = 1 // no room in sp's page: the VMA's start
					}
					compare(p, in, SSOLStack, atStart)
					compare(p, in, XOL, 0)
				}
				classes[mode][c.class] = true
			})
		}
	}
	// Every class a probe can step is covered in both modes.
	for _, mode := range []int{32, 64} {
		for _, cl := range []Class{ClassPlain, ClassRelJump, ClassRelCall, ClassIndirectCall, ClassRet,
			ClassIndirectJump, ClassPushf, ClassPopf, ClassStackWrite} {
			require.True(t, classes[mode][cl], "mode %d: no case of class %s", mode, cl)
		}
	}
	require.True(t, classes[64][ClassRIPRelative])
}
