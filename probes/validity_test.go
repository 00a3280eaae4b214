package probes

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// modes a table row applies to.
var (
	both   = []int{32, 64}
	only32 = []int{32}
	only64 = []int{64}
)

// refusedCase is one hand-assembled instruction Check must refuse.
type refusedCase struct {
	asm    string // disassembly, for the reader
	code   []byte
	modes  []int
	reason string // expected UnprobeableError.Reason, exactly
}

var refusedCases = []refusedCase{
	// Traps into the kernel.
	{"int3", []byte{0xCC}, both, "int3 is the breakpoint instruction itself"},
	{"int 0x80", []byte{0xCD, 0x80}, both, "a software interrupt (int N) enters the kernel"},
	{"int 3 (two-byte form)", []byte{0xCD, 0x03}, both, "a software interrupt (int N) enters the kernel"},
	{"int1 / icebp", []byte{0xF1}, both, "int1 (icebp) raises the debug trap the single-step itself uses"},
	{"into", []byte{0xCE}, only32, "into raises an overflow trap into the kernel"},
	{"iretd", []byte{0xCF}, both, reasonIRET},
	{"iret (16-bit)", []byte{0x66, 0xCF}, both, reasonIRET},
	{"iretq", []byte{0x48, 0xCF}, only64, reasonIRET},
	// Privileged at CPL 3.
	{"hlt", []byte{0xF4}, both, "hlt is privileged"},
	{"cli", []byte{0xFA}, both, "interrupt-flag change is privileged"},
	{"sti", []byte{0xFB}, both, "interrupt-flag change is privileged"},
	{"in al, 0x1", []byte{0xE4, 0x01}, both, reasonPortIO},
	{"in eax, 0x1", []byte{0xE5, 0x01}, both, reasonPortIO},
	{"out 0x1, al", []byte{0xE6, 0x01}, both, reasonPortIO},
	{"out 0x1, eax", []byte{0xE7, 0x01}, both, reasonPortIO},
	{"in al, dx", []byte{0xEC}, both, reasonPortIO},
	{"in eax, dx", []byte{0xED}, both, reasonPortIO},
	{"out dx, al", []byte{0xEE}, both, reasonPortIO},
	{"out dx, eax", []byte{0xEF}, both, reasonPortIO},
	{"insb", []byte{0x6C}, both, reasonPortIO},
	{"insd", []byte{0x6D}, both, reasonPortIO},
	{"outsb", []byte{0x6E}, both, reasonPortIO},
	{"outsd", []byte{0x6F}, both, reasonPortIO},
	{"rep insw", []byte{0xF3, 0x66, 0x6D}, both, reasonPortIO},
	{"clts", []byte{0x0F, 0x06}, both, reasonPrivileged},
	{"invd", []byte{0x0F, 0x08}, both, reasonPrivileged},
	{"wbinvd", []byte{0x0F, 0x09}, both, reasonPrivileged},
	{"wrmsr", []byte{0x0F, 0x30}, both, reasonPrivileged},
	{"rdmsr", []byte{0x0F, 0x32}, both, reasonPrivileged},
	{"mov eax, cr0", []byte{0x0F, 0x20, 0xC0}, both, reasonPrivileged},
	{"mov cr3, eax", []byte{0x0F, 0x22, 0xD8}, both, reasonPrivileged},
	{"mov eax, dr0", []byte{0x0F, 0x21, 0xC0}, both, reasonPrivileged},
	{"mov dr7, eax", []byte{0x0F, 0x23, 0xF8}, both, reasonPrivileged},
	{"invpcid eax, [eax]", []byte{0x66, 0x0F, 0x38, 0x82, 0x00}, both, reasonPrivileged},
	{"rsm", []byte{0x0F, 0xAA}, both, "rsm is valid only in system-management mode"},
	{"getsec", []byte{0x0F, 0x37}, both, "getsec is a privileged SMX instruction"},
	{"vmread eax, eax", []byte{0x0F, 0x78, 0xC0}, both, undecodedTwoByte[0x78]},
	{"vmwrite eax, eax", []byte{0x0F, 0x79, 0xC0}, both, undecodedTwoByte[0x79]},
	// System call entry and return.
	{"syscall", []byte{0x0F, 0x05}, only64, reasonSysEntry},
	{"syscall (32-bit: undecodable on Intel)", []byte{0x0F, 0x05}, only32, undecodedTwoByte[0x05]},
	{"sysret", []byte{0x0F, 0x07}, only64, reasonSysReturn},
	{"sysret (32-bit)", []byte{0x0F, 0x07}, only32, undecodedTwoByte[0x07]},
	{"sysenter", []byte{0x0F, 0x34}, both, reasonSysEntry},
	{"sysexit", []byte{0x0F, 0x35}, both, reasonSysReturn},
	// Undefined on purpose.
	{"ud2", []byte{0x0F, 0x0B}, both, reasonUndefined},
	{"ud1 eax, eax", []byte{0x0F, 0xB9, 0xC0}, both, reasonUndefined},
	{"ud0 eax, eax", []byte{0x0F, 0xFF, 0xC0}, both, reasonUndefined},
	// System groups, whole.
	{"sldt eax", []byte{0x0F, 0x00, 0xC0}, both, reasonGroup0F00},
	{"ltr ax", []byte{0x0F, 0x00, 0xD8}, both, reasonGroup0F00},
	{"verr ax", []byte{0x0F, 0x00, 0xE0}, both, reasonGroup0F00},
	{"sgdt [eax]", []byte{0x0F, 0x01, 0x00}, both, reasonGroup0F01},
	{"lgdt [eax]", []byte{0x0F, 0x01, 0x10}, both, reasonGroup0F01},
	{"smsw eax", []byte{0x0F, 0x01, 0xE0}, both, reasonGroup0F01},
	{"xgetbv", []byte{0x0F, 0x01, 0xD0}, both, reasonGroup0F01},
	{"rdtscp", []byte{0x0F, 0x01, 0xF9}, both, reasonGroup0F01},
	{"swapgs", []byte{0x0F, 0x01, 0xF8}, only64, reasonGroup0F01},
	{"fxsave [eax]", []byte{0x0F, 0xAE, 0x00}, both, reasonGroup0FAE},
	{"fxrstor [eax]", []byte{0x0F, 0xAE, 0x08}, both, reasonGroup0FAE},
	{"ldmxcsr [eax]", []byte{0x0F, 0xAE, 0x10}, both, reasonGroup0FAE},
	{"stmxcsr [eax]", []byte{0x0F, 0xAE, 0x18}, both, reasonGroup0FAE},
	{"xsave [eax]", []byte{0x0F, 0xAE, 0x20}, both, reasonGroup0FAE},
	{"clflush [eax]", []byte{0x0F, 0xAE, 0x38}, both, reasonGroup0FAE},
	{"lfence", []byte{0x0F, 0xAE, 0xE8}, both, reasonGroup0FAE},
	{"mfence", []byte{0x0F, 0xAE, 0xF0}, both, reasonGroup0FAE},
	{"sfence", []byte{0x0F, 0xAE, 0xF8}, both, reasonGroup0FAE},
	{"rdfsbase eax", []byte{0xF3, 0x0F, 0xAE, 0xC0}, only64, reasonGroup0FAE},
	{"rex.w fxsave64 [rax]", []byte{0x48, 0x0F, 0xAE, 0x00}, only64, reasonGroup0FAE},
	// Loading ss holds the trap.
	{"mov ss, eax", []byte{0x8E, 0xD0}, both, reasonLoadSS},
	{"mov ss, [eax]", []byte{0x8E, 0x10}, both, reasonLoadSS},
	{"pop ss", []byte{0x17}, only32, reasonLoadSS},
	// LOCK where the CPU raises #UD.
	{"lock add eax, eax", []byte{0xF0, 0x01, 0xC0}, both, reasonBadLock},
	{"lock mov eax, [ebx]", []byte{0xF0, 0x8B, 0x03}, both, reasonBadLock},
	{"lock nop", []byte{0xF0, 0x90}, both, reasonBadLock},
	{"lock inc eax (32-bit ff /0 register form)", []byte{0xF0, 0xFF, 0xC0}, both, reasonBadLock},
	// 66-prefixed near branches: vendor-dependent operand size.
	{"66 call rel", []byte{0x66, 0xE8, 0x10, 0x00, 0x00, 0x00}, both, reasonBranch66},
	{"66 jmp rel8", []byte{0x66, 0xEB, 0x10}, both, reasonBranch66},
	{"66 jmp rel", []byte{0x66, 0xE9, 0x10, 0x00, 0x00, 0x00}, both, reasonBranch66},
	{"66 jz rel8", []byte{0x66, 0x74, 0x10}, both, reasonBranch66},
	{"66 jz rel", []byte{0x66, 0x0F, 0x84, 0x10, 0x00, 0x00, 0x00}, both, reasonBranch66},
	{"66 loop", []byte{0x66, 0xE2, 0x10}, both, reasonBranch66},
	{"66 call [ebx]", []byte{0x66, 0xFF, 0x13}, both, reasonBranch66},
	{"66 call eax", []byte{0x66, 0xFF, 0xD0}, both, reasonBranch66},
	{"66 jmp [ebx]", []byte{0x66, 0xFF, 0x23}, both, reasonBranch66},
	// Invalid opcodes.
	{"(bad) d6 / salc", []byte{0xD6}, only32, "invalid opcode: the CPU raises #UD"},
	{"(bad) 0f 04", []byte{0x0F, 0x04}, both, "invalid opcode: the CPU raises #UD"},
	{"(bad) 0f ff with no modrm", []byte{0x0F, 0xFF}, both, "truncated instruction (the code ends inside it)"},
	{"truncated call rel32", []byte{0xE8, 0x00, 0x00}, both, "truncated instruction (the code ends inside it)"},
	{"lone prefix", []byte{0x66}, both, "truncated instruction (the code ends inside it)"},
	// Removed from long mode, named with their 32-bit meaning.
	{"push es", []byte{0x06}, only64, "opcode invalid in 64-bit mode (push es in 32-bit mode)"},
	{"pop es", []byte{0x07}, only64, "opcode invalid in 64-bit mode (pop es in 32-bit mode)"},
	{"push cs", []byte{0x0E}, only64, "opcode invalid in 64-bit mode (push cs in 32-bit mode)"},
	{"push ss", []byte{0x16}, only64, "opcode invalid in 64-bit mode (push ss in 32-bit mode)"},
	{"pop ss", []byte{0x17}, only64, "opcode invalid in 64-bit mode (pop ss in 32-bit mode)"},
	{"push ds", []byte{0x1E}, only64, "opcode invalid in 64-bit mode (push ds in 32-bit mode)"},
	{"pop ds", []byte{0x1F}, only64, "opcode invalid in 64-bit mode (pop ds in 32-bit mode)"},
	{"daa", []byte{0x27}, only64, "opcode invalid in 64-bit mode (daa in 32-bit mode)"},
	{"das", []byte{0x2F}, only64, "opcode invalid in 64-bit mode (das in 32-bit mode)"},
	{"aaa", []byte{0x37}, only64, "opcode invalid in 64-bit mode (aaa in 32-bit mode)"},
	{"aas", []byte{0x3F}, only64, "opcode invalid in 64-bit mode (aas in 32-bit mode)"},
	{"pushad", []byte{0x60}, only64, "opcode invalid in 64-bit mode (pushad in 32-bit mode)"},
	{"popad", []byte{0x61}, only64, "opcode invalid in 64-bit mode (popad in 32-bit mode)"},
	{"bound eax, [eax]: 62 is EVEX in long mode", []byte{0x62, 0x00}, only64, reasonEVEX},
	{"lcall 0x605:0x4030201", []byte{0x9A, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06}, only64, "opcode invalid in 64-bit mode (call far 0x4030201, 0x605 in 32-bit mode)"},
	{"into", []byte{0xCE}, only64, "opcode invalid in 64-bit mode (into in 32-bit mode)"},
	{"aam 0xa", []byte{0xD4, 0x0A}, only64, "opcode invalid in 64-bit mode (aam 0xa in 32-bit mode)"},
	{"aad 0xa", []byte{0xD5, 0x0A}, only64, "opcode invalid in 64-bit mode (aad 0xa in 32-bit mode)"},
	{"salc", []byte{0xD6}, only64, "invalid opcode: the CPU raises #UD"},
	{"ljmp 0x605:0x4030201", []byte{0xEA, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06}, only64, "opcode invalid in 64-bit mode (jmp far 0x4030201, 0x605 in 32-bit mode)"},
}

