// shim.h declares the C side of package uc: hook installers whose user_data
// is an integer handle into the Go callback table, helpers for calls cgo
// cannot make directly (variadic uc_hook_add/uc_ctl, pointer arrays for the
// batch register calls, uc_x86_mmr), and the per-block accounting hook.
//
// Only declarations live here: a Go file with //export may not define C
// functions in its preamble, so definitions are in trampolines.c and
// accounting.c.
#ifndef PROBESIM_UC_SHIM_H
#define PROBESIM_UC_SHIM_H

#include <stdbool.h>
#include <stdint.h>
#include <unicorn/unicorn.h>

// ---- Go-callback hooks (trampolines.c) ----
uc_err probesim_hook_intr(uc_engine *uc, uc_hook *hh, uintptr_t handle);
uc_err probesim_hook_syscall(uc_engine *uc, uc_hook *hh, uintptr_t handle);
uc_err probesim_hook_cpuid(uc_engine *uc, uc_hook *hh, uintptr_t handle);
uc_err probesim_hook_code(uc_engine *uc, uc_hook *hh, uintptr_t handle,
                          uint64_t begin, uint64_t end);
uc_err probesim_hook_block(uc_engine *uc, uc_hook *hh, uintptr_t handle,
                           uint64_t begin, uint64_t end);
uc_err probesim_hook_mem_fault(uc_engine *uc, uc_hook *hh, uintptr_t handle);
uc_err probesim_hook_insn_invalid(uc_engine *uc, uc_hook *hh,
                                  uintptr_t handle);

// ---- helpers (trampolines.c) ----
// One register, by value (no pointer crosses from Go: see RegRead).
typedef struct probesim_reg_result {
    uint64_t value;
    uc_err err;
} probesim_reg_result;
probesim_reg_result probesim_reg_read(uc_engine *uc, int regid);
uc_err probesim_reg_write(uc_engine *uc, int regid, uint64_t value);
// Three registers in one call (a trap handler's PC, SP and flags).
typedef struct probesim_reg3_result {
    uint64_t value[3];
    uc_err err;
} probesim_reg3_result;
probesim_reg3_result probesim_reg_read3(uc_engine *uc, int r0, int r1, int r2);
uc_err probesim_reg_write2(uc_engine *uc, int r0, uint64_t v0, int r1,
                           uint64_t v1);
// reg = (reg & ~clear) | set; returns the value written.
probesim_reg_result probesim_reg_update(uc_engine *uc, int regid,
                                        uint64_t clear, uint64_t set);
// regs holds Go ints (intptr_t-sized); vals receives zero-extended values.
uc_err probesim_reg_read_batch(uc_engine *uc, const intptr_t *regs,
                               uint64_t *vals, int count);
uc_err probesim_reg_write_batch(uc_engine *uc, const intptr_t *regs,
                                const uint64_t *vals, int count);
uc_err probesim_set_gdt(uc_engine *uc, uint64_t base, uint32_t limit);
// Removes translations of the mapped parts of [first, last] (inclusive).
uc_err probesim_remove_cache(uc_engine *uc, uint64_t first, uint64_t last);
uc_err probesim_flush_tb(uc_engine *uc);
uc_err probesim_hook_sync_pc(uc_engine *uc, uc_hook *hh);

// ---- per-block accounting (accounting.c) ----

// probesim_counters is what the block hook charges. It lives in C memory so
// the hook can update it without crossing into Go, and Go reads it with plain
// loads.
typedef struct probesim_counters {
    uint64_t insns;      // guest instructions executed (block granularity)
    uint64_t cycles_fp;  // cycles in 24.8 fixed point (cycles * 256)
    uint64_t stop_at_fp; // a block starting with cycles_fp >= stop_at_fp
                         // stops the engine instead of running
    uint32_t budget_hit; // set by the hook when it requested the stop
    uint32_t skip_valid; // skip_at holds an address
    // skip_at: the next block that starts here is not charged. Set when a
    // run was stopped before an instruction of a block already charged (a
    // watched address): resuming there translates a new block whose
    // instructions were counted with the interrupted one.
    uint64_t skip_at;
} probesim_counters;

