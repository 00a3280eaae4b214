// Package uc is probesim's own small cgo binding to libunicorn 2.0.1 (x86
// only: i386 and x86-64), plus the C per-block instruction and cycle
// accounting hook.
//
// # What it owns
//
//   - Engine: one Unicorn CPU (uc_engine) with its memory map, translation
//     cache and hooks. Memory helpers (Map, MapPtr, Protect, MemRead, ...),
//     registers (RegRead, RegWriteBatch, SetGDT), contexts, Start/Stop,
//     RemoveCache/FlushTranslations.
//   - Go-callback hooks (HookInterrupt, HookSyscall, HookCPUID, HookCode,
//     HookBlock, HookMemFault, HookInvalidInsn), dispatched through a
//     process-wide table of integer handles.
//   - The accounting hook (accounting.c): a C UC_HOOK_BLOCK callback that
//     charges each executed block's instruction count and cost to the
//     current Counters, with a direct-mapped cost cache in C memory, and
//     stops the engine when a cycle budget is used up.
//   - Exec fences (fence.go): translations of a range that lost EXEC are
//     kept but cannot run (FenceExec); Protect giving EXEC back lifts them.
//
// # Invariants and locking
//
//   - An Engine has no internal locking: it is used from one goroutine at a
//     time. The only call allowed from another goroutine while Start runs is
//     Stop, and never concurrently with Close.
//   - Go callbacks run synchronously inside Start, on the goroutine that
//     called Start. They may call the same engine's methods (RegRead,
//     RegWrite, Map, Stop, HookDel, InvalidateCosts, ...) but never Close or
//     Start. A panic in a callback is recovered at the C boundary, the
//     engine is stopped and Start returns a *CallbackPanic.
//   - C never holds a Go pointer: Unicorn's user_data is an integer handle
//     into the callback table (handles.go). The table is a sync.Map shared
//     by all engines: lock-free lookups per callback, one store per hook
//     added, one delete per hook deleted or engine closed.
//   - Counters, contexts, the cost cache and Unicorn itself live in C
//     memory. Counters accessors and SetCounters are plain loads/stores into
//     that memory, not cgo calls. A Counters is used from one goroutine at a
//     time.
//   - Host memory given to MapPtr must not be Go heap memory (use
//     syscall.Mmap) and must outlive the mapping.
//   - Close is idempotent and releases hooks, handle-table entries, the
//     cost cache and the engine; every other method then returns ErrClosed.
//   - Bad input (zero-size or unaligned maps, unknown registers, nil
//     callbacks, mismatched batch lengths, ...) returns an error, never
//     panics. Unicorn failures are *Error values whose message carries
//     Unicorn's own text: "unicorn: mem_map: Invalid memory mapping
//     (UC_ERR_MAP)".
//
// # Accounting semantics
//
// The C block hook runs at the start of every executed translated block.
// First, a block overlapping a fenced range is stopped (see FenceExec).
// Then it looks the block up by (address, size) in a 65536-slot
// direct-mapped cache indexed by the low address bits; an entry is valid
// only while the generations of the pages holding the block's first and
// last bytes are those it was cached with (a 16384-entry table indexed by
// the low page-number bits). On a miss it calls the Go cost function once
// and caches the answer. Then, if the current Counters' CyclesFP is already
// >= StopAt, it sets BudgetHit and calls uc_emu_stop WITHOUT charging the
// block; otherwise it adds the block's instructions and cost. This order
// follows a measured 2.0.1 fact: uc_emu_stop from a block hook stops before
// the block executes (Start returns with RIP at the block's address;
// TestStopInBlockHookSkipsTheBlock). Consequences:
//
//   - the block that crosses the budget runs whole and is charged; Start
//     returns at the start of the next block, which is charged when resumed
//     (overshoot < one block; nothing is ever charged twice);
//   - if the budget is already used up when Start begins, nothing runs;
//   - a block is charged whole at its start: if execution leaves it early
//     (a data fault, an exception, Stop from a code hook mid-block), the
//     rest stays charged and the resumed tail is a new block, charged again;
//   - the block at Start's until address is never charged (never runs);
//   - code changes must be followed by both RemoveCache (translations) and
//     InvalidateCosts (costs): a rewritten block with the same address and
//     size would otherwise keep its old cost. InvalidateCosts drops every
//     cached block that overlaps the range, including blocks starting before
//     it: a small range (up to 512 candidate slots) by scanning the slots
//     where such blocks can sit, a larger one by bumping the generation of
//     each of its pages, O(pages), which also drops the other blocks of
//     those pages (and of pages whose numbers alias them): they are only
//     priced again, nothing is charged differently.
//
// # Measured Unicorn 2.0.1 behaviour (pinned by the tests)
//
//   - int3 reaches HookInterrupt as 3 with RIP past the int3; i386 int 0x80
//     as 0x80 with EIP past it; divide error as 0 with RIP AT the div (a
//     fault: returning without moving RIP or stopping re-executes it).
//     Writing RIP in an interrupt hook resumes exactly there.
//   - HookSyscall: RIP inside the hook is the address OF the syscall
//     instruction. Unicorn adds the 2-byte length after the hook returns, so
//     to resume at X a hook writes RIP = X-2.
//   - HookCPUID: RIP is the cpuid instruction. Returning true skips the
//     native cpuid (the registers the hook wrote are the result); false runs
//     the native qemu64 cpuid after the hook, with the EAX/ECX the hook left.
//   - HookInvalidInsn: RIP is the invalid instruction (ud2, 0f ff).
//     Returning true ends Start with no error and nothing more executed;
//     the caller resumes from RIP (so the hook must move RIP). Returning
//     false fails Start with CodeInsnInvalid.
//   - Memory faults: the fault hook gets the access kind, address and size
//     (and the value for writes). Returning true after mapping/fixing the
//     page retries the access. RIP inside the hook, and after Start fails,
//     is the START of the translated block holding the faulting load/store,
//     not the instruction itself; general registers reflect the
//     instructions before it, but EFLAGS may be wrong (lazy flags are not
//     restored). EnablePreciseFaultPC makes RIP exact at the price of
//     sending every load and store through the slow path. Fetch faults
//     report RIP = the fetched address.
//   - Stop: from a block hook, before the block; from a code hook, before
//     that instruction; from a syscall hook or a trap's (int3, int n)
//     interrupt hook, after that instruction. Writing RIP and calling Stop in the same hook LOSES the
//     stop (fixed in 2.1.0): stop only, and pass the new PC to the next
//     Start (TestStopLostWhenHookAlsoWritesRIP).
//   - While ANY code hook exists (whatever its range), a stop from a block
//     hook leaves RIP stale: cpu_tb_exec (qemu/accel/tcg/cpu-exec.c) skips
//     restoring the PC of a block exited at its entry check when
//     HOOK_EXISTS(UC_HOOK_CODE), and only hooked instructions sync it. RIP
//     is then e.g. the last cpuid or syscall executed, in any block. Start
//     repairs it: the accounting hook and Go block hooks record the block
//     they stopped before, and Start writes it to RIP/EIP after
//     uc_emu_start returns (TestBlockStopPCWithUnrelatedCodeHook). Code
//     hook stops are exact already (the hooked instruction syncs the PC).
//   - Code and block hooks, the accounting hook and the precise-PC hook are
//     compiled into translated code: added after code ran, they would not
//     apply to it. HookCode, HookBlock, EnableAccounting and
//     EnablePreciseFaultPC therefore drop the existing translations of their
//     range. Interrupt, syscall, cpuid, memory-fault and invalid-instruction
//     hooks are looked up when the event happens and apply at once.
//   - Without a hook, syscall and int3/int n end Start with CodeException.
//   - uc_ctl_remove_cache silently does nothing when the range's FIRST page
//     is unmapped; RemoveCache clips the range to the mapped regions.
//   - Code bytes changed by MemWrite, the host or another engine keep
//     running from the stale translation until RemoveCache covers them;
//     guest self-modifying code inside one engine is handled by Unicorn.
//     Protect removing EXEC does not stop already-translated code until
//     RemoveCache.
//   - i386: FS_BASE/GS_BASE writes are ignored; load a GDT with SetGDT, put
//     a DPL-3 data descriptor in it and load the selector (guest mov or
//     RegWrite(GS, sel)); gs:[x] then reads from the descriptor's base.
//   - FlushTranslations (uc_ctl_flush_tlb) is very slow (see Costs): use
//     RemoveCache.
//   - Translating is the expensive operation: ~5-8 us even for a
//     one-instruction block, whatever hooks are installed
//     (BenchmarkRetranslate), against ~0.65 us for a Start that runs
//     translated code and stops (BenchmarkStartStop). Every run that
//     reaches until translates the block at until again (2.0.1 drops the
//     translation at until-1 after each run): until must be an address
//     that is never executed.
//   - Writing RIP/EIP (RegWrite, a batch, Start) sets Unicorn's quit
//     request and calls uc_emu_stop internally; emulation goes on at the
//     new ip (only the current translated block is left).
//
// # Costs (2-vCPU VM shared with other jobs, load average 4-7: ranges)
//
// Measured with go test -run '^$' -bench . -benchtime 5x ./emu/uc/:
//
//   - register loop: 0.38-0.5 ns/insn raw, 1.0-1.2 ns/insn with the C
//     accounting hook (5-instruction blocks, so ~3 ns per block; ratio
//     ~2.4x);
//   - loads: 1.3-2.5 ns/insn on a 3-instruction loop; 7-17 ns/insn with
//     EnablePreciseFaultPC;
//   - stores: 170-240 ns EACH on any RAM page, code or not (56-79 ns/insn on
//     a 3-instruction loop). Unicorn 2.0.1 sends every guest store through
//     notdirty_write; upstream fixed this after 2.0.1 (unicorn issue #1970).
//     The 2.0.1 API offers no workaround;
//   - a Go callback: 110-230 ns (mostly the cgo callback itself);
//   - SetCounters ~10-16 ns; InvalidateCosts 70-120 ns for a probe-sized
//     range, ~80 ns for a 4 KiB page (O(pages) beyond 512 candidate slots;
//     scanning every slot of the page took ~6 us); RemoveCache of a
//     probe-sized range ~400 ns (includes the uc_mem_regions lookup);
//     FlushTranslations
//     ~1.9 s first call, ~40 ms later;
//   - a cgo call ~40-150 ns depending on load: RegRead, RegWrite and
//     RegUpdate pass values, not Go pointers (no cgocheck), and RegRead3 /
//     RegWrite2 serve a trap handler's few registers in one call;
//   - BenchmarkSSOLHit (an out-of-line probe hit at this level: two
//     interrupt callbacks, two Protects, the step): 7.7-9.5 us/hit when the
//     page's translations are dropped at every NX restore (the copy is
//     translated on every hit), 1.4-1.9 us/hit with FenceExec;
//     BenchmarkRetranslate ~11-13.5 us (two blocks translated),
//     BenchmarkStartStop 0.65-0.95 us.
package uc
