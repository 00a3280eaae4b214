// The guest page table behind Unicorn 2.1's virtual TLB.
//
// With UC_TLB_VIRTUAL, Unicorn asks a UC_HOOK_TLB_FILL hook for the
// physical page and the permissions of every virtual page it misses in its
// soft TLB. Guest memory is then a few large physical regions (host memory
// the address space owns) and this table: the number of Unicorn memory
// regions no longer depends on what the guest maps, and a change of
// permissions is a store here rather than a uc_mem_protect, which splits
// regions and flushes everything.
//
// The table is a cache of the address space's translations, filled on
// demand: a page missing here is asked of Go (the translator callback),
// which may map it (demand paging, stack growth) or refuse it. Go drops
// entries (probesim_vm_drop, probesim_vm_protect) whenever a translation
// changes or goes away, and the engine flushes Unicorn's TLB when an entry
// loses a permission (Engine.DropPages, ProtectPages).
//
// A refused access makes Unicorn raise an exception that ends
// uc_emu_start; the refusal is recorded in vm->fault so that Start can
// report it with the page, the access and whether the page was mapped.
// Unicorn restores the CPU state to the faulting instruction first
// (cpu_loop_exit_restore), so the PC is exact.
#include <stdlib.h>
#include <string.h>

#include "shim.h"
#include "_cgo_export.h"

#define PAGE_SHIFT 12
#define PAGE_SIZE (1ull << PAGE_SHIFT)
#define LEVELS 4
#define LEVEL_BITS 9
#define VPN_BITS (LEVELS * LEVEL_BITS) // 36: 48-bit virtual addresses

static inline int vpn_cacheable(uint64_t vpn) { return vpn >> VPN_BITS == 0; }

static inline unsigned level_index(uint64_t vpn, int level) {
    return (vpn >> ((LEVELS - 1 - level) * LEVEL_BITS)) & 511;
}

// pte_slot returns the PTE slot of vpn, allocating nodes when alloc is set;
// NULL when absent (or out of memory, which only loses caching).
static uint64_t *pte_slot(probesim_pt *pt, uint64_t vpn, int alloc) {
    if (!vpn_cacheable(vpn)) {
        return NULL;
    }
    probesim_pt_node **np = &pt->root;
    for (int level = 0;; level++) {
        if (*np == NULL) {
            if (!alloc) {
                return NULL;
            }
            *np = calloc(1, sizeof(probesim_pt_node));
            if (*np == NULL) {
                return NULL;
            }
            pt->nodes++;
        }
        uint64_t *e = &(*np)->e[level_index(vpn, level)];
        if (level == LEVELS - 1) {
            return e;
        }
        np = (probesim_pt_node **)e;
    }
}

uint64_t probesim_pt_pte(probesim_pt *pt, uint64_t vaddr) {
    uint64_t *e = pte_slot(pt, vaddr >> PAGE_SHIFT, 0);
    return e != NULL ? *e : 0;
}

uint64_t probesim_vm_pte(probesim_vm *vm, uint64_t vaddr) {
    return probesim_pt_pte(vm->pt, vaddr);
}

static uint32_t need_for(uc_mem_type type) {
    switch (type) {
    case UC_MEM_READ:
        return UC_PROT_READ;
    case UC_MEM_WRITE:
        return UC_PROT_WRITE;
    default:
        return UC_PROT_EXEC;
    }
}

// refuse records the first refusal of a Start: the one the guest made.
// Unicorn then tries to deliver a page fault through the IDT and GDT as a
// CPU would, and those accesses are refused too (there is no IDT); they
// must not overwrite it.
static void refuse(probesim_vm *vm, uint64_t page, uc_mem_type type,
                   int mapped) {
    if (vm->fault.pending) {
        return;
    }
    vm->fault.pending = 1;
    vm->fault.type = (uint32_t)type;
    vm->fault.mapped = (uint32_t)mapped;
    vm->fault.page = page;
}

