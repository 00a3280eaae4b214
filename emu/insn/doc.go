// Package insn holds x86 instruction helpers shared by the vCPU (package emu)
// and the probe engine: decoding one instruction the way the rest of probesim
// expects (Decode, Len) and recovering the instruction that raised a data
// fault inside a translated block (FindFaulting).
//
// # What it owns
//
// Only pure functions over instruction bytes and a register snapshot. It never
// touches an engine or the address space: callers read the block's bytes and
// the registers and pass them in. It has no state and no locking; every
// function is safe for concurrent use.
//
// # Decoding
//
// Decoding is golang.org/x/arch/x86/x86asm (v0.33) with one correction:
// endbr64/endbr32 (F3 0F 1E FA / F3 0F 1E FB), which x86asm decodes as a
// one-byte REP with no op, are returned as 4-byte NOPs, which is what they are
// on a CPU without CET (and what Unicorn 2.0.1 executes). A lone prefix or
// unknown opcode is an error, never an op-less instruction, so a caller that
// walks a block by Len always advances by a real instruction length.
//
// # Why FindFaulting exists
//
// Under Unicorn 2.0.1, when a guest data access faults (unmapped page or
// protection), the PC visible in the memory-fault hook is the start of the
// translated block, not the faulting instruction, while the general
// registers already reflect every instruction of the block before the
// faulting one (measured on probesim's vCPU). The kernel-style fault line
// ("segfault at A ip I ...", arch/x86/mm/fault.c show_signal_msg) needs I.
//
// FindFaulting rebuilds it from what is known: the block's bytes, the fault
// address and the registers at the fault. It decodes the block in order and,
// for each instruction, computes the linear address ranges it would access
// with the current registers:
//
//   - explicit memory operands: base + index*scale + disp, RIP-relative from
//     the next instruction's address, truncated to the address size; an FS or
//     GS override adds FSBase or GSBase. Other segment bases are taken as 0,
//     as in Linux's flat user segments. In 32-bit mode registers are read as
//     32 bits and linear addresses wrap at 4 GiB;
//   - implicit stack accesses: push, call, pushf, pusha, enter and far call
//     write below the stack pointer; pop, ret, popf, popa, iret and far ret
//     read at it; leave reads at the frame pointer (it reloads the stack
//     pointer from it before popping);
//   - string instructions (movs, stos, lods, cmps, scas, ins, outs) at the
//     current rsi/rdi: each iteration of a REP string instruction touches one
//     element at the registers' current values, and the registers at a fault
//     are those of the faulting iteration, so the direction flag is not
//     needed;
//   - xlat at rbx+al, and maskmovq/maskmovdqu at rdi.
//
// lea, multi-byte nops, prefetch hints and the privileged ops that fault with
// #GP at CPL 3 before touching memory access nothing.
//
// The access size comes from the decoded instruction (x86asm's MemBytes),
// with the sizes x86asm leaves out filled in (string elements, far pointers,
// x87 environments, fxsave/xsave areas). An access matches when any of its
// bytes is the fault address, because a fault on an access that crosses into
// an unmapped page is reported at the first unmapped byte.
//
// # The heuristic and how it fails
//
// The registers are exact only for the faulting instruction itself: an
// earlier instruction of the block may have changed a register it addresses
// with after it ran. FindFaulting therefore returns the first instruction
// whose recomputed access covers the fault, and this can be wrong in two
// ways:
//
//   - too early: an earlier instruction whose address, recomputed with later
//     register values, coincidentally covers the fault address. Example:
//     "push rax; mov rsp,rbx; mov [rbx-8],rcx" faulting in the third
//     instruction: the push, recomputed with the new rsp (= rbx), writes
//     [rbx-8, rbx) and is reported instead.
//   - too late: when the faulting instruction's access is not modelled
//     (vector-indexed gathers and scatters, whose lanes live in vector
//     registers; unmodelled implicit accesses), a later instruction that
//     never ran can match.
//
// When nothing matches, ok is false and the caller falls back to the block
// start, which is what Unicorn reports. Read and write accesses are not told
// apart; the hook's access type could narrow the match but is not used.
package insn
