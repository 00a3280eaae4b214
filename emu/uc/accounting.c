// Per-block instruction and cycle accounting, entirely in C: the block hook
// runs once per executed translated block, so it must never cross into Go on
// the hot path. Go is called once per distinct (address, size) block, on a
// cost-cache miss.
//
// The same hook enforces exec fences: a translated block overlapping a
// fenced range is stopped before it runs, so that Start can drop the
// fenced translations and let Unicorn check the fetch against the current
// page protection (see Engine.FenceExec).
#include <stdlib.h>
#include <string.h>

#include "shim.h"
#include "_cgo_export.h"

#define SLOT_MASK (PROBESIM_COST_SLOTS - 1)
#define PAGE_SHIFT 12
#define PAGE_SIZE (1u << PAGE_SHIFT)
#define PAGE_OFFSET_MASK (PAGE_SIZE - 1)
#define STATE_MASK (PROBESIM_PAGE_STATES - 1)
// Invalidations that would scan more slots than this bump page generations.
#define PROBESIM_EXACT_SCAN 512u

// Slots are indexed by the low address bits (like a direct-mapped icache):
// blocks within any 64 KiB window never conflict.
static inline probesim_cost_slot *slot_for(probesim_acct *a, uint64_t addr) {
    return &a->slots[addr & SLOT_MASK];
}

static inline uint32_t *state_for(probesim_acct *a, uint64_t addr) {
    return &a->page_state[(addr >> PAGE_SHIFT) & STATE_MASK];
}

static int fence_overlaps(const probesim_acct *a, uint64_t first,
                          uint64_t last) {
    for (uint32_t i = 0; i < a->fence_count; i++) {
        if (first < a->fences[i].end && last >= a->fences[i].begin) {
            return 1;
        }
    }
    return 0;
}

// A block's price, as the miss path hands it to acct_block.
typedef struct block_price {
    uint32_t insns;
    uint64_t cost;
    int charge; // 0: nothing to charge (stopped before the block, or failed)
} block_price;

// acct_miss is the cold path of acct_block: the fence check and the cost
// function. Kept out of line so that the hit path needs few registers.
static __attribute__((noinline, cold)) block_price
acct_miss(uc_engine *uc, probesim_acct *a, uint64_t addr, uint32_t size,
          uint64_t last, uint32_t first_state, probesim_cost_slot *s) {
    block_price p = {0, 0, 0};
    uint32_t last_state = *state_for(a, last);
    if ((first_state | last_state) & PROBESIM_PAGE_FENCED &&
        fence_overlaps(a, addr, last)) {
        // Nothing of the block runs or is charged (a stop from a block
        // hook stops before the block); Start drops the fenced
        // translations and resumes here.
        a->fence_hit = 1;
        a->stopped = 1;
        a->stop_pc = addr;
        uc_emu_stop(uc);
        return p;
    }
    a->misses++;
    uint32_t insns = 0;
    uint64_t cost = 0;
    if (!probesimGoCostMiss(a->cost_handle, addr, size, &insns, &cost)) {
        // The Go side recorded the failure and requested a stop; do not
        // cache or charge a made-up cost.
        return p;
    }
    // The states were read before the cost function ran: if it
    // invalidated these pages, the entry is stale at once, as it must.
    // A block over more than two pages (never produced by QEMU's x86
    // translator) would need more states: it is not cached.
    if ((last >> PAGE_SHIFT) - (addr >> PAGE_SHIFT) <= 1) {
        s->addr = addr;
        s->size = size;
        s->insns_valid = (insns & ~PROBESIM_SLOT_VALID) | PROBESIM_SLOT_VALID;
        s->cost_fp = cost;
        s->gen_first = first_state;
        s->gen_last = last_state;
        if (size > a->max_size) {
            a->max_size = size;
        }
    }
    p.insns = insns & ~PROBESIM_SLOT_VALID;
    p.cost = cost;
    p.charge = 1;
    return p;
}