static bool vm_fill(uc_engine *uc, uint64_t vaddr, uc_mem_type type,
                    uc_tlb_entry *result, void *ud) {
    (void)uc;
    probesim_vm *vm = (probesim_vm *)ud;
    uint64_t page = vaddr & ~(PAGE_SIZE - 1);
    uint64_t vpn = page >> PAGE_SHIFT;
    vm->fills++;
    uint64_t *slot = pte_slot(vm->pt, vpn, 0);
    uint64_t pte = slot != NULL ? *slot : 0;
    if (vm->invalidating) {
        // uc_ctl_remove_cache resolves the page with a code fetch. Any
        // present page must resolve; the execute permission it leaves in
        // the TLB is fenced if the page does not have it.
        if (!(pte & PROBESIM_PTE_PRESENT)) {
            return false;
        }
        if (!(pte & UC_PROT_EXEC) && vm->acct != NULL &&
            !probesim_fence_pages(vm->acct, page, page + PAGE_SIZE)) {
            vm->acct->fence_overflow = 1;
        }
        result->paddr = pte & ~(PAGE_SIZE - 1);
        result->perms = (uc_prot)((pte & PROBESIM_PTE_PERMS) | UC_PROT_READ |
                                  UC_PROT_EXEC);
        return true;
    }
    int asked = 0;
    if (!(pte & PROBESIM_PTE_PRESENT)) {
        uint64_t paddr = 0;
        uint32_t perms = 0;
        asked = 1;
        vm->translations++;
        if (!probesimGoTranslate(vm->translate_handle, page, (int)type, &paddr,
                                 &perms)) {
            refuse(vm, page, type, 0);
            return false;
        }
        pte = (paddr & ~(PAGE_SIZE - 1)) | (perms & PROBESIM_PTE_PERMS) |
              PROBESIM_PTE_PRESENT;
        // The translator may have changed the table (a stack grown into a
        // new VMA): look the slot up again.
        slot = pte_slot(vm->pt, vpn, 1);
        if (slot != NULL) {
            if (!(*slot & PROBESIM_PTE_PRESENT)) {
                vm->pt->entries++;
            }
            *slot = pte;
        }
    }
    if (!(pte & need_for(type)) && type == UC_MEM_WRITE && !asked) {
        // A write to a page held without write permission asks the
        // translator again: a copy-on-write page (a private file page
        // still the page cache's) is copied and comes back writable, at
        // a new physical page; anything else comes back as it was and
        // the write is refused below. The translator drops this very
        // entry on the way (every backend loses the shared page), so the
        // slot is looked up again. An entry the translator just gave is
        // its answer already.
        uint64_t paddr = 0;
        uint32_t perms = 0;
        vm->translations++;
        if (probesimGoTranslate(vm->translate_handle, page, (int)type, &paddr,
                                &perms)) {
            pte = (paddr & ~(PAGE_SIZE - 1)) | (perms & PROBESIM_PTE_PERMS) |
                  PROBESIM_PTE_PRESENT;
            slot = pte_slot(vm->pt, vpn, 1);
            if (slot != NULL) {
                if (!(*slot & PROBESIM_PTE_PRESENT)) {
                    vm->pt->entries++;
                }
                *slot = pte;
            }
        }
    }
    if (!(pte & need_for(type))) {
        refuse(vm, page, type, 1);
        return false;
    }
    result->paddr = pte & ~(PAGE_SIZE - 1);
    result->perms = (uc_prot)(pte & PROBESIM_PTE_PERMS);
    return true;
}

probesim_vm *probesim_vm_new(uintptr_t translate_handle) {
    probesim_vm *vm = calloc(1, sizeof(*vm));
    if (vm != NULL) {
        vm->translate_handle = translate_handle;
        vm->pt = &vm->base;
    }
    return vm;
}

probesim_pt *probesim_pt_new(void) { return calloc(1, sizeof(probesim_pt)); }

static void free_node(probesim_pt_node *n, int level) {
    if (n == NULL) {
        return;
    }
    if (level < LEVELS - 1) {
        for (int i = 0; i < 512; i++) {
            free_node((probesim_pt_node *)n->e[i], level + 1);
        }
    }
    free(n);
}

void probesim_vm_free(probesim_vm *vm) {
    if (vm == NULL) {
        return;
    }
    free_node(vm->base.root, 0);
    free(vm);
}

void probesim_pt_free(probesim_pt *pt) {
    if (pt == NULL) {
        return;
    }
    free_node(pt->root, 0);
    free(pt);
}

uc_err probesim_vm_install(uc_engine *uc, probesim_vm *vm) {
    return uc_hook_add(uc, &vm->hook, UC_HOOK_TLB_FILL, (void *)vm_fill, vm, 1,
                       0);
}

// walk visits the present PTEs with vpn in [lo, hi), skipping absent
// subtrees, and applies f to each.
typedef void (*pte_fn)(probesim_pt *pt, uint64_t vpn, uint64_t *pte,
                       void *arg);

static void walk(probesim_pt *pt, probesim_pt_node *n, int level,
                 uint64_t base, uint64_t lo, uint64_t hi, pte_fn f, void *arg) {
    if (n == NULL) {
        return;
    }
    int shift = (LEVELS - 1 - level) * LEVEL_BITS;
    uint64_t span = 1ull << shift; // vpns per entry at this level
    // The entries whose spans meet [lo, hi): from the one holding lo (or
    // the first) to the one holding hi-1 (or the last).
    unsigned i = lo > base ? (unsigned)((lo - base) >> shift) : 0;
    unsigned last = (hi - 1 - base) >> shift < 511 ? (unsigned)((hi - 1 - base) >> shift) : 511;
    for (; i <= last; i++) {
        uint64_t first = base + (uint64_t)i * span;
        if (level == LEVELS - 1) {
            if (n->e[i] & PROBESIM_PTE_PRESENT) {
                f(pt, first, &n->e[i], arg);
            }
        } else {
            walk(pt, (probesim_pt_node *)n->e[i], level + 1, first, lo, hi, f,
                 arg);
        }
    }
}

static void vpn_range(uint64_t begin, uint64_t end, uint64_t *lo,
                      uint64_t *hi) {
    uint64_t top = 1ull << VPN_BITS;
    *lo = begin >> PAGE_SHIFT;
    *hi = end >> PAGE_SHIFT;
    if (end & (PAGE_SIZE - 1)) {
        (*hi)++;
    }
    if (*hi > top) {
        *hi = top;
    }
}