// One direct-mapped cost cache slot. A slot matches a block only if the
// start address and the byte size are equal (the same address can start
// blocks of different lengths, e.g. after a probe splits a block) and the
// generations of the pages holding the block's first and last bytes are
// still those recorded when the block was priced.
typedef struct probesim_cost_slot {
    uint64_t addr;
    uint32_t size;
    uint32_t insns_valid; // bit 31: slot valid; bits 0..30: instruction count
    uint64_t cost_fp;
    uint32_t gen_first; // page state of addr when cached
    uint32_t gen_last;  // page state of addr+size-1 when cached
} probesim_cost_slot;

#define PROBESIM_COST_SLOTS 65536u
#define PROBESIM_SLOT_VALID 0x80000000u

// Page states, indexed by the low bits of the page number (pages
// PROBESIM_PAGE_STATES * 4 KiB apart share an entry, which only costs extra
// re-pricing). Bits 1..31: the generation, bumped by every invalidation
// of a page with this index. Bit 0: some fenced range holds a page with
// this index.
#define PROBESIM_PAGE_STATES 16384u
#define PROBESIM_PAGE_FENCED 1u
#define PROBESIM_PAGE_GEN_STEP 2u

// A range [begin, end) whose translations are kept but must not run.
typedef struct probesim_range {
    uint64_t begin, end;
} probesim_range;

// Room for the NX-flipped stack page of a thread per vCPU (up to 64); more
// fences evict the oldest (its translations are dropped).
#define PROBESIM_MAX_FENCES 64u

typedef struct probesim_acct {
    probesim_counters *cur; // may be NULL: blocks are then not charged
    uintptr_t cost_handle;  // Go callback table handle of the cost function
    uint64_t misses;        // cost function calls (cache misses)
    uint32_t max_size;      // largest block size ever cached (for invalidation)
    // stopped/stop_pc: the hook stopped the engine before the block at
    // stop_pc during the current Start (budget or fence). Start writes
    // stop_pc back to the PC afterwards, because 2.0.1 does not when any
    // code hook exists (see Engine.Start).
    uint32_t stopped;
    uint32_t fence_hit; // the stop was a block overlapping a fenced range
    uint64_t stop_pc;
    uc_hook hook;
    uint32_t fence_count;
    probesim_range fences[PROBESIM_MAX_FENCES]; // oldest first
    probesim_cost_slot *slots; // PROBESIM_COST_SLOTS entries
    // Page states (see PROBESIM_PAGE_STATES), inline so that the block
    // hook reaches them with one load.
    uint32_t page_state[PROBESIM_PAGE_STATES];
} probesim_acct;

probesim_acct *probesim_acct_new(uintptr_t cost_handle);
void probesim_acct_free(probesim_acct *a);
uc_err probesim_acct_install(uc_engine *uc, probesim_acct *a);
void probesim_acct_invalidate(probesim_acct *a, uint64_t begin, uint64_t end);
void probesim_acct_clear(probesim_acct *a);
// Adds a fenced range; returns 0 when the table is full.
int probesim_fence_add(probesim_acct *a, uint64_t begin, uint64_t end);
// Removes fences[i], keeping the order of the others.
void probesim_fence_remove(probesim_acct *a, uint32_t i);
// Drops the cached costs of [begin, end) and fences it; returns 0 (and does
// nothing) when the fence table is full.
int probesim_fence_exec(probesim_acct *a, uint64_t begin, uint64_t end);

// uc_mem_protect; when perms include EXEC and a is not NULL, the fences
// inside [addr, addr+size) are lifted too, and partial is set when a fence
// only partly inside remains (the caller drops it).
typedef struct probesim_protect_result {
    uc_err err;
    int partial;
} probesim_protect_result;
probesim_protect_result probesim_protect(uc_engine *uc, probesim_acct *a,
                                         uint64_t addr, size_t size,
                                         uint32_t perms);

#endif
