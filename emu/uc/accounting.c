// Per-block instruction and cycle accounting, entirely in C: the block hook
// runs once per executed translated block, so it must never cross into Go on
// the hot path. Go is called once per distinct (address, size) block, on a
// cost-cache miss.
#include <stdlib.h>

#include "shim.h"
#include "_cgo_export.h"

#define SLOT_MASK (PROBESIM_COST_SLOTS - 1)

// Slots are indexed by the low address bits (like a direct-mapped icache):
// blocks within any 64 KiB window never conflict, and the blocks that may
// overlap a small range sit in a contiguous run of slots, which keeps
// probesim_acct_invalidate from scanning the whole table.
static inline probesim_cost_slot *slot_for(probesim_acct *a, uint64_t addr) {
    return &a->slots[addr & SLOT_MASK];
}

static void acct_block(uc_engine *uc, uint64_t addr, uint32_t size, void *ud) {
    probesim_acct *a = (probesim_acct *)ud;
    probesim_cost_slot *s = slot_for(a, addr);
    if (__builtin_expect(s->addr != addr || s->size != size ||
                             !(s->insns_valid & PROBESIM_SLOT_VALID),
                         0)) {
        uint32_t insns = 0;
        uint64_t cost = 0;
        a->misses++;
        if (!probesimGoCostMiss(a->cost_handle, addr, size, &insns, &cost)) {
            // The Go side recorded the failure and requested a stop; do not
            // cache or charge a made-up cost.
            return;
        }
        s->addr = addr;
        s->size = size;
        s->insns_valid = (insns & ~PROBESIM_SLOT_VALID) | PROBESIM_SLOT_VALID;
        s->cost_fp = cost;
        if (size > a->max_size) {
            a->max_size = size;
        }
    }
    probesim_counters *c = a->cur;
    if (c == NULL) {
        return;
    }
    // Measured on 2.0.1: uc_emu_stop() from a block hook stops BEFORE the
    // block executes (Start returns with the PC at the block's address). So
    // the budget is checked before charging: a block is charged only if it
    // will run, the block that crosses the budget runs to its end, and the
    // run stops at the start of the next block, which is charged when it is
    // resumed. Charging first and stopping would count that block twice.
    if (__builtin_expect(c->skip_valid, 0)) {
        // Only the first block after the stop can be the re-entered one.
        c->skip_valid = 0;
        if (c->skip_at == addr) {
            return;
        }
    }
    if (c->cycles_fp >= c->stop_at_fp) {
        c->budget_hit = 1;
        // Remembered because Unicorn may leave a stale PC (Engine.Start).
        a->stopped = 1;
        a->stop_pc = addr;
        uc_emu_stop(uc);
        return;
    }
    c->insns += s->insns_valid & ~PROBESIM_SLOT_VALID;
    c->cycles_fp += s->cost_fp;
}

probesim_acct *probesim_acct_new(uintptr_t cost_handle) {
    probesim_acct *a = calloc(1, sizeof(*a));
    if (a == NULL) {
        return NULL;
    }
    a->slots = calloc(PROBESIM_COST_SLOTS, sizeof(probesim_cost_slot));
    if (a->slots == NULL) {
        free(a);
        return NULL;
    }
    a->cost_handle = cost_handle;
    return a;
}

void probesim_acct_free(probesim_acct *a) {
    if (a == NULL) {
        return;
    }
    free(a->slots);
    free(a);
}

uc_err probesim_acct_install(uc_engine *uc, probesim_acct *a) {
    return uc_hook_add(uc, &a->hook, UC_HOOK_BLOCK, (void *)acct_block, a, 1,
                       0);
}

// Invalidates every cached block that overlaps [begin, end), not only those
// starting there: a block that starts before begin but runs into the range
// contains the changed bytes too.
void probesim_acct_invalidate(probesim_acct *a, uint64_t begin, uint64_t end) {
    if (end <= begin) {
        return;
    }
    uint64_t reach = a->max_size > 0 ? a->max_size - 1 : 0;
    uint64_t lo = begin > reach ? begin - reach : 0;
    uint64_t first = 0, count = PROBESIM_COST_SLOTS;
    if (end - lo < PROBESIM_COST_SLOTS) {
        first = lo;
        count = end - lo;
    }
    for (uint64_t i = 0; i < count; i++) {
        probesim_cost_slot *s = &a->slots[(first + i) & SLOT_MASK];
        if (!(s->insns_valid & PROBESIM_SLOT_VALID) || s->addr >= end) {
            continue;
        }
        if (s->addr >= begin || s->size > begin - s->addr) {
            s->insns_valid = 0;
        }
    }
}

void probesim_acct_clear(probesim_acct *a) {
    for (uint32_t i = 0; i < PROBESIM_COST_SLOTS; i++) {
        a->slots[i].insns_valid = 0;
    }
}