func TestCheckRefuses(t *testing.T) {
	for _, tc := range refusedCases {
		for _, mode := range tc.modes {
			t.Run(tc.asm, func(t *testing.T) {
				_, err := Check(tc.code, mode)
				require.Error(t, err, "mode %d", mode)
				var ue *UnprobeableError
				require.True(t, errors.As(err, &ue), "mode %d: %v is not an UnprobeableError", mode, err)
				assert.Equal(t, tc.reason, ue.Reason, "mode %d", mode)
				assert.NotContains(t, err.Error(), "\n")
			})
		}
	}
}

func TestCheckErrorText(t *testing.T) {
	_, err := Check([]byte{0xFA}, 64) // cli
	require.EqualError(t, err, `unprobeable instruction "cli": interrupt-flag change is privileged`)
	_, err = Check([]byte{0x27, 0x90}, 64) // daa, invalid in long mode
	require.EqualError(t, err, `unprobeable instruction (bytes 27): opcode invalid in 64-bit mode (daa in 32-bit mode)`)
	_, err = Check([]byte{0x0F, 0x04, 0x90}, 32)
	require.EqualError(t, err, `unprobeable instruction (bytes 0f 04 90): invalid opcode: the CPU raises #UD`)
	// A refused instruction that decodes is returned with the error.
	inst, err := Check([]byte{0xF4}, 32)
	require.Error(t, err)
	assert.Equal(t, 1, inst.Len)
}

