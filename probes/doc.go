// Package probes is the probe engine. Its static half turns --probe specs
// into checked probe points (Resolve, ParseList), decides which
// instructions may carry a probe (Check) and classifies them for the
// fixups after an out-of-line single-step (Classify, RIPRelative,
// StackWriteBytes). Its dynamic half (Attach, Engine) places the probes on
// an smp.Machine and runs a strategy on every hit.
//
// The dynamic half has the shape of Linux's uprobes: at registration each
// probe's instruction is analysed once into an archProbe (analyze.go:
// Linux's struct arch_uprobe), the copy an out-of-line step runs and its
// ops, emulate, preXOL, postXOL and abort (struct uprobe_xol_ops); every
// thread's state is one uprobeTask (task.go: struct uprobe_task); and a
// strategy is a type that decides what happens after the handler
// (strategy.go): inlineStep steps in place (inline.go), outOfLine steps the
// copy at a place, the stack below sp (ssol.go, riprel.go) or the XOL page
// (xolarea.go, where what Linux emulates is emulated: emulate.go). Two
// historical variants of the stack strategy reproduce the seed: the code
// as posted in 2005, defects detected and reported (seed2005.go), and the
// 2006 repost's global lock (seedlock.go). Every execution is a hit or a miss; each hit's cost is
// booked by phase (overhead.go); handlers see the trapping thread's
// registers (regs.go); results and reports are in results.go. Probes can
// be placed and removed while the program runs, at cycles of global time
// (attach.go), and a removal races the hits in flight as Linux's does.
//
// # What it owns, invariants, locking
//
// The static half is pure functions over a *loader.Image and instruction
// bytes. A Spec it returns always names the first byte of an instruction
// that decodes, lies in a PF_X segment's file-backed bytes and passes
// Check; its Bytes are a private copy of the original instruction (the
// bytes the int3 will replace).
//
// An Engine owns its probes' state, the per-thread step state (a thread
// steps at most one probe at a time, in place or in its own slot) and, for
// xol, the XOL page's slot bitmap (a slot is taken by one thread from its
// hit to its #DB). Its
// invariants:
//
//   - hits + misses = executions, per probe and per vCPU: every execution
//     of a probed instruction as program flow is an ordered event and is a
//     hit or a miss. While the first byte is int3, the trap is that event
//     (a hit; one that finds the byte restored when its ordered turn comes
//     is undone and counted as the miss it was); only while the original
//     byte is back (an inline window) is the address watched, at block
//     granularity in the C block hook (smp.Machine.WatchBlocks), and each
//     execution then is a miss. The kernel's own step is not an execution.
//     So the watching costs nothing per instruction and does not grow with
//     the number of probes (BenchmarkInlineHit1000);
//   - every cycle a hit charges the trapping vCPU is in exactly one phase of
//     its probe's overhead, booked from the figure that charged it, so the
//     phases add up to what the probe cost that vCPU (overhead.go;
//     TestOverheadAddsUpToVCPUCycles checks it against the vCPU's clock);
//   - an out-of-line step leaves registers and memory as the in-place step
//     does (TestOutOfLineMatchesInPlace checks every class).
//
// The static half has no state and is safe for concurrent use. An Engine
// is not: its callbacks run on the goroutine that runs its machine, in
// global cycle order, and its results are read after Run.
//
// # Spec syntax
//
//	SYMBOL           the symbol's first instruction
//	SYMBOL+OFFSET    OFFSET decimal, or hexadecimal with 0x ("010" is ten)
//	0xADDRESS        an absolute (relocated) address
//	FILE:SYMBOL[+OFFSET], FILE:0xOFFSET
//	                 a probe on FILE, a program or shared library in the
//	                 guest's view (perf probe -x FILE; 0xOFFSET is a file
//	                 offset, as uprobe_events takes PATH:0xOFFSET)
//	SPEC%return      a return probe on the function SPEC names (its first
//	                 instruction): the handler runs when it returns
//	uprobe:[FILE:]SPEC, uretprobe:[FILE:]SPEC
//	                 bpftrace's forms: SPEC and SPEC%return (a 0x number
//	                 is then FILE's own link-time address, as bpftrace
//	                 takes it)
//	SPEC ARGS...     fetch arguments after the spec, as uprobe_events
//	                 takes them: "probed n=%di:s32 p=+8(%sp):u64"
//	                 (fetchargs.go)
//
// A FILE that is the program run (its path as given or in the guest, or
// the same host file) gives the program's probe; any other file is probed
// by file offset wherever it is mapped (specform.go, filespec.go,
// fileprobe.go).
//
// A symbol is found with loader.Image.Lookup (a global wins over locals of
// the same name; .symtab, else .dynsym; NAME@VERSION and NAME@@VERSION
// name a version, the default one wins for a plain NAME). An offset must
// lie inside the symbol when its size is known. The instruction boundary
// is checked by decoding linearly from the containing symbol's start
// (endbr64/endbr32 count as 4-byte instructions, see emu/insn); an address
// that no symbol contains cannot be checked that way and is trusted, as
// perf probe trusts a raw address. Addresses outside the segments the file
// marks PF_X are refused even for an i386 program that Linux runs
// READ_IMPLIES_EXEC; Linux's own valid_vma (kernel/events/uprobes.c)
// additionally refuses writable mappings, which a static executable's PF_X
// segment never is.
//
// # Probes on files (filespec.go, fileprobe.go)
//
// A spec on another file is resolved once, from the file's bytes: the
// symbol's link-time address goes to a file offset through the PT_LOAD
// holding it (perf's vaddr - p_vaddr + p_offset), which must be PF_X; the
// boundary check, the validity table and the classes are the program's.
// The probe is keyed by the file's identity in the view (device and inode,
// mmu.FileID), as Linux keys a uprobe by inode. It is armed, an instance
// with its own address, in every mapping of the file that valid_vma(vma,
// true) accepts (private and not writable: a PROT_READ mapping too, as on
// Linux), when the mapping is made (uprobe_mmap) or, for mappings already
// there when the probe is placed, then (register_for_each_vma); an
// unmapping drops the instances in its range without writing, the page
// going with it. mprotect arms nothing, as in Linux. The report's entry
// sums the instances (Result.Mappings counts them). The program's probes
// are also armed, the same way, in the program's other mappings of its
// own file (fileprobe.go).
//
// A stripped library's symbols are its .dynsym, unless its separate
// debug file, /usr/lib/debug/.build-id/NN/REST.debug in the same view
// (Debian's libc6-dbg), has the .symtab: perf looks there first too.
//
// A GNU IFUNC symbol (glibc's strlen, memcpy) is probed at its address,
// the resolver, as perf probe places it, with perf's warning as the spec's
// Note: the resolver runs once, in ld.so's relocation, so it counts
// bindings, not calls; probe the implementation (__strlen_sse2 on the
// emulated CPU, found in the debug file's .symtab) for calls.
// The program's own IFUNC symbols (a static glibc program's) are probed
// the same way, without the note, as before.
//
// # The validity table (Check), modes 32 and 64
//
// Refused, each with its reason in the error:
//
//   - int3 (cc), int N (cd), int1/icebp (f1), into (ce, 32-bit): they trap
//     into the kernel; int3 is the probe's own instruction and int1 is the
//     single-step trap itself;
//   - iret/iretd/iretq: they reload flags (and TF) from memory;
//   - hlt, cli, sti, in/out/ins/outs, clts, invd, wbinvd, rdmsr, wrmsr,
//     invpcid, mov to or from CRn/DRn: privileged at CPL 3 (IOPL 0 for
//     cli/sti and port I/O); rsm outside system-management mode;
//   - syscall, sysenter (kernel entry), sysret, sysexit (kernel return),
//     getsec, vmread, vmwrite;
//   - ud0, ud1, ud2;
//   - the groups 0f 00 and 0f 01 as a whole, and 0f ae as a whole. Like
//     Linux, this refuses user-mode instructions too: rdtscp, xgetbv, xend
//     and xtest (0f 01 with mod=11) and, in 0f ae, fxsave/fxrstor,
//     ldmxcsr/stmxcsr, xsave/xrstor/xsaveopt, clflush/clflushopt/clwb,
//     lfence/mfence/sfence and rd/wr fs/gs base. Linux's comment on 0f ae
//     says "Why? They are all user-executable." probesim follows the table,
//     not the question, so the two agree on what a user can probe;
//   - mov ss, r/m and pop ss: they hold debug traps until the next
//     instruction ends, so the single-step would run two instructions;
//   - bytes that do not decode (x86asm v0.33), and in 64-bit mode the
//     opcodes removed from long mode (push/pop es/cs/ss/ds, daa/das/aaa/aas,
//     pusha/popa, bound, 82, far call/jmp ptr, into, aam/aad, salc), named
//     with their 32-bit meaning;
//   - a LOCK prefix on an instruction that cannot take one (not a lockable
//     op, or no memory destination): the CPU raises #UD;
//   - an operand-size prefix (66) on a near branch (call and jmp, relative
//     or indirect, jcc, loop*, j*cxz, xbegin): in 64-bit mode Intel
//     ignores the prefix and AMD truncates the target to 16 bits (this
//     host's CPU and the engine do the latter), so neither the ip fix nor
//     a call's return-address fix can be right on both. Far branches and
//     ret take their operand size alike on both vendors and are accepted.
//
// Accepted but flagged (Spec.LinuxRefusal, LinuxRefusal): LOCK-prefixed
// read-modify-write instructions, as kprobes and the seed accepted them;
// ES/CS/SS/DS segment-override prefixes (meaningless with Linux's flat user
// segments, and also the 2e/3e branch hints and the 3e "notrack" that CET
// code puts on indirect jumps); pop es / pop ds in 32-bit mode.
//
// # Comparison with Linux (arch/x86/kernel/uprobes.c, uprobe_init_insn)
//
// Linux checks, in order: the instruction decodes (else -ENOEXEC); no prefix
// is ES, CS, DS, SS or LOCK (is_prefix_bad, -ENOTSUPP); it is not mov ss or
// pop ss (insn_masking_exception); its first opcode byte is set in
// good_insns_32 or good_insns_64, or, for 0f xx, the second byte is set in
// good_2byte_insns. Those bitmaps refuse:
//
//   - one-byte, both modes: 6c-6f (ins/outs), e4-e7 and ec-ef (in/out),
//     cc (int3), cd (int N), cf (iret), f1 (int1), f4 (hlt), fa (cli),
//     fb (sti);
//   - one-byte, 32-bit only: 07, 17, 1f (pop es/ss/ds), ce (into);
//   - one-byte, 64-bit only: every opcode invalid in long mode (06, 07, 0e,
//     16, 17, 1e, 1f, 27, 2f, 37, 3f, 60, 61, 62, 82, 9a, ce, d4, d5, d6,
//     ea);
//   - two-byte: 0f 00, 0f 01, 0f 05 (syscall), 0f 06 (clts), 0f 07
//     (sysret), 0f 08 (invd), 0f 09 (wbinvd), 0f 0b (ud2), 0f 30 (wrmsr),
//     0f 34 (sysenter), 0f 35 (sysexit), 0f 37 (getsec), 0f 78/0f 79
//     (vmread/vmwrite, which with prefixes are also SSE4a/AVX-512 forms),
//     0f ae (group 15).
//
// Where probesim differs:
//
//   - stricter in Linux, accepted here and flagged: LOCK and ES/CS/DS/SS
//     prefixes (the seed's kprobes-era policy: a locked instruction steps
//     like any other; the flag lets a report show what mainline would
//     refuse), pop es / pop ds in 32-bit mode;
//   - stricter here, 66-prefixed near branches: Linux refuses the prefix
//     only on the relative ones it emulates (branch_setup_xol_ops: "Intel
//     and AMD behavior differ in 64-bit mode"), and steps 66 ff /2 and
//     66 ff /4 with a return-address fix of sizeof_long that an AMD CPU,
//     pushing 2 bytes, contradicts;
//   - stricter here: rdmsr (0f 32), mov to/from CRn/DRn (0f 20-23), invpcid,
//     rsm (0f aa), ud0 (0f ff) and ud1 (0f b9), and LOCK on a non-lockable
//     form. Linux's bitmaps allow these opcode bytes (its comment on wrmsr
//     asks "then why rdmsr is allowed"), though none of them can complete
//     at CPL 3; stepping them only delivers the fault the program would have
//     taken anyway;
//   - Linux decides on bytes with its own decoder, including VEX/EVEX forms
//     whose first opcode byte happens to be allowed; probesim decodes with
//     x86asm v0.33 and refuses what it cannot decode (XOP, and EVEX forms
//     it does not know).
//
// # Classes (Classify)
//
// The class decides the fixup after an out-of-line step, following Linux's
// default_post_xol_op and the seed's formula (new ip = original + (ip -
// copy)): relative jumps and calls need the ip fix, a rel32 call also its
// pushed return address; ret and indirect or far jumps need none; indirect
// and far calls need the return address replaced with original + length;
// pushf/popf need TF kept right: pushf, on an in-place step too, gets the
// TF the kernel set cleared from the pushed image unless the program had
// TF itself, as 2.6-era kprobes did in arch/i386/kernel/kprobes.c:
// resume_execution (mainline has no such fixup); popf leaves the TF it
// loaded, the program's own (UPROBE_FIX_SETF), and a program that had TF
// before the hit keeps it and gets the SIGTRAP its step raises
// (arch_uprobe_post_xol: saved_tf). A far call's fixed return address is
// its operand-size word, the selector's slot above it untouched; a
// 66-prefixed near branch is refused (validity). RIP-relative operands
// (64-bit) need the copy rewritten to address through a scratch register; RIPRelative reports
// it independently because call/jmp [rip+d] are both a branch and
// RIP-relative. StackWriteBytes tells how much the instruction writes below
// the stack pointer, which the slot on the stack must leave free.
// xbegin is classed as a relative jump (its fallthrough needs the ip fix);
// its abort target would be computed from the copy, a known limitation that
// RTM-less emulation never exercises.
package probes
