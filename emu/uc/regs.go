package uc

/*
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// Reg is a Unicorn x86 register id (UC_X86_REG_*). Only the registers
// declared below are accepted: each fits in 64 bits, so a read can never
// overrun its 8-byte destination (GDTR, XMM or x87 registers would).
type Reg int

const (
	RAX     = Reg(C.UC_X86_REG_RAX)
	RBX     = Reg(C.UC_X86_REG_RBX)
	RCX     = Reg(C.UC_X86_REG_RCX)
	RDX     = Reg(C.UC_X86_REG_RDX)
	RSI     = Reg(C.UC_X86_REG_RSI)
	RDI     = Reg(C.UC_X86_REG_RDI)
	RBP     = Reg(C.UC_X86_REG_RBP)
	RSP     = Reg(C.UC_X86_REG_RSP)
	R8      = Reg(C.UC_X86_REG_R8)
	R9      = Reg(C.UC_X86_REG_R9)
	R10     = Reg(C.UC_X86_REG_R10)
	R11     = Reg(C.UC_X86_REG_R11)
	R12     = Reg(C.UC_X86_REG_R12)
	R13     = Reg(C.UC_X86_REG_R13)
	R14     = Reg(C.UC_X86_REG_R14)
	R15     = Reg(C.UC_X86_REG_R15)
	RIP     = Reg(C.UC_X86_REG_RIP)
	EFLAGS  = Reg(C.UC_X86_REG_EFLAGS)
	EAX     = Reg(C.UC_X86_REG_EAX)
	EBX     = Reg(C.UC_X86_REG_EBX)
	ECX     = Reg(C.UC_X86_REG_ECX)
	EDX     = Reg(C.UC_X86_REG_EDX)
	ESI     = Reg(C.UC_X86_REG_ESI)
	EDI     = Reg(C.UC_X86_REG_EDI)
	EBP     = Reg(C.UC_X86_REG_EBP)
	ESP     = Reg(C.UC_X86_REG_ESP)
	EIP     = Reg(C.UC_X86_REG_EIP)
	CS      = Reg(C.UC_X86_REG_CS)
	DS      = Reg(C.UC_X86_REG_DS)
	ES      = Reg(C.UC_X86_REG_ES)
	FS      = Reg(C.UC_X86_REG_FS)
	GS      = Reg(C.UC_X86_REG_GS)
	SS      = Reg(C.UC_X86_REG_SS)
	FS_BASE = Reg(C.UC_X86_REG_FS_BASE) // x86-64 only; ignored in Mode32
	GS_BASE = Reg(C.UC_X86_REG_GS_BASE) // x86-64 only; ignored in Mode32
	FPCW    = Reg(C.UC_X86_REG_FPCW)    // x87 control word
	FPTAG   = Reg(C.UC_X86_REG_FPTAG)   // x87 tag word, 2 bits a register (11: empty)
	MXCSR   = Reg(C.UC_X86_REG_MXCSR)   // SSE control and status
	CR4     = Reg(C.UC_X86_REG_CR4)     // control register 4 (TSD: rdtsc faults at CPL 3)
)

// regNames doubles as the whitelist of registers accepted by RegRead and
// friends (through regOK, its array form: register reads and writes are on
// every probe hit, and a map lookup costs more than the check deserves).
var regNames = map[Reg]string{
	RAX: "rax", RBX: "rbx", RCX: "rcx", RDX: "rdx", RSI: "rsi", RDI: "rdi",
	RBP: "rbp", RSP: "rsp", R8: "r8", R9: "r9", R10: "r10", R11: "r11",
	R12: "r12", R13: "r13", R14: "r14", R15: "r15", RIP: "rip",
	EFLAGS: "eflags", EAX: "eax", EBX: "ebx", ECX: "ecx", EDX: "edx",
	ESI: "esi", EDI: "edi", EBP: "ebp", ESP: "esp", EIP: "eip",
	CS: "cs", DS: "ds", ES: "es", FS: "fs", GS: "gs", SS: "ss",
	FS_BASE: "fs_base", GS_BASE: "gs_base", FPCW: "fpcw", FPTAG: "fptag", MXCSR: "mxcsr", CR4: "cr4",
}

func (r Reg) String() string {
	if n, ok := regNames[r]; ok {
		return n
	}
	return fmt.Sprintf("Reg(%d)", int(r))
}

// regOK[r] is true for the registers of regNames.
var regOK = func() []bool {
	ok := make([]bool, C.UC_X86_REG_ENDING)
	for r := range regNames {
		ok[r] = true
	}
	return ok
}()

func checkReg(op string, r Reg) error {
	if r < 0 || int(r) >= len(regOK) || !regOK[r] {
		return fmt.Errorf("unicorn: %s: unsupported register %d", op, int(r))
	}
	return nil
}

// RegRead returns the value of reg, zero-extended to 64 bits.
func (e *Engine) RegRead(reg Reg) (uint64, error) {
	if err := e.alive(); err != nil {
		return 0, err
	}
	if err := checkReg("reg_read", reg); err != nil {
		return 0, err
	}
	// The C helper returns the value by value: passing the address of a
	// Go variable would make cgo check the pointer on every call.
	r := C.probesim_reg_read(e.uc, C.int(reg))
	if err := check("reg_read", r.err); err != nil {
		return 0, err
	}
	return uint64(r.value), nil
}

// RegWrite sets reg to v; Unicorn uses only the register's width of v.
// Writing a segment selector in Mode32 loads the descriptor from the GDT.
func (e *Engine) RegWrite(reg Reg, v uint64) error {
	if err := e.alive(); err != nil {
		return err
	}
	if err := checkReg("reg_write", reg); err != nil {
		return err
	}
	return check("reg_write", C.probesim_reg_write(e.uc, C.int(reg), C.uint64_t(v)))
}

// RegRead3 reads three registers with one cgo call.
func (e *Engine) RegRead3(r0, r1, r2 Reg) ([3]uint64, error) {
	if err := e.alive(); err != nil {
		return [3]uint64{}, err
	}
	for _, r := range [3]Reg{r0, r1, r2} {
		if err := checkReg("reg_read_batch", r); err != nil {
			return [3]uint64{}, err
		}
	}
	res := C.probesim_reg_read3(e.uc, C.int(r0), C.int(r1), C.int(r2))
	if err := check("reg_read_batch", res.err); err != nil {
		return [3]uint64{}, err
	}
	return [3]uint64{uint64(res.value[0]), uint64(res.value[1]), uint64(res.value[2])}, nil
}

// RegWrite2 writes two registers with one cgo call.
func (e *Engine) RegWrite2(r0 Reg, v0 uint64, r1 Reg, v1 uint64) error {
	if err := e.alive(); err != nil {
		return err
	}
	for _, r := range [2]Reg{r0, r1} {
		if err := checkReg("reg_write_batch", r); err != nil {
			return err
		}
	}
	return check("reg_write_batch", C.probesim_reg_write2(e.uc, C.int(r0), C.uint64_t(v0), C.int(r1), C.uint64_t(v1)))
}

// RegUpdate sets reg to (reg &^ clear) | set with one cgo call and returns
// the new value (EFLAGS.TF around a single-step, for instance).
func (e *Engine) RegUpdate(reg Reg, clear, set uint64) (uint64, error) {
	if err := e.alive(); err != nil {
		return 0, err
	}
	if err := checkReg("reg_update", reg); err != nil {
		return 0, err
	}
	r := C.probesim_reg_update(e.uc, C.int(reg), C.uint64_t(clear), C.uint64_t(set))
	if err := check("reg_update", r.err); err != nil {
		return 0, err
	}
	return uint64(r.value), nil
}

func checkBatch(op string, regs []Reg, vals []uint64) error {
	if len(regs) != len(vals) {
		return fmt.Errorf("unicorn: %s: %d registers but %d values", op, len(regs), len(vals))
	}
	if len(regs) > int(^uint32(0)>>1) {
		return fmt.Errorf("unicorn: %s: too many registers (%d)", op, len(regs))
	}
	for _, r := range regs {
		if err := checkReg(op, r); err != nil {
			return err
		}
	}
	return nil
}

// RegReadBatch reads regs[i] into vals[i] with one cgo call.
func (e *Engine) RegReadBatch(regs []Reg, vals []uint64) error {
	if err := e.alive(); err != nil {
		return err
	}
	if err := checkBatch("reg_read_batch", regs, vals); err != nil || len(regs) == 0 {
		return err
	}
	// Reg has Go int's size, which is intptr_t's size on every Go platform.
	return check("reg_read_batch", C.probesim_reg_read_batch(e.uc,
		(*C.intptr_t)(unsafe.Pointer(&regs[0])), (*C.uint64_t)(unsafe.Pointer(&vals[0])), C.int(len(regs))))
}

// RegWriteBatch writes vals[i] into regs[i] with one cgo call.
func (e *Engine) RegWriteBatch(regs []Reg, vals []uint64) error {
	if err := e.alive(); err != nil {
		return err
	}
	if err := checkBatch("reg_write_batch", regs, vals); err != nil || len(regs) == 0 {
		return err
	}
	return check("reg_write_batch", C.probesim_reg_write_batch(e.uc,
		(*C.intptr_t)(unsafe.Pointer(&regs[0])), (*C.uint64_t)(unsafe.Pointer(&vals[0])), C.int(len(regs))))
}

// SetGDT loads GDTR with base and limit (the descriptor table itself must be
// in guest memory at base). In Mode32 this is how a segment base (TLS via
// set_thread_area) is set: FS_BASE/GS_BASE writes are ignored there.
func (e *Engine) SetGDT(base uint64, limit uint32) error {
	if err := e.alive(); err != nil {
		return err
	}
	return check("reg_write(gdtr)", C.probesim_set_gdt(e.uc, C.uint64_t(base), C.uint32_t(limit)))
}
