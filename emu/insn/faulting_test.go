package insn

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/arch/x86/x86asm"
)

// Blocks shared by several cases.
var (
	// 64-bit: the third instruction stores through rax.
	storeThird64 = cat(
		[]byte{0x48, 0x89, 0xd9},       // +0 mov rcx, rbx
		[]byte{0x48, 0x83, 0xc2, 0x10}, // +3 add rdx, 0x10
		[]byte{0x89, 0x58, 0x08},       // +7 mov [rax+0x8], ebx
		[]byte{0xc3},                   // +10 ret
	)
	// 32-bit: the same sequence.
	storeThird32 = cat(
		[]byte{0x89, 0xd9},       // +0 mov ecx, ebx
		[]byte{0x83, 0xc2, 0x10}, // +2 add edx, 0x10
		[]byte{0x89, 0x58, 0x08}, // +5 mov [eax+0x8], ebx
		[]byte{0xc3},             // +8 ret
	)
	// 64-bit: endbr64 then a frame setup and a load through rdi.
	endbrBlock = cat(
		[]byte{0xf3, 0x0f, 0x1e, 0xfa}, // +0 endbr64
		[]byte{0x55},                   // +4 push rbp
		[]byte{0x48, 0x89, 0xe5},       // +5 mov rbp, rsp
		[]byte{0x8b, 0x47, 0x10},       // +8 mov eax, [rdi+0x10]
	)
	// 64-bit: a store, an undecodable opcode, then a store that must not be
	// reached.
	badTail = cat(
		[]byte{0x90},             // +0 nop
		[]byte{0x89, 0x58, 0x08}, // +1 mov [rax+0x8], ebx
		[]byte{0x0f, 0x04},       // +4 (undecodable)
		[]byte{0x89, 0x18},       // +6 mov [rax], ebx
	)
)

