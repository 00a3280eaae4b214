// shim.h declares the C side of package uc: hook installers whose user_data
// is an integer handle into the Go callback table, helpers for calls cgo
// cannot make directly (variadic uc_hook_add/uc_ctl, pointer arrays for the
// batch register calls, uc_x86_mmr), the guest page table behind Unicorn's
// virtual TLB (vm.c), and the per-block accounting hook (accounting.c).
//
// Only declarations live here: a Go file with //export may not define C
// functions in its preamble, so definitions are in trampolines.c, vm.c and
// accounting.c.
#ifndef PROBESIM_UC_SHIM_H
#define PROBESIM_UC_SHIM_H

#include <stdbool.h>
#include <stdint.h>
#include <unicorn/unicorn.h>

// The only Unicorn this binding is written and tested against.
#define PROBESIM_UC_MAJOR 2
#define PROBESIM_UC_MINOR 1
#define PROBESIM_UC_PATCH 1

// ---- Go-callback hooks (trampolines.c) ----
uc_err probesim_hook_intr(uc_engine *uc, uc_hook *hh, uintptr_t handle);
uc_err probesim_hook_syscall(uc_engine *uc, uc_hook *hh, uintptr_t handle);
uc_err probesim_hook_cpuid(uc_engine *uc, uc_hook *hh, uintptr_t handle);
// in and out: two hooks, both calling the same Go function.
uc_err probesim_hook_in(uc_engine *uc, uc_hook *hh, uintptr_t handle);
uc_err probesim_hook_out(uc_engine *uc, uc_hook *hh, uintptr_t handle);
uc_err probesim_hook_code(uc_engine *uc, uc_hook *hh, uintptr_t handle,
                          uint64_t begin, uint64_t end);
uc_err probesim_hook_block_noop(uc_engine *uc, uc_hook *hh, uint64_t *count);
uc_err probesim_hook_block(uc_engine *uc, uc_hook *hh, uintptr_t handle,
                           uint64_t begin, uint64_t end);
uc_err probesim_hook_insn_invalid(uc_engine *uc, uc_hook *hh,
                                  uintptr_t handle);

// ---- helpers (trampolines.c) ----
uc_err probesim_open(int mode, int cpu_model, int virtual_tlb, uc_engine **out);
uc_err probesim_emu_start(uc_engine *uc, uint64_t begin, uint64_t until,
                          uint64_t timeout, size_t count, uint64_t *repairs);
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
uc_err probesim_flush_tb(uc_engine *uc);
uc_err probesim_flush_tlb(uc_engine *uc);
// Removes translations of the mapped parts of [first, last] (inclusive) of
// an engine without a virtual TLB.
uc_err probesim_remove_cache(uc_engine *uc, uint64_t first, uint64_t last);

// ---- the guest page table (vm.c) ----

// A page-table entry: the physical page (bits 12..63), PTE_PRESENT, and the
// UC_PROT_* permissions the page grants (bits 0..2).
#define PROBESIM_PTE_PRESENT 8u
#define PROBESIM_PTE_PERMS 7u

// A four-level table of 512-entry nodes over 48-bit virtual addresses; the
// nodes are allocated on first use and freed at probesim_vm_free.
typedef struct probesim_pt_node {
    uint64_t e[512]; // inner levels: child pointers; leaves: PTEs
} probesim_pt_node;

// The access that the TLB fill refused last, for Start to report.
typedef struct probesim_vm_fault {
    uint32_t pending; // set by a refusal, cleared at every Start
    uint32_t type;    // UC_MEM_READ, UC_MEM_WRITE or UC_MEM_FETCH
    uint32_t mapped;  // the page is mapped (a protection fault)
    uint32_t pad;
    uint64_t page; // page-aligned virtual address (all Unicorn passes)
} probesim_vm_fault;

typedef struct probesim_acct probesim_acct;

// One page table: an address space's translations (Engine.NewPageTable).
// An engine has one active table at a time (probesim_vm.pt), as a CPU has
// one CR3; the others are edited while inactive and switched to later.
typedef struct probesim_pt {
    probesim_pt_node *root;
    uint64_t entries; // present PTEs
    uint64_t nodes;   // allocated nodes
} probesim_pt;

