// Per-block instruction and cycle accounting, entirely in C: the block hook
// runs once per executed translated block, so it must never cross into Go on
// the hot path. Go is called once per distinct (address, size) block, on a
// cost-cache miss.
//
// The cost cache is set associative (PROBESIM_WAYS ways), indexed by the
// block address with its higher bits folded in, so blocks collide only by
// chance, never by alignment; when sets overflow often, the table doubles.
// A hit in a set's first way is the whole hot path (acct_block); a hit in
// another way moves the entry to the first, so that of two blocks sharing
// a set the one running now is found fast (a bash loop: 16% less time). Invalidation
// removes entries: each page record (found by a hash of the full page
// number, so no two pages share one) lists the cached blocks that start in
// it.
//
// The same hook enforces exec fences: a block on a fenced page (one whose
// TLB entry may still grant execute permission that the page table no
// longer does) is stopped before it runs, so that Start can flush the TLB
// and let the fetch be checked against the page table (Engine.Start).
// Fencing a page removes the entries of its blocks, so the check happens
// in the miss path only.
#include <stdlib.h>
#include <string.h>

#include "shim.h"
#include "_cgo_export.h"

#define PAGE_SHIFT 12
#define PAGE_SIZE (1ull << PAGE_SHIFT)
#define PAGE_OFFSET_MASK (PAGE_SIZE - 1)
#define INITIAL_SET_BITS 12u  // 4096 sets, 16384 entries
#define MAX_SET_BITS 22u      // 16M entries at most
#define INITIAL_PAGE_BITS 10u // page index slots
#define CHUNK_RECORDS 256u

static inline uint64_t mix(uint64_t x) {
    // A multiplicative hash (Fibonacci hashing): the high bits of the
    // product depend on every bit of x.
    return x * 0x9e3779b97f4a7c15ull;
}

// set_for indexes by the low address bits with the higher bits folded in:
// neighbouring blocks keep neighbouring sets (the hot loop of a program
// stays in a few cache lines, as with a direct-mapped table), while blocks
// that share their low bits but lie 64 KiB, 4 GiB or 2^48 bytes apart land
// in different sets.
static inline probesim_cost_set *set_for(probesim_acct *a, uint64_t addr) {
    uint64_t x = addr >> 2;
    x ^= x >> a->set_bits;
    return &a->sets[x & a->set_mask];
}

// sync_fast points the fast path at the running counters when nothing is
// watched, else at the gate.
static void sync_fast(probesim_acct *a) {
    a->fast = (a->cur != NULL && a->nwatch == 0) ? a->cur : &a->gate;
}

void probesim_acct_set_counters(probesim_acct *a, probesim_counters *c) {
    a->cur = c;
    sync_fast(a);
}

// skip_set and skip_clear change skip_valid with fast_limit_fp.
static inline void skip_set(probesim_counters *c, uint64_t addr) {
    c->skip_at = addr;
    c->skip_valid = 1;
    c->fast_limit_fp = 0;
}

