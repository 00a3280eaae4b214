package insn

import (
	"fmt"

	"golang.org/x/arch/x86/x86asm"
)

// endbrLen is the length of endbr64/endbr32 (F3 0F 1E FA/FB).
const endbrLen = 4

// isEndbr reports whether code starts with endbr64 or endbr32.
func isEndbr(code []byte) bool {
	return len(code) >= endbrLen && code[0] == 0xF3 && code[1] == 0x0F && code[2] == 0x1E &&
		(code[3] == 0xFA || code[3] == 0xFB)
}

// Decode decodes the instruction at the start of code in mode 32 or 64.
// endbr64/endbr32, which x86asm v0.33 decodes as a one-byte REP with no op,
// are returned as 4-byte NOPs (their meaning without CET). Undecodable bytes,
// a lone prefix and an unsupported mode are errors.
func Decode(code []byte, mode int) (x86asm.Inst, error) {
	if mode != 32 && mode != 64 {
		return x86asm.Inst{}, fmt.Errorf("insn: unsupported mode %d (want 32 or 64)", mode)
	}
	if len(code) == 0 {
		return x86asm.Inst{}, fmt.Errorf("insn: no instruction bytes")
	}
	if isEndbr(code) {
		return x86asm.Inst{Op: x86asm.NOP, Len: endbrLen, Mode: mode, DataSize: 32, AddrSize: mode}, nil
	}
	inst, err := x86asm.Decode(code, mode)
	if err != nil {
		return x86asm.Inst{}, fmt.Errorf("insn: undecodable instruction % x: %w", head(code), err)
	}
	if inst.Op == 0 || inst.Len <= 0 || inst.Len > len(code) {
		return x86asm.Inst{}, fmt.Errorf("insn: undecodable instruction % x: unknown or truncated instruction", head(code))
	}
	return inst, nil
}

// Len returns the length in bytes of the instruction at the start of code
// (see Decode).
func Len(code []byte, mode int) (int, error) {
	inst, err := Decode(code, mode)
	if err != nil {
		return 0, err
	}
	return inst.Len, nil
}

// maxInstLen is the architectural limit on an x86 instruction's length.
const maxInstLen = 15

// head is the prefix of code an error message shows: at most one
// instruction's worth of bytes.
func head(code []byte) []byte {
	return code[:min(len(code), maxInstLen)]
}
