// Per-block instruction and cycle accounting, entirely in C: the block hook
// runs once per executed translated block, so it must never cross into Go on
// the hot path. Go is called once per distinct (address, size) block, on a
// cost-cache miss.
//
// The cost cache is set associative (PROBESIM_WAYS ways) and indexed by a
// hash of the full block address, so blocks collide only by chance, never
// by alignment; when sets overflow often, the table doubles. Each entry
// points at the records of the pages holding its first and last bytes; a
// page record's state (generation and fence bit) must still be what the
// entry was priced under. Page records are found by a hash of the full page
// number, so no two pages share one.
//
// The same hook enforces exec fences: a block on a fenced page (one whose
// TLB entry may still grant execute permission that the page table no
// longer does) is stopped before it runs, so that Start can flush the TLB
// and let the fetch be checked against the page table (Engine.Start).
#include <stdlib.h>
#include <string.h>

#include "shim.h"
#include "_cgo_export.h"

#define PAGE_SHIFT 12
#define PAGE_SIZE (1ull << PAGE_SHIFT)
#define PAGE_OFFSET_MASK (PAGE_SIZE - 1)
// Invalidations of at most this many pages are done block by block, larger
// ones by bumping page generations.
#define EXACT_PAGES 4u
#define INITIAL_SET_BITS 12u  // 4096 sets, 16384 entries
#define MAX_SET_BITS 22u      // 16M entries at most
#define INITIAL_PAGE_BITS 10u // page index slots
#define CHUNK_RECORDS 256u

static inline uint64_t mix(uint64_t x) {
    // A multiplicative hash (Fibonacci hashing): the high bits of the
    // product depend on every bit of x.
    return x * 0x9e3779b97f4a7c15ull;
}

static inline probesim_cost_set *set_for(probesim_acct *a, uint64_t addr) {
    return &a->sets[mix(addr) >> (64 - a->set_bits)];
}

// ---- page records ----

static probesim_page *page_find(probesim_acct *a, uint64_t pn) {
    uint32_t mask = (1u << a->page_index_bits) - 1;
    for (uint32_t i = (uint32_t)(mix(pn) >> (64 - a->page_index_bits));;
         i = (i + 1) & mask) {
        probesim_page *p = a->page_index[i];
        if (p == NULL || p->page == pn) {
            return p;
        }
    }
}

static int page_index_insert(probesim_page **index, uint32_t bits,
                             probesim_page *p) {
    uint32_t mask = (1u << bits) - 1;
    for (uint32_t i = (uint32_t)(mix(p->page) >> (64 - bits));;
         i = (i + 1) & mask) {
        if (index[i] == NULL) {
            index[i] = p;
            return 1;
        }
    }
}

// page_get returns the record of page number pn, creating it; NULL only
// when out of memory.
static probesim_page *page_get(probesim_acct *a, uint64_t pn) {
    probesim_page *p = page_find(a, pn);
    if (p != NULL) {
        return p;
    }
    if ((a->npages + 1) * 2 > (1u << a->page_index_bits)) {
        uint32_t bits = a->page_index_bits + 1;
        probesim_page **index = calloc((size_t)1 << bits, sizeof(*index));
        if (index == NULL) {
            return NULL;
        }
        for (uint32_t c = 0; c < a->nchunks; c++) {
            for (uint32_t r = 0; r < CHUNK_RECORDS; r++) {
                probesim_page *q = &a->page_chunks[c][r];
                if (c * CHUNK_RECORDS + r < a->npages) {
                    page_index_insert(index, bits, q);
                }
            }
        }
        free(a->page_index);
        a->page_index = index;
        a->page_index_bits = bits;
    }
    uint32_t c = a->npages / CHUNK_RECORDS, r = a->npages % CHUNK_RECORDS;
    if (c == a->nchunks) {
        if (a->nchunks == a->chunk_cap) {
            uint32_t cap = a->chunk_cap ? 2 * a->chunk_cap : 16;
            probesim_page **chunks =
                realloc(a->page_chunks, cap * sizeof(*chunks));
            if (chunks == NULL) {
                return NULL;
            }
            a->page_chunks = chunks;
            a->chunk_cap = cap;
        }
        a->page_chunks[c] = calloc(CHUNK_RECORDS, sizeof(probesim_page));
        if (a->page_chunks[c] == NULL) {
            return NULL;
        }
        a->nchunks++;
    }
    p = &a->page_chunks[c][r];
    p->page = pn;
    a->npages++;
    page_index_insert(a->page_index, a->page_index_bits, p);
    return p;
}