static void drop_one(probesim_pt *pt, uint64_t vpn, uint64_t *pte,
                     void *arg) {
    (void)vpn;
    *pte = 0;
    pt->entries--;
    (*(uint64_t *)arg)++;
}

uint64_t probesim_pt_drop(probesim_pt *pt, uint64_t begin, uint64_t end) {
    uint64_t lo, hi, n = 0;
    if (end <= begin) {
        return 0;
    }
    vpn_range(begin, end, &lo, &hi);
    walk(pt, pt->root, 0, 0, lo, hi, drop_one, &n);
    return n;
}

static void count_one(probesim_pt *pt, uint64_t vpn, uint64_t *pte,
                      void *arg) {
    (void)pt;
    (void)vpn;
    (void)pte;
    (*(uint64_t *)arg)++;
}

uint64_t probesim_pt_drop_count(probesim_pt *pt, uint64_t begin,
                                uint64_t end) {
    uint64_t lo, hi, n = 0;
    if (end <= begin) {
        return 0;
    }
    vpn_range(begin, end, &lo, &hi);
    walk(pt, pt->root, 0, 0, lo, hi, count_one, &n);
    return n;
}

uint64_t probesim_vm_drop(probesim_vm *vm, uint64_t begin, uint64_t end) {
    return probesim_pt_drop(vm->pt, begin, end);
}

static void protect_one(probesim_pt *pt, uint64_t vpn, uint64_t *pte,
                        void *arg) {
    (void)pt;
    (void)vpn;
    uint32_t *p = (uint32_t *)arg; // p[0]: new perms, p[1]: removed so far
    uint32_t old = (uint32_t)(*pte & PROBESIM_PTE_PERMS);
    p[1] |= old & ~p[0];
    *pte = (*pte & ~(uint64_t)PROBESIM_PTE_PERMS) | p[0];
}

uint32_t probesim_pt_protect(probesim_pt *pt, uint64_t begin, uint64_t end,
                             uint32_t perms) {
    uint64_t lo, hi;
    uint32_t p[2] = {perms & PROBESIM_PTE_PERMS, 0};
    if (end <= begin) {
        return 0;
    }
    vpn_range(begin, end, &lo, &hi);
    walk(pt, pt->root, 0, 0, lo, hi, protect_one, p);
    return p[1];
}

uint32_t probesim_vm_protect(probesim_vm *vm, uint64_t begin, uint64_t end,
                             uint32_t perms) {
    return probesim_pt_protect(vm->pt, begin, end, perms);
}

// uc_ctl_remove_cache resolves its start address to a physical address
// with a code fetch through the TLB (get_page_addr_code) and then removes
// the translated blocks of the physical range that follows. Virtually
// contiguous pages are not physically contiguous here, so each present
// page goes separately. A page with no entry has no translated block (its
// entry is made by the first access, and entries go only after their
// blocks were removed), and resolving it would raise a fault outside the
// emulation, so only present pages are visited.
typedef struct collect_arg {
    uint64_t **pages;
    uint64_t *cap, *n;
    int failed;
} collect_arg;

static void collect_one(probesim_pt *pt, uint64_t vpn, uint64_t *pte,
                        void *arg) {
    (void)pt;
    (void)pte;
    collect_arg *c = (collect_arg *)arg;
    if (*c->n == *c->cap) {
        uint64_t *p = realloc(*c->pages, 2 * *c->cap * sizeof(uint64_t));
        if (p == NULL) {
            c->failed = 1;
            return;
        }
        *c->pages = p;
        *c->cap *= 2;
    }
    (*c->pages)[(*c->n)++] = vpn;
}

uc_err probesim_vm_remove_cache(uc_engine *uc, probesim_vm *vm, uint64_t begin,
                                uint64_t end) {
    uint64_t lo, hi;
    if (end <= begin) {
        return UC_ERR_OK;
    }
    vpn_range(begin, end, &lo, &hi);
    // Collect first: remove_cache's lookup goes through vm_fill, which must
    // find the table as it is.
    uint64_t cap = 64, n = 0;
    uint64_t *pages = malloc(cap * sizeof(uint64_t));
    if (pages == NULL) {
        return UC_ERR_NOMEM;
    }
    collect_arg c = {&pages, &cap, &n, 0};
    walk(vm->pt, vm->pt->root, 0, 0, lo, hi, collect_one, &c);
    uc_err first = c.failed ? UC_ERR_NOMEM : UC_ERR_OK;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t page = pages[i] << PAGE_SHIFT;
        uint64_t a = page > begin ? page : begin;
        uint64_t b = page + PAGE_SIZE < end ? page + PAGE_SIZE : end;
        vm->invalidating = 1;
        uc_err err = uc_ctl_remove_cache(uc, a, b);
        vm->invalidating = 0;
        if (err != UC_ERR_OK && first == UC_ERR_OK) {
            first = err;
        }
    }
    free(pages);
    return first;
}