func TestFindFaulting(t *testing.T) {
	tests := []struct {
		name   string
		mode   int
		code   []byte
		start  uint64
		regs   Regs
		fault  uint64
		want   uint64
		wantOK bool
	}{
		// Explicit operand in the middle of a block.
		{"64 third insn store", 64, storeThird64, text64, regsWith(reg{x86asm.RAX, 0}), 0x8, text64 + 7, true},
		{"64 third insn store last byte", 64, storeThird64, text64, regsWith(reg{x86asm.RAX, 0}), 0xb, text64 + 7, true},
		{"64 third insn store one past", 64, storeThird64, text64, regsWith(reg{x86asm.RAX, 0}), 0xc, 0, false},
		{"32 third insn store", 32, storeThird32, text32, regsWith(reg{x86asm.RAX, 0xffff_ffff_0000_0000}), 0x8, text32 + 5, true},

		// push at the block start with rsp just above an unmapped page.
		{"64 push at start", 64, cat(
			[]byte{0x55},             // +0 push rbp
			[]byte{0x48, 0x89, 0xe5}, // +1 mov rbp, rsp
		), text64, regsWith(reg{x86asm.RSP, 0x10008}), 0x10000, text64, true},
		{"32 push at start", 32, cat(
			[]byte{0x55},       // +0 push ebp
			[]byte{0x89, 0xe5}, // +1 mov ebp, esp
		), text32, regsWith(reg{x86asm.RSP, 0xdead_0000_0001_0004}), 0x10000, text32, true},

		// call writes the return address below rsp.
		{"64 call", 64, cat(
			[]byte{0x48, 0x8b, 0x07},             // +0 mov rax, [rdi]
			[]byte{0xe8, 0x00, 0x01, 0x00, 0x00}, // +3 call .+0x100
		), text64, regsWith(reg{x86asm.RDI, 0x600000}, reg{x86asm.RSP, 0x7ffe1000}), 0x7ffe0ffc, text64 + 3, true},
		{"32 call", 32, cat(
			[]byte{0x8b, 0x07},                   // +0 mov eax, [edi]
			[]byte{0xe8, 0x00, 0x01, 0x00, 0x00}, // +2 call .+0x100
		), text32, regsWith(reg{x86asm.RSP, 0xbffff000}), 0xbfffeffc, text32 + 2, true},

		// rep stosb at the current rdi.
		{"64 rep stosb", 64, cat(
			[]byte{0x31, 0xc0}, // +0 xor eax, eax
			[]byte{0xf3, 0xaa}, // +2 rep stosb
		), text64, regsWith(reg{x86asm.RDI, 0x7f00_0000_5000}), 0x7f00_0000_5000, text64 + 2, true},
		{"32 rep stosb", 32, cat(
			[]byte{0x31, 0xc0}, // +0 xor eax, eax
			[]byte{0xf3, 0xaa}, // +2 rep stosb
		), text32, regsWith(reg{x86asm.RDI, 0x5000}), 0x5000, text32 + 2, true},
		{"32 rep movsd source", 32, cat(
			[]byte{0x89, 0xc1}, // +0 mov ecx, eax
			[]byte{0xf3, 0xa5}, // +2 rep movsd
		), text32, regsWith(reg{x86asm.RSI, 0x6000}), 0x6003, text32 + 2, true},

		// RIP-relative: the displacement is from the next instruction.
		{"64 rip-relative load", 64, cat(
			[]byte{0x90}, // +0 nop
			[]byte{0x48, 0x8b, 0x05, 0xf9, 0x0f, 0x00, 0x00}, // +1 mov rax, [rip+0xff9] = [0x402001]
		), text64, regsWith(), 0x402005, text64 + 1, true},
		// 32-bit mode has absolute addresses instead.
		{"32 absolute load", 32, cat(
			[]byte{0x90},                         // +0 nop
			[]byte{0xa1, 0x00, 0x20, 0x40, 0x00}, // +1 mov eax, [0x402000]
		), text32, regsWith(), 0x402002, text32 + 1, true},

		// fs: adds FSBase.
		{"64 fs load", 64, cat(
			[]byte{0x48, 0x83, 0xec, 0x18},                               // +0 sub rsp, 0x18
			[]byte{0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0x00, 0x00, 0x00}, // +4 mov rax, fs:[0x28]
		), text64, Regs{GPR: regsWith().GPR, FSBase: 0x7f00_0000_1000}, 0x7f00_0000_1028, text64 + 4, true},
		{"64 fs load without base", 64, cat(
			[]byte{0x48, 0x83, 0xec, 0x18},                               // +0 sub rsp, 0x18
			[]byte{0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0x00, 0x00, 0x00}, // +4 mov rax, fs:[0x28]
		), text64, Regs{GPR: regsWith().GPR, FSBase: 0x7f00_0000_1000}, 0x28, 0, false},

		// 32-bit gs: with GSBase, wrapping at 4 GiB.
		{"32 gs load wraps", 32, cat(
			[]byte{0x89, 0xc8}, // +0 mov eax, ecx
			[]byte{0x65, 0x8b, 0x15, 0x14, 0x00, 0x00, 0x00}, // +2 mov edx, gs:[0x14]
		), text32, Regs{GPR: regsWith().GPR, GSBase: 0xffff_fff0}, 0x4, text32 + 2, true},
		{"32 gs load above 4GiB", 32, cat(
			[]byte{0x89, 0xc8}, // +0 mov eax, ecx
			[]byte{0x65, 0x8b, 0x15, 0x14, 0x00, 0x00, 0x00}, // +2 mov edx, gs:[0x14]
		), text32, Regs{GPR: regsWith().GPR, GSBase: 0xffff_fff0}, 0x1_0000_0004, 0, false},
		// An access that straddles the top of the 32-bit space covers 0.
		{"32 access wraps at 4GiB", 32, cat(
			[]byte{0x8b, 0x43, 0xfc}, // +0 mov eax, [ebx-0x4]
		), text32, regsWith(reg{x86asm.RBX, 0x7777_0000_0000_0002}), 0x1, text32, true},
		{"32 access wraps at 4GiB past end", 32, cat(
			[]byte{0x8b, 0x43, 0xfc}, // +0 mov eax, [ebx-0x4]
		), text32, regsWith(reg{x86asm.RBX, 0x2}), 0x2, 0, false},

		// endbr64 at the block start decodes as a 4-byte nop.
		{"64 endbr64 then load", 64, endbrBlock, text64, regsWith(reg{x86asm.RDI, 0}), 0x10, text64 + 8, true},
		{"64 endbr64 then push", 64, endbrBlock, text64, regsWith(reg{x86asm.RSP, 0x20000}), 0x1fff8, text64 + 4, true},
		{"32 endbr32 then push", 32, cat(
			[]byte{0xf3, 0x0f, 0x1e, 0xfb}, // +0 endbr32
			[]byte{0x55},                   // +4 push ebp
		), text32, regsWith(reg{x86asm.RSP, 0x20000}), 0x1fffc, text32 + 4, true},

		// Nothing in the block touches the fault address.
		{"64 no match", 64, storeThird64, text64, regsWith(reg{x86asm.RAX, 0}), 0xdead0000, 0, false},
		{"32 no match", 32, storeThird32, text32, regsWith(reg{x86asm.RAX, 0}), 0xdead0000, 0, false},

		// An undecodable tail ends the scan without an error.
		{"64 match before undecodable tail", 64, badTail, text64, regsWith(reg{x86asm.RAX, 0}), 0x8, text64 + 1, true},
		{"64 nothing past undecodable tail", 64, badTail, text64, regsWith(reg{x86asm.RAX, 0}), 0x0, 0, false},
		{"64 truncated tail", 64, cat(
			[]byte{0x90},       // +0 nop
			[]byte{0x48, 0x8b}, // +1 mov r64, r/m64 cut short
		), text64, regsWith(reg{x86asm.RAX, 0}), 0x0, 0, false},
		{"32 truncated tail", 32, cat(
			[]byte{0x89, 0x58, 0x08}, // +0 mov [eax+0x8], ebx
			[]byte{0x8b},             // +3 mov r32, r/m32 cut short
		), text32, regsWith(reg{x86asm.RAX, 0}), 0x8, text32, true},

		// The first match wins, even when a later instruction also matches.
		{"64 first of two matches", 64, cat(
			[]byte{0x8b, 0x08}, // +0 mov ecx, [rax]
			[]byte{0x89, 0x08}, // +2 mov [rax], ecx
		), text64, regsWith(reg{x86asm.RAX, 0x1000}), 0x1000, text64, true},

		// Bad arguments.
		{"16-bit mode", 16, storeThird32, text32, regsWith(reg{x86asm.RAX, 0}), 0x8, 0, false},
		{"empty block", 64, nil, text64, regsWith(), 0x8, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, ok := FindFaulting(tt.code, tt.start, tt.mode, tt.regs, tt.fault)
			require.Equal(t, tt.wantOK, ok)
			assert.Equal(t, tt.want, addr)
		})
	}
}