static inline void skip_clear(probesim_counters *c) {
    c->skip_valid = 0;
    c->fast_limit_fp = c->stop_at_fp;
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

// page_note_block records that a block starting in p is cached. A page
// with too many gives its list up (overflow), and then a's whole cache is
// emptied whenever the page is invalidated.
static void page_note_block(probesim_acct *a, probesim_page *p, uint64_t addr,
                            uint32_t size) {
    (void)a;
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

// ---- cost entries ----

static inline int entry_empty(const probesim_cost_entry *e) {
    return e->size == 0;
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
    a->set_mask = ((uint64_t)1 << bits) - 1;
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
    if ((first_page != NULL && first_page->fenced) ||
        (last_page != NULL && last_page->fenced)) {
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
    // If the cost function invalidates anything (a code write from Go),
    // the price may be of bytes that are no longer there: charge it, but
    // do not cache it.
    uint64_t epoch = a->epoch;
    if (!probesimGoCostMiss(a->cost_handle, addr, size, &insns, &cost)) {
        // The Go side recorded the failure and requested a stop; do not
        // cache or charge a made-up cost.
        return p;
    }
    // A block over more than two pages (never produced by QEMU's x86
    // translator) would need more states: it is not cached, nor is one
    // whose page record could not be made.
    if (epoch == a->epoch && first_page != NULL &&
        (last >> PAGE_SHIFT) - (addr >> PAGE_SHIFT) <= 1 &&
        (last_page != NULL || (last >> PAGE_SHIFT) == (addr >> PAGE_SHIFT))) {
        if (a->evictions - a->evictions_at_resize >= (1u << a->set_bits) / 4) {
            resize(a);
        }
        probesim_cost_entry *e = entry_slot(a, addr, size);
        e->addr = addr;
        e->size = size;
        e->insns = insns;
        e->cost_fp = cost;
        page_note_block(a, first_page, addr, size);
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
            skip_set(c, addr);
            a->stopped = 1;
            a->stop_pc = addr;
            uc_emu_stop(uc);
            return;
        }
    }
}

// acct_slow is everything but the common case: a hit in another way, a
// miss, no counters, a block to skip, the budget used up, watched
// addresses.
static __attribute__((noinline)) void acct_slow(uc_engine *uc, probesim_acct *a,
                                                uint64_t addr, uint32_t size) {
    uint32_t insns;
    uint64_t cost;
    probesim_cost_set *s = set_for(a, addr);
    probesim_cost_entry *e = NULL;
    for (uint32_t w = 0; w < PROBESIM_WAYS; w++) {
        if (s->way[w].addr == addr && s->way[w].size == size) {
            e = &s->way[w];
            if (w > 0) {
                // Move it to the way the fast path looks at: a block that
                // runs again soon is found there (entries are found by
                // key, never by position, so the swap is safe).
                probesim_cost_entry t = s->way[0];
                s->way[0] = *e;
                *e = t;
                e = &s->way[0];
            }
            break;
        }
    }
    if (e != NULL) {
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
    if (c->skip_valid) {
        // Only the first block after the stop can be the re-entered one;
        // it runs whatever the budget says (it was charged already).
        skip_clear(c);
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
    if (a->nwatch != 0) {
        acct_watch(uc, a, c, addr, size);
    }
}

// acct_block is the hook: the common case (the block cached in the first
// way of its set, nothing to skip, budget left, nothing watched) in as few
// instructions and registers as possible, since it runs for every block:
// a->fast and fast_limit_fp fold the last three conditions into one test.
static void acct_block(uc_engine *uc, uint64_t addr, uint32_t size, void *ud) {
    probesim_acct *a = (probesim_acct *)ud;
    probesim_cost_entry *e = &set_for(a, addr)->way[0];
    probesim_counters *c = a->fast;
    if (__builtin_expect(e->addr == addr && e->size == size &&
                             c->cycles_fp < c->fast_limit_fp,
                         1)) {
        c->insns += e->insns;
        c->cycles_fp += e->cost_fp;
        return;
    }
    acct_slow(uc, a, addr, size);
}

probesim_acct *probesim_acct_new(uintptr_t cost_handle) {
    probesim_acct *a = calloc(1, sizeof(*a));
    if (a == NULL) {
        return NULL;
    }
    sync_fast(a);
    a->set_bits = INITIAL_SET_BITS;
    a->set_mask = ((uint64_t)1 << INITIAL_SET_BITS) - 1;
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

// invalidate_page_blocks drops p's cached blocks that overlap [begin, end);
// it returns 0 when p's list was given up (the caller empties the cache).
static int invalidate_page_blocks(probesim_acct *a, probesim_page *p,
                                  uint64_t begin, uint64_t end) {
    if (p->overflow) {
        return 0;
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
    return 1;
}

static inline probesim_page *page_at(probesim_acct *a, uint32_t i) {
    return &a->page_chunks[i / CHUNK_RECORDS][i % CHUNK_RECORDS];
}

// Invalidates every cached block that overlaps [begin, end), not only those
// starting there: a block that starts before begin but runs into the range
// contains the changed bytes too. Such blocks start in
// [begin - (max_size-1), end), and each page there lists its cached blocks:
// the pages are looked up one by one when there are fewer of them than page
// records, else every record is checked.
void probesim_acct_invalidate(probesim_acct *a, uint64_t begin, uint64_t end) {
    if (end <= begin) {
        return;
    }
    a->epoch++;
    uint64_t reach = a->max_size > 0 ? a->max_size - 1 : 0;
    uint64_t lo = begin > reach ? begin - reach : 0;
    uint64_t first = lo >> PAGE_SHIFT, last = (end - 1) >> PAGE_SHIFT;
    int ok = 1;
    if (last - first < a->npages) {
        for (uint64_t pn = first; pn <= last && ok; pn++) {
            probesim_page *p = page_find(a, pn);
            if (p != NULL) {
                ok = invalidate_page_blocks(a, p, begin, end);
            }
        }
    } else {
        for (uint32_t i = 0; i < a->npages && ok; i++) {
            probesim_page *p = page_at(a, i);
            if (p->page >= first && p->page <= last) {
                ok = invalidate_page_blocks(a, p, begin, end);
            }
        }
    }
    if (!ok) {
        probesim_acct_clear(a);
    }
}

void probesim_acct_clear(probesim_acct *a) {
    a->epoch++;
    memset(a->sets, 0, ((size_t)1 << a->set_bits) * sizeof(probesim_cost_set));
    for (uint32_t i = 0; i < a->npages; i++) {
        probesim_page *p = page_at(a, i);
        p->nblocks = 0;
        if (p->overflow) {
            // Nothing is cached any more: the page may list again.
            p->overflow = 0;
        }
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

// Fencing a page removes the cached entries of the blocks on it (those
// starting in it and those running into it from the page before), so the
// next execution of any of them misses and the miss path sees the fence.
// The costs go too, as they must: while not executable the guest may
// rewrite the page, and Unicorn then retranslates blocks of the same
// address and size, which the cost cache could not tell apart.
int probesim_fence_pages(probesim_acct *a, uint64_t begin, uint64_t end) {
    for (uint64_t pn = begin >> PAGE_SHIFT; pn < (end + PAGE_SIZE - 1) >> PAGE_SHIFT;
         pn++) {
        probesim_page *p = page_get(a, pn);
        if (p == NULL) {
            return 0;
        }
        probesim_acct_invalidate(a, pn << PAGE_SHIFT, (pn + 1) << PAGE_SHIFT);
        if (p->fenced) {
            continue;
        }
        if (a->fence_count == PROBESIM_MAX_FENCES) {
            return 0;
        }
        p->fenced = 1;
        a->fences[a->fence_count++] = p;
    }
    return 1;
}

static void unfence_at(probesim_acct *a, uint32_t i) {
    a->fences[i]->fenced = 0;
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
    sync_fast(a);
    return 1;
}

void probesim_watch_remove(probesim_acct *a, uint64_t addr) {
    for (uint32_t i = 0; i < a->nwatch; i++) {
        if (a->watch[i] == addr) {
            memmove(&a->watch[i], &a->watch[i + 1],
                    (a->nwatch - i - 1) * sizeof(uint64_t));
            a->nwatch--;
            sync_fast(a);
            return;
        }
    }
}