typedef struct probesim_vm {
    probesim_pt *pt;  // the active table
    probesim_pt base; // the table the engine was opened with
    uintptr_t translate_handle; // Go translator (callback table handle)
    uc_hook hook;
    // invalidating: the fill is serving uc_ctl_remove_cache's own lookup
    // of a page's physical address, not a guest access: it must not call
    // Go, and it must succeed for any present page (see vm.c).
    uint32_t invalidating;
    uint32_t pad;
    probesim_vm_fault fault;
    probesim_acct *acct; // for fencing the pages that get stale exec entries
    uint64_t fills;      // TLB fills served
    uint64_t translations; // Go translator calls
    uint64_t tlb_flushes;  // full TLB flushes
} probesim_vm;

probesim_vm *probesim_vm_new(uintptr_t translate_handle);
void probesim_vm_free(probesim_vm *vm);
uc_err probesim_vm_install(uc_engine *uc, probesim_vm *vm);
// Drops the PTEs of [begin, end); returns how many were present.
uint64_t probesim_vm_drop(probesim_vm *vm, uint64_t begin, uint64_t end);
// Sets the permissions of the present PTEs of [begin, end) to perms; returns
// the union of the permissions that were taken away.
uint32_t probesim_vm_protect(probesim_vm *vm, uint64_t begin, uint64_t end,
                             uint32_t perms);
// The PTE of the page holding vaddr (0: none).
uint64_t probesim_vm_pte(probesim_vm *vm, uint64_t vaddr);
// Page tables other than the engine's first: made empty, freed with their
// nodes; the _pt variants of drop, protect and pte act on a given table.
probesim_pt *probesim_pt_new(void);
void probesim_pt_free(probesim_pt *pt);
uint64_t probesim_pt_drop(probesim_pt *pt, uint64_t begin, uint64_t end);
uint32_t probesim_pt_protect(probesim_pt *pt, uint64_t begin, uint64_t end,
                             uint32_t perms);
uint64_t probesim_pt_pte(probesim_pt *pt, uint64_t vaddr);
// How many present PTEs [begin, end) of pt holds.
uint64_t probesim_pt_drop_count(probesim_pt *pt, uint64_t begin, uint64_t end);
// Removes the translated blocks of [begin, end) page by page, through each
// present page's physical address; returns the first error.
uc_err probesim_vm_remove_cache(uc_engine *uc, probesim_vm *vm, uint64_t begin,
                                uint64_t end);

// ---- per-block accounting (accounting.c) ----