// page_note_block records that a block starting in p is cached.
static void page_note_block(probesim_page *p, uint64_t addr, uint32_t size) {
    if (p->overflow) {
        return;
    }
    for (uint32_t i = 0; i < p->nblocks; i++) {
        if (p->blocks[i].addr == addr && p->blocks[i].size == size) {
            return;
        }
    }
    if (p->nblocks == p->cap) {
        uint32_t cap = p->cap ? 2 * p->cap : 8;
        probesim_block_key *b =
            cap > PROBESIM_PAGE_MAX_BLOCKS ? NULL
                                           : realloc(p->blocks, cap * sizeof(*b));
        if (b == NULL) {
            // Given up: this page is invalidated whole from now on.
            free(p->blocks);
            p->blocks = NULL;
            p->nblocks = p->cap = 0;
            p->overflow = 1;
            return;
        }
        p->blocks = b;
        p->cap = cap;
    }
    p->blocks[p->nblocks].addr = addr;
    p->blocks[p->nblocks].size = size;
    p->nblocks++;
}

static void page_bump(probesim_acct *a, probesim_page *p) {
    p->state += PROBESIM_PAGE_GEN_STEP;
    if ((p->state & ~PROBESIM_PAGE_FENCED) == 0) {
        // After 2^31 bumps a generation repeats: an entry cached that long
        // ago could match again. Forget everything instead.
        probesim_acct_clear(a);
    }
}

// ---- cost entries ----

static inline int entry_empty(const probesim_cost_entry *e) {
    return e->state_first == NULL;
}

static probesim_cost_entry *entry_find(probesim_acct *a, uint64_t addr,
                                       uint32_t size) {
    probesim_cost_set *s = set_for(a, addr);
    for (uint32_t w = 0; w < PROBESIM_WAYS; w++) {
        probesim_cost_entry *e = &s->way[w];
        if (!entry_empty(e) && e->addr == addr && e->size == size) {
            return e;
        }
    }
    return NULL;
}

static void resize(probesim_acct *a);

// entry_slot returns where a new entry for (addr, size) goes: the stale
// entry of the same block (a later lookup must not find it first), else an
// empty way, else the first way after moving the others down (the oldest
// goes).
static probesim_cost_entry *entry_slot(probesim_acct *a, uint64_t addr,
                                       uint32_t size) {
    probesim_cost_entry *same = entry_find(a, addr, size);
    if (same != NULL) {
        return same;
    }
    probesim_cost_set *s = set_for(a, addr);
    for (uint32_t w = 0; w < PROBESIM_WAYS; w++) {
        if (entry_empty(&s->way[w])) {
            return &s->way[w];
        }
    }
    a->evictions++;
    memmove(&s->way[1], &s->way[0],
            (PROBESIM_WAYS - 1) * sizeof(probesim_cost_entry));
    memset(&s->way[0], 0, sizeof(probesim_cost_entry));
    return &s->way[0];
}