static void acct_block(uc_engine *uc, uint64_t addr, uint32_t size, void *ud) {
    probesim_acct *a = (probesim_acct *)ud;
    uint32_t first_state = *state_for(a, addr);
    probesim_cost_slot *s = slot_for(a, addr);
    uint32_t insns;
    uint64_t cost;
    // The hot path: one page-state load (two for a block running into the
    // next page). A slot records the page states (generation and fence
    // mark) it was filled under; any invalidation or new fence changes
    // them, so a hit needs no fence check (see probesim_fence_add).
    if (__builtin_expect(s->addr == addr && s->size == size &&
                             (s->insns_valid & PROBESIM_SLOT_VALID) &&
                             s->gen_first == first_state &&
                             ((addr & PAGE_OFFSET_MASK) + size <= PAGE_SIZE ||
                              s->gen_last == *state_for(a, addr + size - 1)),
                         1)) {
        insns = s->insns_valid & ~PROBESIM_SLOT_VALID;
        cost = s->cost_fp;
    } else {
        uint64_t last = size > 0 ? addr + size - 1 : addr;
        block_price p = acct_miss(uc, a, addr, size, last, first_state, s);
        if (!p.charge) {
            return;
        }
        insns = p.insns;
        cost = p.cost;
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
    c->insns += insns;
    c->cycles_fp += cost;
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

// page_span gives the page-state entries [first, first+count) (mod
// PROBESIM_PAGE_STATES) that the pages of [begin, end) map to; a range of
// PROBESIM_PAGE_STATES pages or more maps to all of them.
static void page_span(uint64_t begin, uint64_t end, uint64_t *first,
                      uint64_t *count) {
    uint64_t lo = begin >> PAGE_SHIFT, hi = (end - 1) >> PAGE_SHIFT;
    *first = lo;
    *count = hi - lo + 1;
    if (*count >= PROBESIM_PAGE_STATES) {
        *first = 0;
        *count = PROBESIM_PAGE_STATES;
    }
}

static void bump_pages(probesim_acct *a, uint64_t begin, uint64_t end);

// Invalidates every cached block that overlaps [begin, end), not only those
// starting there: a block that starts before begin but runs into the range
// contains the changed bytes too.
//
// A small range (a probe's bytes) is scanned exactly: the blocks that may
// overlap it start in [begin - (max_size-1), end), a contiguous run of slots.
// A larger one bumps the generation of each of its pages, which is O(pages)
// and also drops, by the lookup in acct_block, the other blocks of those
// pages (they are priced again; a block that starts before the range and
// runs into it holds the range's first page as its last page).
void probesim_acct_invalidate(probesim_acct *a, uint64_t begin, uint64_t end) {
    if (end <= begin) {
        return;
    }
    uint64_t reach = a->max_size > 0 ? a->max_size - 1 : 0;
    uint64_t lo = begin > reach ? begin - reach : 0;
    if (end - lo <= PROBESIM_EXACT_SCAN) {
        for (uint64_t i = 0; i < end - lo; i++) {
            probesim_cost_slot *s = &a->slots[(lo + i) & SLOT_MASK];
            if (!(s->insns_valid & PROBESIM_SLOT_VALID) || s->addr >= end) {
                continue;
            }
            if (s->addr >= begin || s->size > begin - s->addr) {
                s->insns_valid = 0;
            }
        }
        return;
    }
    bump_pages(a, begin, end);
}

// bump_pages increments the generation of each page of [begin, end).
static void bump_pages(probesim_acct *a, uint64_t begin, uint64_t end) {
    uint64_t first, count;
    page_span(begin, end, &first, &count);
    int wrapped = 0;
    for (uint64_t i = 0; i < count; i++) {
        uint32_t *st = &a->page_state[(first + i) & STATE_MASK];
        *st += PROBESIM_PAGE_GEN_STEP;
        wrapped |= (*st & ~PROBESIM_PAGE_FENCED) == 0;
    }
    if (wrapped) {
        // After 2^31 bumps a generation repeats: a slot cached that long
        // ago could match again. Forget everything instead.
        probesim_acct_clear(a);
    }
}

void probesim_acct_clear(probesim_acct *a) {
    for (uint32_t i = 0; i < PROBESIM_COST_SLOTS; i++) {
        a->slots[i].insns_valid = 0;
    }
}

static void fence_mark(probesim_acct *a, probesim_range r, int on) {
    uint64_t first, count;
    page_span(r.begin, r.end, &first, &count);
    for (uint64_t i = 0; i < count; i++) {
        uint32_t *st = &a->page_state[(first + i) & STATE_MASK];
        if (on) {
            *st |= PROBESIM_PAGE_FENCED;
        } else {
            *st &= ~PROBESIM_PAGE_FENCED;
        }
    }
}

// Adding a fence must change the state of each of its pages even where the
// mark is already set (another fence on a page with the same index): a
// cached slot skips the fence check as long as its page states are
// unchanged. So the generations are bumped too (their cached costs go).
int probesim_fence_add(probesim_acct *a, uint64_t begin, uint64_t end) {
    if (end <= begin) {
        return 1;
    }
    if (a->fence_count == PROBESIM_MAX_FENCES) {
        return 0;
    }
    probesim_range r = {begin, end};
    a->fences[a->fence_count++] = r;
    bump_pages(a, begin, end);
    fence_mark(a, r, 1);
    return 1;
}

void probesim_fence_remove(probesim_acct *a, uint32_t i) {
    if (i >= a->fence_count) {
        return;
    }
    probesim_range gone = a->fences[i];
    memmove(&a->fences[i], &a->fences[i + 1],
            (a->fence_count - i - 1) * sizeof(probesim_range));
    a->fence_count--;
    // Entries are shared by aliasing pages: clear the removed range's marks,
    // then mark every remaining range again.
    fence_mark(a, gone, 0);
    for (uint32_t j = 0; j < a->fence_count; j++) {
        fence_mark(a, a->fences[j], 1);
    }
}

int probesim_fence_exec(probesim_acct *a, uint64_t begin, uint64_t end) {
    if (a->fence_count == PROBESIM_MAX_FENCES) {
        return 0;
    }
    probesim_acct_invalidate(a, begin, end);
    return probesim_fence_add(a, begin, end);
}

// One cgo crossing for what a probe's NX flip needs on every hit: the
// protection change and the lifting of the fence it makes pointless.
probesim_protect_result probesim_protect(uc_engine *uc, probesim_acct *a,
                                         uint64_t addr, size_t size,
                                         uint32_t perms) {
    probesim_protect_result r = {uc_mem_protect(uc, addr, size, perms), 0};
    if (r.err != UC_ERR_OK || a == NULL || !(perms & UC_PROT_EXEC)) {
        return r;
    }
    uint64_t end = addr + size;
    for (uint32_t i = 0; i < a->fence_count;) {
        probesim_range f = a->fences[i];
        if (f.end <= addr || f.begin >= end) {
            i++;
        } else if (f.begin >= addr && f.end <= end) {
            probesim_fence_remove(a, i);
        } else {
            r.partial = 1;
            i++;
        }
    }
    return r;
}
