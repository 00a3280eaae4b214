// Package uc is probesim's own small cgo binding to libunicorn 2.1.1 (x86
// only: i386 and x86-64), linked statically from the project-local prefix
// that `make deps` fills (build/unicorn: Debian 13's libunicorn-dev, see
// scripts/fetch-unicorn.sh), plus the C per-block instruction and cycle
// accounting hook and the guest page table behind Unicorn's virtual TLB.
//
// # What it owns
//
//   - Engine: one Unicorn CPU (uc_engine) with its memory map, translation
//     cache and hooks. OpenWith picks the CPU model and, with a
//     translator, the virtual TLB. Open refuses any libunicorn but 2.1.1
//     with a one-line error (checkVersion): every fact below was measured
//     on it.
//   - Virtual memory (vmem.go, vm.c): physical regions (MapPhys), a
//     four-level page table in C filled on demand from a Go translator,
//     DropPages, ProtectPages, FlushTLB, and PageFault for the access the
//     table refused; several page tables, one active (pagetable.go:
//     NewPageTable, SwitchPageTable as a CR3 write flushing the soft TLB,
//     the In variants editing an inactive table without a flush). Without a translator, guest addresses are physical
//     (Map, MapPtr, Protect, MemRead, MemWrite), as the raw-Unicorn
//     benchmark anchor uses them.
//   - Registers (RegRead, RegWriteBatch, SetGDT, ...), contexts,
//     Start/Stop, RemoveCache/FlushTranslations.
//   - Go-callback hooks (HookInterrupt, HookSyscall, HookCPUID, HookCode,
//     HookBlock, HookInvalidInsn), dispatched through a process-wide table
//     of integer handles.
//   - The accounting hook (accounting.c): a C UC_HOOK_BLOCK callback that
//     charges each executed block's instruction count and cost to the
//     current Counters, with a hashed set-associative cost cache in C
//     memory, and stops the engine when a cycle budget is used up.
//   - Exec fences (fence.go): pages whose TLB entries may still grant an
//     execute permission the page table took away; their blocks are
//     stopped before they run until the next TLB flush.
//
// # Invariants and locking
//
//   - An Engine has no internal locking: it is used from one goroutine at a
//     time. The only call allowed from another goroutine while Start runs is
//     Stop, and never concurrently with Close.
//   - Go callbacks run synchronously inside Start, on the goroutine that
//     called Start. They may call the same engine's methods (RegRead,
//     RegWrite, DropPages, ProtectPages, Stop, HookDel, InvalidateCosts,
//     ...) but never Close or Start. A panic in a callback is recovered at
//     the C boundary, the engine is stopped and Start returns a
//     *CallbackPanic.
//   - C never holds a Go pointer: Unicorn's user_data is an integer handle
//     into the callback table (handles.go), or C memory (the page table,
//     the accounting state). The table is copy-on-write and shared by all
//     engines.
//   - Counters, contexts, the page table, the cost cache and Unicorn itself
//     live in C memory. Counters accessors and SetCounters are plain
//     loads/stores into that memory, not cgo calls. A Counters is used from
//     one goroutine at a time.
//   - Host memory given to MapPhys or MapPtr must not be Go heap memory
//     (use syscall.Mmap) and must outlive the mapping.
//   - The page table is a cache of the caller's translations: an entry is
//     made only by the translator's answer, and must be dropped
//     (DropPages) or changed (ProtectPages) whenever that answer would
//     change. Translated blocks are kept by physical page; RemoveCache of
//     a range must come before DropPages of it, and a physical page must
//     not back other code before its blocks were removed.
//   - Close is idempotent and releases hooks, handle-table entries, the
//     page table, the cost cache and the engine; every other method then
//     returns ErrClosed.
//   - Bad input (zero-size or unaligned maps, unknown registers, nil
//     callbacks, mismatched batch lengths, ...) returns an error, never
//     panics. Unicorn failures are *Error values whose message carries
//     Unicorn's own text: "unicorn: mem_map: Invalid memory mapping
//     (UC_ERR_MAP)".
//
// # Accounting semantics
//
// The C block hook runs at the start of every executed translated block.
// It looks the block up by (address, size) in a 4-way set-associative
// cache indexed by the address with its higher bits folded in (so no
// alignment makes two hot blocks evict each other; the table doubles when
// sets overflow often). A hit in the set's first way, with nothing to skip,
// budget left and nothing watched, is the whole hot path: the entry's
// instructions and cost are added. Otherwise (acct_slow) it checks the
// fence marks on a miss, calls the Go cost function once and caches the
// answer. Then, if the current Counters' CyclesFP is already >= StopAt, it
// sets BudgetHit and calls uc_emu_stop WITHOUT charging the block;
// otherwise it adds the block's instructions and cost. This order follows a
// measured fact: uc_emu_stop from a block hook stops before the block
// executes (Start returns with the PC at the block's address;
// TestStopInBlockHookSkipsTheBlock). Consequences:
//
//   - the block that crosses the budget runs whole and is charged; Start
//     returns at the start of the next block, which is charged when resumed
//     (overshoot < one block; nothing is ever charged twice);
//   - if the budget is already used up when Start begins, nothing runs;
//   - a block is charged whole at its start: if execution leaves it early
//     (a page fault, an exception, Stop from a code hook mid-block), the
//     rest stays charged and the resumed tail is a new block, charged again;
//   - the block at Start's until address is never charged (never runs);
//   - code changes must be followed by both RemoveCache (translations) and
//     InvalidateCosts (costs): a rewritten block with the same address and
//     size would otherwise keep its old cost. InvalidateCosts drops exactly
//     the cached blocks that overlap the range, including blocks starting
//     before it, through the list of cached blocks that each page's record
//     keeps (a page with more than 4096 gives its list up, and then
//     invalidating it empties the cache: only priced again, nothing is
//     charged differently).
//
// # Measured Unicorn 2.1.1 behaviour (pinned by the tests)
//
//   - Virtual TLB (UC_CTL_TLB_TYPE = UC_TLB_VIRTUAL): every soft-TLB miss
//     calls UC_HOOK_TLB_FILL with the page-aligned virtual address only
//     and the access; the hook's answer (physical page, permissions) is
//     cached in the TLB. A refused access raises an exception that ends
//     uc_emu_start with UC_ERR_EXCEPTION (no UC_HOOK_MEM_* hook is called);
//     the CPU state is restored to the faulting instruction first, so the
//     PC is exact and EFLAGS right (2.0.1 left the block start and stale
//     flags: TestPageFaultStateIsExact). Unicorn then tries to deliver the
//     fault through the IDT and GDT, and those fills are refused too: only
//     the first refusal of a Start is the guest's.
//   - A permission the page table takes away is still granted by the TLB
//     until UC_CTL_TLB_FLUSH; a permission it gives needs nothing (a
//     missing permission is a TLB miss). TLB flushes keep translated
//     blocks (TestPermissionsNeedAFlushToShrink).
//   - Translated blocks are found by physical page through a fetch check
//     in the TLB: once the TLB no longer grants execution on a page, none
//     of its blocks is entered (TestFencedBlockDoesNotRun).
//   - uc_ctl_remove_cache resolves the start of its range to a physical
//     address with a code fetch through the TLB and removes the physical
//     range that follows; RemoveCache does it page by page, only for pages
//     the table holds (TestTranslationsFollowThePhysicalPage).
//   - Descriptor loads cut linear addresses to 52 bits, so the guest's GDT
//     cannot sit at the top of the 64-bit address space (it did on 2.0.1).
//   - The CPU model decides which instructions translate: qemu64 (the
//     default) raises #UD for SSE4.1 (ptest), popcnt and movbe, which
//     skylake-client runs. CPUID answers come from the model unless
//     HookCPUID answers (TestCPUIDHook). From IvyBridge on (skylake-client
//     included) rdrand and rdseed run with the host's randomness, and no
//     hook sees them; SandyBridge raises #UD for both.
//   - rdtsc and rdtscp read the host's TSC unless CR4.TSD is set, when
//     they raise #GP (13) at CPL 3 like the CPU. CR4 reads 0 before the
//     first run; writing it recomputes the hidden SSE flags from the value.
//   - An exception an interrupt hook handled is never delivered, so QEMU's
//     old_exception keeps it: the next #GP or #DE becomes #DF (8), the
//     one after that halts the CPU. ClearException resets it through a
//     context (TestHandledExceptionsDoNotDoubleFault).
//   - in and out run at CPL 3 whatever IOPL says; HookPortIO sees them
//     with a stale RIP (see PortIOFunc).
//   - int3 reaches HookInterrupt as 3 with RIP past the int3; i386 int 0x80
//     as 0x80 with EIP past it; divide error as 0 with RIP AT the div (a
//     fault: returning without moving RIP or stopping re-executes it).
//     Writing RIP in an interrupt hook resumes exactly there.
//   - HookSyscall: RIP inside the hook is the address OF the syscall
//     instruction. Unicorn adds the 2-byte length after the hook returns, so
//     to resume at X a hook writes RIP = X-2.
//   - HookCPUID: RIP is the cpuid instruction. Returning true skips the
//     native cpuid (the registers the hook wrote are the result); false runs
//     the native one after the hook, with the EAX/ECX the hook left.
//   - HookInvalidInsn: RIP is the invalid instruction (ud2, 0f ff).
//     Returning true ends Start with CodeException (2.0.1: no error) and
//     nothing more executed; the caller resumes from RIP (so the hook must
//     move RIP). Returning false fails Start with CodeInsnInvalid.
//   - Stop: from a block hook, before the block; from a code hook, before
//     that instruction; from a syscall hook or a trap's (int3, int n)
//     interrupt hook, after that instruction. Writing RIP and calling Stop
//     in the same hook keeps the stop (2.0.1 lost it:
//     TestStopKeptWhenHookAlsoWritesRIP).
//   - While ANY code hook exists (whatever its range), a stop from a block
//     hook leaves RIP stale, on 2.1.1 as on 2.0.1: cpu_tb_exec
//     (qemu/accel/tcg/cpu-exec.c) skips restoring the PC of a block exited
//     at its entry check when HOOK_EXISTS(UC_HOOK_CODE), and only hooked
//     instructions sync it. Start repairs it: the accounting hook and Go
//     block hooks record the block they stopped before, and Start writes
//     it to RIP/EIP after uc_emu_start returns
//     (TestBlockStopPCWithUnrelatedCodeHook fails without the repair).
//   - Code and block hooks and the accounting hook are compiled into
//     translated code: added after code ran, they would not apply to it.
//     HookCode, HookBlock and EnableAccounting therefore drop the existing
//     translations of their range. Interrupt, syscall, cpuid and
//     invalid-instruction hooks are looked up when the event happens and
//     apply at once.
//   - With TF set, a single-step #DB follows every instruction but pause
//     (f3 90): after pause none comes, and the next instruction's #DB is
//     the first (TestPauseDropsTheSingleStepTrap). The probe engine steps
//     a copy of pause as the 2-byte nop 66 90 it is architecturally.
//   - Without a hook, syscall and int3/int n end Start with CodeException.
//   - Code bytes changed from the host side keep running from the stale
//     translation until RemoveCache covers them; guest self-modifying code
//     is handled by Unicorn.
//   - i386: FS_BASE/GS_BASE writes are ignored; load a GDT with SetGDT, put
//     a DPL-3 data descriptor in it and load the selector (guest mov or
//     RegWrite(GS, sel)); gs:[x] then reads from the descriptor's base. A
//     selector load from the host reads the GDT through the TLB: the GDT's
//     page must translate, or the fault escapes the emulation.
//   - Translating is the expensive operation: ~5 us for a small block
//     (BenchmarkRetranslate) against ~0.3 us for a Start that runs
//     translated code and stops (BenchmarkStartStop).
//   - Writing RIP/EIP (RegWrite, a batch, Start) sets Unicorn's quit
//     request and calls uc_emu_stop internally; emulation goes on at the
//     new ip (only the current translated block is left).
//   - cmpxchg8b and cmpxchg16b keep flags computed from a stale
//     condition-code operation (the block's own is not stored before the
//     helper): after Go 386's atomic.Xadd64(p, -1) EFLAGS reads 0xffffffff,
//     and a run stopped before the next flag-setting instruction resumes
//     with TF, DF, AC, NT and VM set. Start repairs it after every run
//     (eflags.go, TestCmpxchg8bCorruptsEFlags).
//
// # Costs (2-vCPU VM shared with other jobs: ranges)
//
// Measured with go test -run '^$' -bench . -benchtime 3x ./emu/uc/:
//
//   - register loop: ~0.19 ns/insn raw, ~0.55 ns/insn with the C
//     accounting hook (5-instruction blocks);
//   - loads and stores: ~0.6 ns/insn on a 3-instruction loop, the same
//     with and without the virtual TLB (BenchmarkStoreLoop against
//     BenchmarkStoreLoopPhysical); 2.0.1 took 170-240 ns per store;
//   - a Go callback: 110-230 ns (mostly the cgo callback itself);
//   - BenchmarkSSOLHit (an out-of-line probe hit at this level: two
//     interrupt callbacks, two ProtectPages, the step): ~1.5 us/hit with
//     fences, ~4.5 us/hit when the copy is translated on every hit.
package uc