// probesim_counters is what the block hook charges. It lives in C memory so
// the hook can update it without crossing into Go, and Go reads it with plain
// loads.
typedef struct probesim_counters {
    uint64_t insns;      // guest instructions executed (block granularity)
    uint64_t cycles_fp;  // cycles in 24.8 fixed point (cycles * 256)
    // fast_limit_fp is stop_at_fp, or 0 while skip_valid: the hook's fast
    // path runs a block only while cycles_fp < fast_limit_fp, one test for
    // both. Every writer of stop_at_fp or skip_valid keeps it in step.
    uint64_t fast_limit_fp;
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

// A code page's record: its fence mark and the cached blocks that start in
// it (so that an invalidation finds them). Records never move (they are
// allocated in fixed chunks).
// A page whose block list would grow past this gives the list up; an
// invalidation touching it then empties the whole cache.
#define PROBESIM_PAGE_MAX_BLOCKS 4096u

typedef struct probesim_block_key {
    uint64_t addr;
    uint32_t size;
    uint32_t pad;
} probesim_block_key;

typedef struct probesim_page {
    uint64_t page; // page number (address >> 12)
    uint32_t fenced;
    uint32_t nblocks, cap;
    uint32_t overflow; // the block list was given up: invalidate whole
    probesim_block_key *blocks;
} probesim_page;

// One cost entry: a block (start address and byte size: one address can
// start blocks of different lengths) with its price. Size 0: empty (no
// translated block is empty). An invalidation removes the entries of the
// blocks it touches, found through the page records' lists.
typedef struct probesim_cost_entry {
    uint64_t addr;
    uint32_t size;
    uint32_t insns;
    uint64_t cost_fp;
} probesim_cost_entry;

#define PROBESIM_WAYS 4u

typedef struct probesim_cost_set {
    probesim_cost_entry way[PROBESIM_WAYS];
} probesim_cost_set;

// Pages whose TLB entries may still grant execute permission that the page
// table no longer does (exec revoked without a TLB flush, or granted for
// remove_cache's own lookup): blocks on them are stopped before they run
// until the next full TLB flush. More than this many flush at once.
#define PROBESIM_MAX_FENCES 64u

// Watched addresses of the block hook (Engine.WatchBlocks): an executed
// block holding one asks Go first. Few are watched at a time (the probe
// engine watches a probe only while its inline window is open).
#define PROBESIM_MAX_WATCHES 256u

typedef struct probesim_acct {
    probesim_counters *cur; // may be NULL: blocks are then not charged
    uintptr_t cost_handle;  // Go callback table handle of the cost function
    uint64_t misses;        // cost function calls (cache misses)
    uint64_t evictions;     // entries pushed out of a full set
    uint64_t evictions_at_resize;
    uint32_t max_size;      // largest block size ever cached (for invalidation)
    // stopped/stop_pc: the hook stopped the engine before the block at
    // stop_pc during the current Start (budget or fence); Start writes the
    // PC back (see Engine.Start).
    uint32_t stopped;
    uint32_t fence_hit; // the stop was a block on a fenced page
    uint32_t set_bits;  // log2 of the number of sets
    uint64_t set_mask;  // sets - 1
    // epoch counts invalidations, so that the miss path can tell whether
    // the cost function invalidated (a code write from Go) while it ran.
    uint64_t epoch;
    uint64_t stop_pc;
    uc_hook hook;
    probesim_cost_set *sets;
    // Page records: a hash table of pointers (open addressing) into
    // chunks of records.
    probesim_page **page_index;
    uint32_t page_index_bits;
    uint32_t npages;
    probesim_page **page_chunks;
    uint32_t nchunks, chunk_cap;
    uint32_t fence_count;
    uint32_t fence_overflow; // set when the fence list filled up
    probesim_page *fences[PROBESIM_MAX_FENCES];
    // fast is what the hook's fast path charges: cur while nothing is
    // watched, else gate, whose fast_limit_fp of 0 sends every block to
    // the slow path (probesim_acct_set_counters and the watch list keep it
    // in step).
    probesim_counters *fast;
    probesim_counters gate;
    uintptr_t watch_handle; // Go callback table handle of the watch function
    uint32_t nwatch;        // watched addresses, sorted
    uint64_t watch[PROBESIM_MAX_WATCHES];
} probesim_acct;

probesim_acct *probesim_acct_new(uintptr_t cost_handle);
void probesim_acct_free(probesim_acct *a);
uc_err probesim_acct_install(uc_engine *uc, probesim_acct *a);
void probesim_acct_invalidate(probesim_acct *a, uint64_t begin, uint64_t end);
void probesim_acct_clear(probesim_acct *a);
// Makes c (NULL: none) the counters the hook charges.
void probesim_acct_set_counters(probesim_acct *a, probesim_counters *c);
// Fences the pages of [begin, end); returns 0 when the fence list is full
// (the caller must then flush the TLB and clear the fences).
int probesim_fence_pages(probesim_acct *a, uint64_t begin, uint64_t end);
// Lifts the fences of the pages of [begin, end) (they are executable again:
// their TLB entries are right).
void probesim_unfence_pages(probesim_acct *a, uint64_t begin, uint64_t end);
// Lifts every fence (after a full TLB flush).
void probesim_fence_clear(probesim_acct *a);
uint64_t probesim_acct_entries(probesim_acct *a);
// Adds or removes a watched address; add returns 0 when the list is full.
int probesim_watch_add(probesim_acct *a, uint64_t addr);
void probesim_watch_remove(probesim_acct *a, uint64_t addr);

#endif