// resize doubles the table once evictions since the last resize reach a
// quarter of the sets: the working set no longer fits.
static void resize(probesim_acct *a) {
    if (a->set_bits >= MAX_SET_BITS) {
        return;
    }
    uint32_t bits = a->set_bits + 1;
    probesim_cost_set *sets = calloc((size_t)1 << bits, sizeof(*sets));
    if (sets == NULL) {
        return;
    }
    probesim_cost_set *old = a->sets;
    uint32_t old_n = 1u << a->set_bits;
    a->sets = sets;
    a->set_bits = bits;
    for (uint32_t i = 0; i < old_n; i++) {
        for (uint32_t w = PROBESIM_WAYS; w-- > 0;) {
            probesim_cost_entry *e = &old[i].way[w];
            if (entry_empty(e)) {
                continue;
            }
            probesim_cost_set *s = set_for(a, e->addr);
            for (uint32_t v = 0; v < PROBESIM_WAYS; v++) {
                if (entry_empty(&s->way[v])) {
                    s->way[v] = *e;
                    break;
                }
            }
        }
    }
    free(old);
    a->evictions_at_resize = a->evictions;
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
acct_miss(uc_engine *uc, probesim_acct *a, uint64_t addr, uint32_t size) {
    block_price p = {0, 0, 0};
    uint64_t last = size > 0 ? addr + size - 1 : addr;
    probesim_page *first_page = page_get(a, addr >> PAGE_SHIFT);
    probesim_page *last_page = NULL;
    if ((last >> PAGE_SHIFT) != (addr >> PAGE_SHIFT)) {
        last_page = page_get(a, last >> PAGE_SHIFT);
    }
    if ((first_page != NULL && (first_page->state & PROBESIM_PAGE_FENCED)) ||
        (last_page != NULL && (last_page->state & PROBESIM_PAGE_FENCED))) {
        // Nothing of the block runs or is charged (a stop from a block
        // hook stops before the block); Start flushes the TLB and resumes
        // here, and the fetch is then checked against the page table.
        a->fence_hit = 1;
        a->stopped = 1;
        a->stop_pc = addr;
        uc_emu_stop(uc);
        return p;
    }
    a->misses++;
    uint32_t insns = 0;
    uint64_t cost = 0;
    // The states are read before the cost function runs: if it
    // invalidates these pages, the entry is stale at once, as it must.
    uint32_t gen_first = first_page != NULL ? first_page->state : 0;
    uint32_t gen_last = last_page != NULL ? last_page->state : 0;
    if (!probesimGoCostMiss(a->cost_handle, addr, size, &insns, &cost)) {
        // The Go side recorded the failure and requested a stop; do not
        // cache or charge a made-up cost.
        return p;
    }
    // A block over more than two pages (never produced by QEMU's x86
    // translator) would need more states: it is not cached, nor is one
    // whose page record could not be made.
    if (first_page != NULL && (last >> PAGE_SHIFT) - (addr >> PAGE_SHIFT) <= 1 &&
        (last_page != NULL || (last >> PAGE_SHIFT) == (addr >> PAGE_SHIFT))) {
        if (a->evictions - a->evictions_at_resize >= (1u << a->set_bits) / 4) {
            resize(a);
        }
        probesim_cost_entry *e = entry_slot(a, addr, size);
        e->addr = addr;
        e->size = size;
        e->insns = insns;
        e->cost_fp = cost;
        e->state_first = &first_page->state;
        e->state_last = last_page != NULL ? &last_page->state : NULL;
        e->gen_first = gen_first;
        e->gen_last = gen_last;
        page_note_block(first_page, addr, size);
        if (size > a->max_size) {
            a->max_size = size;
        }
    }
    p.insns = insns;
    p.cost = cost;
    p.charge = 1;
    return p;
}

// acct_watch runs for a charged block while addresses are watched: each
// watched address the block holds is an ordered event, which Go lets
// happen now or not. The answer is the same for all of them (it depends
// on the vCPU and its clock, unchanged within the block), so the first
// "not now" stops the engine before the block, which is then not charged
// again when it resumes (skip_at), and none of the others is asked.
static __attribute__((noinline, cold)) void
acct_watch(uc_engine *uc, probesim_acct *a, probesim_counters *c,
           uint64_t addr, uint32_t size) {
    for (uint32_t i = 0; i < a->nwatch; i++) {
        uint64_t w = a->watch[i];
        if (w < addr) {
            continue;
        }
        if (w - addr >= size) {
            break;
        }
        if (!probesimGoWatch(a->watch_handle, w)) {
            c->skip_at = addr;
            c->skip_valid = 1;
            a->stopped = 1;
            a->stop_pc = addr;
            uc_emu_stop(uc);
            return;
        }
    }
}

static void acct_block(uc_engine *uc, uint64_t addr, uint32_t size, void *ud) {
    probesim_acct *a = (probesim_acct *)ud;
    uint32_t insns;
    uint64_t cost;
    // The hot path: hash the address, compare the set's first way (the
    // others on a collision), check the page states.
    probesim_cost_set *s = set_for(a, addr);
    probesim_cost_entry *e = &s->way[0];
    uint32_t w = 0;
    while (!(e->addr == addr && e->size == size && e->state_first != NULL)) {
        if (++w == PROBESIM_WAYS) {
            e = NULL;
            break;
        }
        e = &s->way[w];
    }
    if (__builtin_expect(e != NULL && e->gen_first == *e->state_first &&
                             (e->state_last == NULL ||
                              e->gen_last == *e->state_last),
                         1)) {
        insns = e->insns;
        cost = e->cost_fp;
    } else {
        block_price p = acct_miss(uc, a, addr, size);
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
    // uc_emu_stop() from a block hook stops BEFORE the block executes
    // (Start returns with the PC at the block's address). So the budget is
    // checked before charging: a block is charged only if it will run, the
    // block that crosses the budget runs to its end, and the run stops at
    // the start of the next block, which is charged when it is resumed.
    // Charging first and stopping would count that block twice.
    int charge = 1;
    if (__builtin_expect(c->skip_valid, 0)) {
        // Only the first block after the stop can be the re-entered one;
        // it runs whatever the budget says (it was charged already).
        c->skip_valid = 0;
        charge = c->skip_at != addr;
    }
    if (charge) {
        if (c->cycles_fp >= c->stop_at_fp) {
            c->budget_hit = 1;
            a->stopped = 1;
            a->stop_pc = addr;
            uc_emu_stop(uc);
            return;
        }
        c->insns += insns;
        c->cycles_fp += cost;
    }
    if (__builtin_expect(a->nwatch != 0, 0)) {
        acct_watch(uc, a, c, addr, size);
    }
}

probesim_acct *probesim_acct_new(uintptr_t cost_handle) {
    probesim_acct *a = calloc(1, sizeof(*a));
    if (a == NULL) {
        return NULL;
    }
    a->set_bits = INITIAL_SET_BITS;
    a->sets = calloc((size_t)1 << a->set_bits, sizeof(probesim_cost_set));
    a->page_index_bits = INITIAL_PAGE_BITS;
    a->page_index = calloc((size_t)1 << a->page_index_bits, sizeof(probesim_page *));
    if (a->sets == NULL || a->page_index == NULL) {
        free(a->sets);
        free(a->page_index);
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
    for (uint32_t c = 0; c < a->nchunks; c++) {
        for (uint32_t r = 0; r < CHUNK_RECORDS; r++) {
            free(a->page_chunks[c][r].blocks);
        }
        free(a->page_chunks[c]);
    }
    free(a->page_chunks);
    free(a->page_index);
    free(a->sets);
    free(a);
}

uc_err probesim_acct_install(uc_engine *uc, probesim_acct *a) {
    return uc_hook_add(uc, &a->hook, UC_HOOK_BLOCK, (void *)acct_block, a, 1,
                       0);
}

static inline int overlaps(uint64_t addr, uint32_t size, uint64_t begin,
                           uint64_t end) {
    return addr < end && (addr >= begin || size > begin - addr);
}

// invalidate_page_blocks drops p's cached blocks that overlap [begin, end).
static void invalidate_page_blocks(probesim_acct *a, probesim_page *p,
                                   uint64_t begin, uint64_t end) {
    if (p->overflow) {
        page_bump(a, p);
        return;
    }
    for (uint32_t i = 0; i < p->nblocks;) {
        probesim_block_key k = p->blocks[i];
        probesim_cost_entry *e = entry_find(a, k.addr, k.size);
        if (e == NULL || overlaps(k.addr, k.size, begin, end)) {
            if (e != NULL) {
                memset(e, 0, sizeof(*e));
            }
            p->blocks[i] = p->blocks[--p->nblocks];
            continue;
        }
        i++;
    }
}

// Invalidates every cached block that overlaps [begin, end), not only those
// starting there: a block that starts before begin but runs into the range
// contains the changed bytes too.
//
// A range of a few pages (a probe's bytes, a slot) is done exactly: the
// blocks that may overlap it start in [begin - (max_size-1), end), and each
// page there lists its cached blocks. A larger one bumps the generation of
// each page that has a record, which drops every block of those pages
// (they are priced again; a block that starts before the range and runs
// into it holds the range's first page as its last page, whose state it
// checks).
void probesim_acct_invalidate(probesim_acct *a, uint64_t begin, uint64_t end) {
    if (end <= begin) {
        return;
    }
    uint64_t reach = a->max_size > 0 ? a->max_size - 1 : 0;
    uint64_t lo = begin > reach ? begin - reach : 0;
    uint64_t first = lo >> PAGE_SHIFT, last = (end - 1) >> PAGE_SHIFT;
    if (last - first < EXACT_PAGES) {
        for (uint64_t pn = first; pn <= last; pn++) {
            probesim_page *p = page_find(a, pn);
            if (p != NULL) {
                invalidate_page_blocks(a, p, begin, end);
            }
        }
        return;
    }
    uint64_t bfirst = begin >> PAGE_SHIFT;
    if (last - bfirst + 1 <= a->npages) {
        for (uint64_t pn = bfirst; pn <= last; pn++) {
            probesim_page *p = page_find(a, pn);
            if (p != NULL) {
                page_bump(a, p);
            }
        }
    } else {
        for (uint32_t i = 0; i < a->npages; i++) {
            probesim_page *p = &a->page_chunks[i / CHUNK_RECORDS][i % CHUNK_RECORDS];
            if (p->page >= bfirst && p->page <= last) {
                page_bump(a, p);
            }
        }
    }
    // The blocks starting before the range that run into its first page
    // check that page's state as their last page's: bumped above.
}

void probesim_acct_clear(probesim_acct *a) {
    memset(a->sets, 0, ((size_t)1 << a->set_bits) * sizeof(probesim_cost_set));
    for (uint32_t i = 0; i < a->npages; i++) {
        a->page_chunks[i / CHUNK_RECORDS][i % CHUNK_RECORDS].nblocks = 0;
    }
}

uint64_t probesim_acct_entries(probesim_acct *a) {
    uint64_t n = 0;
    for (uint32_t i = 0; i < (1u << a->set_bits); i++) {
        for (uint32_t w = 0; w < PROBESIM_WAYS; w++) {
            n += !entry_empty(&a->sets[i].way[w]);
        }
    }
    return n;
}

// ---- fences ----

// Fencing a page must change its state even where it is fenced already: a
// cached entry skips the fence check as long as its page states are
// unchanged. So the generation is bumped too (its cached costs go: while
// not executable the guest may rewrite the page, and Unicorn then
// retranslates blocks of the same address and size, which the cost cache
// could not tell apart).
int probesim_fence_pages(probesim_acct *a, uint64_t begin, uint64_t end) {
    for (uint64_t pn = begin >> PAGE_SHIFT; pn < (end + PAGE_SIZE - 1) >> PAGE_SHIFT;
         pn++) {
        probesim_page *p = page_get(a, pn);
        if (p == NULL) {
            return 0;
        }
        page_bump(a, p);
        if (p->state & PROBESIM_PAGE_FENCED) {
            continue;
        }
        if (a->fence_count == PROBESIM_MAX_FENCES) {
            return 0;
        }
        p->state |= PROBESIM_PAGE_FENCED;
        a->fences[a->fence_count++] = p;
    }
    return 1;
}

static void unfence_at(probesim_acct *a, uint32_t i) {
    a->fences[i]->state &= ~PROBESIM_PAGE_FENCED;
    a->fences[i] = a->fences[--a->fence_count];
}

void probesim_unfence_pages(probesim_acct *a, uint64_t begin, uint64_t end) {
    uint64_t first = begin >> PAGE_SHIFT, last = (end - 1) >> PAGE_SHIFT;
    if (end <= begin) {
        return;
    }
    for (uint32_t i = 0; i < a->fence_count;) {
        uint64_t pn = a->fences[i]->page;
        if (pn >= first && pn <= last) {
            unfence_at(a, i);
            continue;
        }
        i++;
    }
}

void probesim_fence_clear(probesim_acct *a) {
    while (a->fence_count > 0) {
        unfence_at(a, a->fence_count - 1);
    }
    a->fence_overflow = 0;
}

// ---- watched addresses ----

int probesim_watch_add(probesim_acct *a, uint64_t addr) {
    uint32_t i = 0;
    while (i < a->nwatch && a->watch[i] < addr) {
        i++;
    }
    if (i < a->nwatch && a->watch[i] == addr) {
        return 1;
    }
    if (a->nwatch == PROBESIM_MAX_WATCHES) {
        return 0;
    }
    memmove(&a->watch[i + 1], &a->watch[i], (a->nwatch - i) * sizeof(uint64_t));
    a->watch[i] = addr;
    a->nwatch++;
    return 1;
}

void probesim_watch_remove(probesim_acct *a, uint64_t addr) {
    for (uint32_t i = 0; i < a->nwatch; i++) {
        if (a->watch[i] == addr) {
            memmove(&a->watch[i], &a->watch[i + 1],
                    (a->nwatch - i - 1) * sizeof(uint64_t));
            a->nwatch--;
            return;
        }
    }
}