// TestFindFaultingAccesses checks single-instruction blocks: each hit must
// be attributed to the instruction and each miss must not.
func TestFindFaultingAccesses(t *testing.T) {
	tests := []struct {
		name   string
		mode   int
		code   []byte
		regs   Regs
		hits   []uint64
		misses []uint64
	}{
		// 5b             pop rbx
		{"pop", 64, []byte{0x5b}, regsWith(reg{x86asm.RSP, 0x2000}), []uint64{0x2000, 0x2007}, []uint64{0x1fff, 0x2008}},
		// c3             ret
		{"ret", 64, []byte{0xc3}, regsWith(reg{x86asm.RSP, 0x2000}), []uint64{0x2000, 0x2007}, []uint64{0x1ff8, 0x2008}},
		// c2 08 00       ret 0x8 (reads one slot; the immediate only moves rsp)
		{"ret imm", 64, []byte{0xc2, 0x08, 0x00}, regsWith(reg{x86asm.RSP, 0x2000}), []uint64{0x2007}, []uint64{0x2008}},
		// c9             leave (reads at rbp, not rsp)
		{"leave", 64, []byte{0xc9}, regsWith(reg{x86asm.RSP, 0x2000}, reg{x86asm.RBP, 0x3000}), []uint64{0x3000, 0x3007}, []uint64{0x2000, 0x3008}},
		// c8 20 00 00    enter 0x20, 0 (pushes rbp only)
		{"enter level 0", 64, []byte{0xc8, 0x20, 0x00, 0x00}, regsWith(reg{x86asm.RSP, 0x2000}, reg{x86asm.RBP, 0x3000}), []uint64{0x1ff8}, []uint64{0x1ff0, 0x1fe0, 0x2ff8}},
		// c8 20 00 03    enter 0x20, 3 (4 slots pushed, 2 frame pointers copied)
		{"enter level 3", 64, []byte{0xc8, 0x20, 0x00, 0x03}, regsWith(reg{x86asm.RSP, 0x2000}, reg{x86asm.RBP, 0x3000}), []uint64{0x1fe0, 0x1ff8, 0x2ff0, 0x2fff}, []uint64{0x1fdf, 0x2fef, 0x3000}},
		// 9c             pushfq
		{"pushfq", 64, []byte{0x9c}, regsWith(reg{x86asm.RSP, 0x2000}), []uint64{0x1ff8}, []uint64{0x1ff7, 0x2000}},
		// 9d             popfq
		{"popfq", 64, []byte{0x9d}, regsWith(reg{x86asm.RSP, 0x2000}), []uint64{0x2000}, []uint64{0x1fff, 0x2008}},
		// 66 50          push ax (a 2-byte slot)
		{"push ax", 64, []byte{0x66, 0x50}, regsWith(reg{x86asm.RSP, 0x2000}), []uint64{0x1ffe}, []uint64{0x1ffd}},
		// 6a 01          push 0x1
		{"push imm", 64, []byte{0x6a, 0x01}, regsWith(reg{x86asm.RSP, 0x2000}), []uint64{0x1ff8}, []uint64{0x2000}},
		// ff 30          push qword [rax] (reads the operand, writes the stack)
		{"push mem", 64, []byte{0xff, 0x30}, regsWith(reg{x86asm.RAX, 0x4000}, reg{x86asm.RSP, 0x2000}), []uint64{0x4000, 0x4007, 0x1ff8}, []uint64{0x4008, 0x2000}},
		// ff 10          call qword [rax]
		{"call mem", 64, []byte{0xff, 0x10}, regsWith(reg{x86asm.RAX, 0x4000}, reg{x86asm.RSP, 0x2000}), []uint64{0x4000, 0x1ff8}, []uint64{0x4008, 0x2000}},
		// 8f 44 24 08    pop qword [rsp+0x8] (addressed after rsp += 8)
		{"pop mem rsp-based", 64, []byte{0x8f, 0x44, 0x24, 0x08}, regsWith(reg{x86asm.RSP, 0x2000}), []uint64{0x2000, 0x2010, 0x2017}, []uint64{0x2008, 0x2018}},
		// 48 a5          movsq
		{"movsq", 64, []byte{0x48, 0xa5}, regsWith(reg{x86asm.RSI, 0x4000}, reg{x86asm.RDI, 0x5000}), []uint64{0x4000, 0x4007, 0x5000, 0x5007}, []uint64{0x4008, 0x5008}},
		// ad             lodsd
		{"lodsd", 64, []byte{0xad}, regsWith(reg{x86asm.RSI, 0x4000}), []uint64{0x4003}, []uint64{0x4004}},
		// ae             scasb
		{"scasb", 64, []byte{0xae}, regsWith(reg{x86asm.RDI, 0x5000}), []uint64{0x5000}, []uint64{0x5001}},
		// f3 a6          repz cmpsb
		{"repz cmpsb", 64, []byte{0xf3, 0xa6}, regsWith(reg{x86asm.RSI, 0x4000}, reg{x86asm.RDI, 0x5000}), []uint64{0x4000, 0x5000}, []uint64{0x4001, 0x5001}},
		// 65 a4          movsb [rdi], gs:[rsi] (the override applies to the source)
		{"gs movsb", 64, []byte{0x65, 0xa4}, Regs{GPR: regsWith(reg{x86asm.RSI, 0x10}, reg{x86asm.RDI, 0x20}).GPR, GSBase: 0x9000}, []uint64{0x9010, 0x20}, []uint64{0x10, 0x9020}},
		// d7             xlatb (reads [rbx+al])
		{"xlatb", 64, []byte{0xd7}, regsWith(reg{x86asm.RBX, 0x4000}, reg{x86asm.RAX, 0x1234_5605}), []uint64{0x4005}, []uint64{0x4000, 0x4006}},
		// 65 48 8b 03    mov rax, gs:[rbx]
		{"gs load", 64, []byte{0x65, 0x48, 0x8b, 0x03}, Regs{GPR: regsWith(reg{x86asm.RBX, 0x20}).GPR, GSBase: 0x10000}, []uint64{0x10020, 0x10027}, []uint64{0x20, 0x10028}},
		// 4a 8b 04 c3    mov rax, [rbx+r8*8]
		{"base index scale", 64, []byte{0x4a, 0x8b, 0x04, 0xc3}, regsWith(reg{x86asm.RBX, 0x1000}, reg{x86asm.R8, 0x3}), []uint64{0x1018}, []uint64{0x1017, 0x1020}},
		// 67 8b 03       mov eax, [ebx] (the offset wraps at 32 bits)
		{"addr32 in 64-bit", 64, []byte{0x67, 0x8b, 0x03}, regsWith(reg{x86asm.RBX, 0x1_0000_0040}), []uint64{0x40}, []uint64{0x1_0000_0040}},
		// 67 8b 43 10    mov eax, [ebx+0x10] (ebx+0x10 wraps to 0x8 at 32 bits)
		{"addr32 sum wraps", 64, []byte{0x67, 0x8b, 0x43, 0x10}, regsWith(reg{x86asm.RBX, 0xffff_fff8}), []uint64{0x8}, []uint64{0x1_0000_0008}},
		// 48 8d 43 08    lea rax, [rbx+0x8] (no access)
		{"lea", 64, []byte{0x48, 0x8d, 0x43, 0x08}, regsWith(reg{x86asm.RBX, 0}), nil, []uint64{0x8}},
		// 0f 1f 44 00 00 nop dword [rax+rax] (no access)
		{"nop mem", 64, []byte{0x0f, 0x1f, 0x44, 0x00, 0x00}, regsWith(reg{x86asm.RAX, 0}), nil, []uint64{0x0}},
		// 0f 18 00       prefetchnta [rax] (a hint; never faults)
		{"prefetch", 64, []byte{0x0f, 0x18, 0x00}, regsWith(reg{x86asm.RAX, 0x4000}), nil, []uint64{0x4000}},
		// 0f ae 00       fxsave [rax] (512 bytes)
		{"fxsave", 64, []byte{0x0f, 0xae, 0x00}, regsWith(reg{x86asm.RAX, 0x4000}), []uint64{0x4000, 0x41ff}, []uint64{0x4200}},
		// db 28          fld tword [rax] (10 bytes)
		{"fld m80", 64, []byte{0xdb, 0x28}, regsWith(reg{x86asm.RAX, 0x4000}), []uint64{0x4009}, []uint64{0x400a}},
		// d9 00          fld dword [rax]
		{"fld m32", 64, []byte{0xd9, 0x00}, regsWith(reg{x86asm.RAX, 0x4000}), []uint64{0x4003}, []uint64{0x4004}},
		// c5 fe 6f 00    vmovdqu ymm0, [rax] (32 bytes)
		{"vmovdqu ymm", 64, []byte{0xc5, 0xfe, 0x6f, 0x00}, regsWith(reg{x86asm.RAX, 0x4000}), []uint64{0x401f}, []uint64{0x4020}},
		// c4 e2 7d 90 04 88   vpgatherdd ymm0, [rax+ymm1*4], ymm0 (vector index: not modelled)
		{"gather", 64, []byte{0xc4, 0xe2, 0x7d, 0x90, 0x04, 0x88}, regsWith(reg{x86asm.RAX, 0x4000}), nil, []uint64{0x4000}},
		// 66 0f f7 c1    maskmovdqu xmm0, xmm1 (16 bytes at rdi)
		{"maskmovdqu", 64, []byte{0x66, 0x0f, 0xf7, 0xc1}, regsWith(reg{x86asm.RDI, 0x5000}), []uint64{0x500f}, []uint64{0x5010}},
		// cb             lret (two 4-byte slots by default)
		{"lret", 64, []byte{0xcb}, regsWith(reg{x86asm.RSP, 0x2000}), []uint64{0x2007}, []uint64{0x2008}},
		// 48 cf          iretq (five 8-byte slots)
		{"iretq", 64, []byte{0x48, 0xcf}, regsWith(reg{x86asm.RSP, 0x2000}), []uint64{0x2027}, []uint64{0x2028}},

		// 32-bit mode.
		// 60             pushad (eight 4-byte slots)
		{"32 pushad", 32, []byte{0x60}, regsWith(reg{x86asm.RSP, 0x2000}), []uint64{0x1fe0, 0x1fff}, []uint64{0x1fdf, 0x2000}},
		// 61             popad
		{"32 popad", 32, []byte{0x61}, regsWith(reg{x86asm.RSP, 0x2000}), []uint64{0x2000, 0x201f}, []uint64{0x2020}},
		// cf             iretd (three 4-byte slots)
		{"32 iretd", 32, []byte{0xcf}, regsWith(reg{x86asm.RSP, 0x2000}), []uint64{0x200b}, []uint64{0x200c}},
		// c9             leave
		{"32 leave", 32, []byte{0xc9}, regsWith(reg{x86asm.RBP, 0xffff_ffff_0000_3000}), []uint64{0x3003}, []uint64{0x3004}},
		// 5b             pop ebx (esp wraps: pops 0xfffffffe..0x1)
		{"32 pop wraps", 32, []byte{0x5b}, regsWith(reg{x86asm.RSP, 0xffff_fffe}), []uint64{0xffff_fffe, 0x1}, []uint64{0x2}},
		// 66 50          push ax
		{"32 push ax", 32, []byte{0x66, 0x50}, regsWith(reg{x86asm.RSP, 0x2000}), []uint64{0x1ffe}, []uint64{0x1ffd}},
		// ff 15 00 a0 04 08   call dword [0x804a000]
		{"32 call mem", 32, []byte{0xff, 0x15, 0x00, 0xa0, 0x04, 0x08}, regsWith(reg{x86asm.RSP, 0x2000}), []uint64{0x804a003, 0x1ffc}, []uint64{0x804a004, 0x1ffb}},
		// 67 8b 07       mov eax, [bx] (16-bit address size)
		{"32 addr16", 32, []byte{0x67, 0x8b, 0x07}, regsWith(reg{x86asm.RBX, 0x1234_5678}), []uint64{0x5678}, []uint64{0x1234_5678}},
		// 65 a1 14 00 00 00   mov eax, gs:[0x14]
		{"32 gs moffs", 32, []byte{0x65, 0xa1, 0x14, 0x00, 0x00, 0x00}, Regs{GPR: regsWith().GPR, GSBase: 0xf7f0_0000}, []uint64{0xf7f0_0014}, []uint64{0x14}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := uint64(text64)
			if tt.mode == 32 {
				start = text32
			}
			for _, f := range tt.hits {
				addr, ok := FindFaulting(tt.code, start, tt.mode, tt.regs, f)
				require.True(t, ok, "fault %#x should match", f)
				assert.Equal(t, start, addr, "fault %#x", f)
			}
			for _, f := range tt.misses {
				_, ok := FindFaulting(tt.code, start, tt.mode, tt.regs, f)
				assert.False(t, ok, "fault %#x should not match", f)
			}
		})
	}
}

// TestFindFaultingEIPRelative checks a 32-bit address size in 64-bit mode:
// the instruction pointer in the address is the low half of the next ip.
func TestFindFaultingEIPRelative(t *testing.T) {
	// 67 8b 05 10 00 00 00   mov eax, [eip+0x10]
	code := []byte{0x67, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00}
	const start = 0x1_0000_1000 // next ip 0x1_0000_1007, EIP 0x1007
	addr, ok := FindFaulting(code, start, 64, regsWith(), 0x1017)
	require.True(t, ok)
	assert.Equal(t, uint64(start), addr)
	_, ok = FindFaulting(code, start, 64, regsWith(), 0x1_0000_1017)
	assert.False(t, ok)
}