func TestCheckBadArguments(t *testing.T) {
	_, err := Check([]byte{0x90}, 16)
	require.EqualError(t, err, "probes: unsupported mode 16 (want 32 or 64)")
	_, err = Check(nil, 64)
	require.EqualError(t, err, "probes: no instruction bytes")
}

// acceptedCase is one hand-assembled instruction Check must accept, with its
// class and whether Linux would refuse it.
type acceptedCase struct {
	asm      string
	code     []byte
	modes    []int
	class    Class
	linuxBad string // expected LinuxRefusal, "" when Linux agrees
}

var acceptedCases = []acceptedCase{
	{"nop", []byte{0x90}, both, ClassPlain, ""},
	{"nop dword ptr [eax+eax*1+0x0]", []byte{0x0F, 0x1F, 0x44, 0x00, 0x00}, both, ClassPlain, ""},
	{"endbr64", []byte{0xF3, 0x0F, 0x1E, 0xFA}, both, ClassPlain, ""},
	{"endbr32", []byte{0xF3, 0x0F, 0x1E, 0xFB}, both, ClassPlain, ""},
	{"mov ebp, esp", []byte{0x89, 0xE5}, both, ClassPlain, ""},
	{"mov eax, dword ptr [ebx]", []byte{0x8B, 0x03}, both, ClassPlain, ""},
	{"mov eax, fs:[ebx]", []byte{0x64, 0x8B, 0x03}, both, ClassPlain, ""},
	{"mov eax, gs:[ebx]", []byte{0x65, 0x8B, 0x03}, both, ClassPlain, ""},
	{"imul eax, ecx", []byte{0x0F, 0xAF, 0xC1}, both, ClassPlain, ""},
	{"xor eax, eax", []byte{0x31, 0xC0}, both, ClassPlain, ""},
	{"pop ebp", []byte{0x5D}, both, ClassPlain, ""},
	{"leave", []byte{0xC9}, both, ClassPlain, ""},
	{"cpuid", []byte{0x0F, 0xA2}, both, ClassPlain, ""},
	{"rdtsc", []byte{0x0F, 0x31}, both, ClassPlain, ""},
	{"rep movsb", []byte{0xF3, 0xA4}, both, ClassPlain, ""},
	{"movdqa xmm0, [eax]", []byte{0x66, 0x0F, 0x6F, 0x00}, both, ClassPlain, ""},
	{"vmovdqa xmm0, [eax]", []byte{0xC5, 0xF9, 0x6F, 0x00}, both, ClassPlain, ""},
	{"fld1", []byte{0xD9, 0xE8}, both, ClassPlain, ""},
	{"pop fs", []byte{0x0F, 0xA1}, both, ClassPlain, ""},
	{"mov ds, eax", []byte{0x8E, 0xD8}, both, ClassPlain, ""},
	{"lss eax, [eax]", []byte{0x0F, 0xB2, 0x00}, both, ClassPlain, ""},
	{"lock add [ebx], eax", []byte{0xF0, 0x01, 0x03}, both, ClassPlain, "Linux uprobes refuses lock prefix"},
	{"lock cmpxchg [ebx], ecx", []byte{0xF0, 0x0F, 0xB1, 0x0B}, both, ClassPlain, "Linux uprobes refuses lock prefix"},
	{"lock xadd [ebx], eax", []byte{0xF0, 0x0F, 0xC1, 0x03}, both, ClassPlain, "Linux uprobes refuses lock prefix"},
	{"lock inc dword ptr [eax]", []byte{0xF0, 0xFF, 0x00}, both, ClassPlain, "Linux uprobes refuses lock prefix"},
	{"lock cmpxchg8b [esi]", []byte{0xF0, 0x0F, 0xC7, 0x0E}, both, ClassPlain, "Linux uprobes refuses lock prefix"},
	{"xchg [ebx], eax (implicitly locked)", []byte{0x87, 0x03}, both, ClassPlain, ""},
	{"es mov eax, [ebx]", []byte{0x26, 0x8B, 0x03}, both, ClassPlain, "Linux uprobes refuses es segment-override prefix (26)"},
	{"ss mov eax, [ebx]", []byte{0x36, 0x8B, 0x03}, both, ClassPlain, "Linux uprobes refuses ss segment-override prefix (36)"},
	{"lock cs add [ebx], eax", []byte{0xF0, 0x2E, 0x01, 0x03}, both, ClassPlain, "Linux uprobes refuses lock prefix, cs segment-override prefix (2e)"},
	{"push ebp", []byte{0x55}, both, ClassStackWrite, ""},
	{"push 0x1", []byte{0x6A, 0x01}, both, ClassStackWrite, ""},
	{"push dword ptr [eax]", []byte{0xFF, 0x30}, both, ClassStackWrite, ""},
	{"enter 0x8, 0x1", []byte{0xC8, 0x08, 0x00, 0x01}, both, ClassStackWrite, ""},
	{"pushfd / pushfq", []byte{0x9C}, both, ClassPushf, ""},
	{"pushf (16-bit)", []byte{0x66, 0x9C}, both, ClassPushf, ""},
	{"66 ret: no fixup, whatever the operand size", []byte{0x66, 0xC3}, both, ClassRet, ""},
	{"66 lcall [ebx]: far branches take their operand size on every vendor", []byte{0x66, 0xFF, 0x1B}, both, ClassIndirectCall, ""},
	{"popfd / popfq", []byte{0x9D}, both, ClassPopf, ""},
	{"ret", []byte{0xC3}, both, ClassRet, ""},
	{"ret 0x8", []byte{0xC2, 0x08, 0x00}, both, ClassRet, ""},
	{"rep ret", []byte{0xF3, 0xC3}, both, ClassRet, ""},
	{"ret far", []byte{0xCB}, both, ClassRet, ""},
	{"call rel32", []byte{0xE8, 0x10, 0x00, 0x00, 0x00}, both, ClassRelCall, ""},
	{"jmp rel32", []byte{0xE9, 0x10, 0x00, 0x00, 0x00}, both, ClassRelJump, ""},
	{"jmp rel8 (jmp .)", []byte{0xEB, 0xFE}, both, ClassRelJump, ""},
	{"je rel8", []byte{0x74, 0x05}, both, ClassRelJump, ""},
	{"jne rel32", []byte{0x0F, 0x85, 0x00, 0x01, 0x00, 0x00}, both, ClassRelJump, ""},
	{"ds je rel8 (branch hint)", []byte{0x3E, 0x74, 0x05}, both, ClassRelJump, "Linux uprobes refuses ds segment-override prefix (3e)"},
	{"loop rel8", []byte{0xE2, 0xFE}, both, ClassRelJump, ""},
	{"loopne rel8", []byte{0xE0, 0xFE}, both, ClassRelJump, ""},
	{"jecxz / jrcxz rel8", []byte{0xE3, 0x00}, both, ClassRelJump, ""},
	{"call eax", []byte{0xFF, 0xD0}, both, ClassIndirectCall, ""},
	{"call [eax]", []byte{0xFF, 0x10}, both, ClassIndirectCall, ""},
	{"call far [eax]", []byte{0xFF, 0x18}, both, ClassIndirectCall, ""},
	{"jmp eax", []byte{0xFF, 0xE0}, both, ClassIndirectJump, ""},
	{"jmp [eax]", []byte{0xFF, 0x20}, both, ClassIndirectJump, ""},
	{"notrack jmp eax", []byte{0x3E, 0xFF, 0xE0}, both, ClassIndirectJump, "Linux uprobes refuses ds segment-override prefix (3e)"},
	{"jmp far [eax]", []byte{0xFF, 0x28}, both, ClassIndirectJump, ""},
	// 32-bit only.
	{"pushad", []byte{0x60}, only32, ClassStackWrite, ""},
	{"popad", []byte{0x61}, only32, ClassPlain, ""},
	{"push es", []byte{0x06}, only32, ClassStackWrite, ""},
	{"pop es", []byte{0x07}, only32, ClassPlain, "Linux uprobes refuses pop es/ds"},
	{"pop ds", []byte{0x1F}, only32, ClassPlain, "Linux uprobes refuses pop es/ds"},
	{"daa", []byte{0x27}, only32, ClassPlain, ""},
	{"bound eax, [eax]", []byte{0x62, 0x00}, only32, ClassPlain, ""},
	{"call far 0x605:0x4030201", []byte{0x9A, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06}, only32, ClassIndirectCall, ""},
	{"jmp far 0x605:0x4030201", []byte{0xEA, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06}, only32, ClassIndirectJump, ""},
	{"mov eax, [0x8106334] (absolute, not eip-relative)", []byte{0x8B, 0x05, 0x34, 0x63, 0x10, 0x08}, only32, ClassPlain, ""},
	{"inc eax (short form)", []byte{0x40}, only32, ClassPlain, ""},
	// 64-bit only.
	{"mov rax, [rip+0x1]", []byte{0x48, 0x8B, 0x05, 0x01, 0x00, 0x00, 0x00}, only64, ClassRIPRelative, ""},
	{"lock add qword ptr [rip+0xbe121], 0x1", []byte{0xF0, 0x48, 0x83, 0x05, 0x21, 0xE1, 0x0B, 0x00, 0x01}, only64, ClassRIPRelative, "Linux uprobes refuses lock prefix"},
	{"lea rdi, [rip+0x10]", []byte{0x48, 0x8D, 0x3D, 0x10, 0x00, 0x00, 0x00}, only64, ClassRIPRelative, ""},
	{"mov eax, [eip+0x1] (addr32)", []byte{0x67, 0x8B, 0x05, 0x01, 0x00, 0x00, 0x00}, only64, ClassRIPRelative, ""},
	{"push qword ptr [rip+0x0]", []byte{0xFF, 0x35, 0x00, 0x00, 0x00, 0x00}, only64, ClassRIPRelative, ""},
	{"call [rip+0x0]", []byte{0xFF, 0x15, 0x00, 0x00, 0x00, 0x00}, only64, ClassIndirectCall, ""},
	{"jmp [rip+0x0]", []byte{0xFF, 0x25, 0x00, 0x00, 0x00, 0x00}, only64, ClassIndirectJump, ""},
	{"push r13", []byte{0x41, 0x55}, only64, ClassStackWrite, ""},
	{"mov rax, [rsp-0x8]", []byte{0x48, 0x8B, 0x44, 0x24, 0xF8}, only64, ClassPlain, ""},
	{"movsxd rax, ecx", []byte{0x48, 0x63, 0xC1}, only64, ClassPlain, ""},
	{"vmovdqu64 zmm16, [rsi] (EVEX)", []byte{0x62, 0xE1, 0xFE, 0x48, 0x6F, 0x06}, only64, ClassPlain, ""},
	{"xbegin rel32", []byte{0xC7, 0xF8, 0x00, 0x00, 0x00, 0x00}, only64, ClassRelJump, ""},
}

func TestCheckAcceptsAndClassifies(t *testing.T) {
	for _, tc := range acceptedCases {
		for _, mode := range tc.modes {
			t.Run(tc.asm, func(t *testing.T) {
				inst, err := Check(tc.code, mode)
				require.NoError(t, err, "mode %d", mode)
				assert.Equal(t, len(tc.code), inst.Len, "mode %d: length", mode)
				assert.Equal(t, tc.class, Classify(inst, mode), "mode %d: class", mode)
				assert.Equal(t, tc.linuxBad, LinuxRefusal(tc.code, mode), "mode %d: Linux refusal", mode)
			})
		}
	}
}

func TestCheckIgnoresTrailingBytes(t *testing.T) {
	// cli after a nop: only the first instruction is checked.
	inst, err := Check([]byte{0x90, 0xFA}, 64)
	require.NoError(t, err)
	assert.Equal(t, 1, inst.Len)
}
