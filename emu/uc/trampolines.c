// C trampolines for Go callbacks and helpers for Unicorn calls that cgo
// cannot make directly. Every trampoline receives the Go callback-table
// handle as user_data (an integer, never a Go pointer) and forwards to an
// //export'ed Go function declared in _cgo_export.h.
#include "shim.h"
#include "_cgo_export.h"

// Passing 1, 0 as begin, end makes a Unicorn hook cover every address.
#define ALL_BEGIN 1
#define ALL_END 0

static void tramp_intr(uc_engine *uc, uint32_t intno, void *ud) {
    (void)uc;
    probesimGoIntr((uintptr_t)ud, intno);
}

static void tramp_syscall(uc_engine *uc, void *ud) {
    (void)uc;
    probesimGoSyscall((uintptr_t)ud);
}

static int tramp_cpuid(uc_engine *uc, void *ud) {
    (void)uc;
    return probesimGoCPUID((uintptr_t)ud);
}

static void tramp_code(uc_engine *uc, uint64_t addr, uint32_t size, void *ud) {
    (void)uc;
    probesimGoCode((uintptr_t)ud, addr, size);
}

static bool tramp_insn_invalid(uc_engine *uc, void *ud) {
    (void)uc;
    return probesimGoInvalidInsn((uintptr_t)ud);
}

uc_err probesim_hook_intr(uc_engine *uc, uc_hook *hh, uintptr_t handle) {
    return uc_hook_add(uc, hh, UC_HOOK_INTR, (void *)tramp_intr, (void *)handle,
                       ALL_BEGIN, ALL_END);
}

uc_err probesim_hook_syscall(uc_engine *uc, uc_hook *hh, uintptr_t handle) {
    return uc_hook_add(uc, hh, UC_HOOK_INSN, (void *)tramp_syscall,
                       (void *)handle, ALL_BEGIN, ALL_END, UC_X86_INS_SYSCALL);
}

static uint32_t tramp_in(uc_engine *uc, uint32_t port, int size, void *ud) {
    (void)uc;
    return probesimGoPortIO((uintptr_t)ud, port, size, 0, 0);
}

static void tramp_out(uc_engine *uc, uint32_t port, int size, uint32_t value,
                      void *ud) {
    (void)uc;
    probesimGoPortIO((uintptr_t)ud, port, size, value, 1);
}

uc_err probesim_hook_in(uc_engine *uc, uc_hook *hh, uintptr_t handle) {
    return uc_hook_add(uc, hh, UC_HOOK_INSN, (void *)tramp_in, (void *)handle,
                       ALL_BEGIN, ALL_END, UC_X86_INS_IN);
}

uc_err probesim_hook_out(uc_engine *uc, uc_hook *hh, uintptr_t handle) {
    return uc_hook_add(uc, hh, UC_HOOK_INSN, (void *)tramp_out, (void *)handle,
                       ALL_BEGIN, ALL_END, UC_X86_INS_OUT);
}

uc_err probesim_hook_cpuid(uc_engine *uc, uc_hook *hh, uintptr_t handle) {
    return uc_hook_add(uc, hh, UC_HOOK_INSN, (void *)tramp_cpuid,
                       (void *)handle, ALL_BEGIN, ALL_END, UC_X86_INS_CPUID);
}

uc_err probesim_hook_code(uc_engine *uc, uc_hook *hh, uintptr_t handle,
                          uint64_t begin, uint64_t end) {
    return uc_hook_add(uc, hh, UC_HOOK_CODE, (void *)tramp_code, (void *)handle,
                       begin, end);
}

uc_err probesim_hook_block(uc_engine *uc, uc_hook *hh, uintptr_t handle,
                           uint64_t begin, uint64_t end) {
    return uc_hook_add(uc, hh, UC_HOOK_BLOCK, (void *)tramp_code,
                       (void *)handle, begin, end);
}

uc_err probesim_hook_insn_invalid(uc_engine *uc, uc_hook *hh,
                                  uintptr_t handle) {
    return uc_hook_add(uc, hh, UC_HOOK_INSN_INVALID, (void *)tramp_insn_invalid,
                       (void *)handle, ALL_BEGIN, ALL_END);
}

// Unicorn stores only the register's width (2 bytes for a selector, 4 for
// EAX), so the value starts zeroed to read as zero-extended.
probesim_reg_result probesim_reg_read(uc_engine *uc, int regid) {
    probesim_reg_result r = {0, UC_ERR_OK};
    r.err = uc_reg_read(uc, regid, &r.value);
    return r;
}

uc_err probesim_reg_write(uc_engine *uc, int regid, uint64_t value) {
    return uc_reg_write(uc, regid, &value);
}

probesim_reg3_result probesim_reg_read3(uc_engine *uc, int r0, int r1,
                                        int r2) {
    probesim_reg3_result r = {{0, 0, 0}, UC_ERR_OK};
    int ids[3] = {r0, r1, r2};
    void *ptrs[3] = {&r.value[0], &r.value[1], &r.value[2]};
    r.err = uc_reg_read_batch(uc, ids, ptrs, 3);
    return r;
}

uc_err probesim_reg_write2(uc_engine *uc, int r0, uint64_t v0, int r1,
                           uint64_t v1) {
    int ids[2] = {r0, r1};
    void *const ptrs[2] = {&v0, &v1};
    return uc_reg_write_batch(uc, ids, ptrs, 2);
}

probesim_reg_result probesim_reg_update(uc_engine *uc, int regid,
                                        uint64_t clear, uint64_t set) {
    probesim_reg_result r = probesim_reg_read(uc, regid);
    if (r.err != UC_ERR_OK) {
        return r;
    }
    r.value = (r.value & ~clear) | set;
    r.err = uc_reg_write(uc, regid, &r.value);
    return r;
}

// The batch calls take an array of pointers; building it in C keeps Go from
// passing memory that holds Go pointers (forbidden by the cgo rules). The
// values are zeroed first because Unicorn stores only the register's width
// (2 bytes for a selector, 4 for EAX), so the rest must read as zero.
#define BATCH_CHUNK 32

uc_err probesim_reg_read_batch(uc_engine *uc, const intptr_t *regs,
                               uint64_t *vals, int count) {
    int ids[BATCH_CHUNK];
    void *ptrs[BATCH_CHUNK];
    for (int done = 0; done < count; done += BATCH_CHUNK) {
        int n = count - done < BATCH_CHUNK ? count - done : BATCH_CHUNK;
        for (int i = 0; i < n; i++) {
            ids[i] = (int)regs[done + i];
            vals[done + i] = 0;
            ptrs[i] = &vals[done + i];
        }
        uc_err err = uc_reg_read_batch(uc, ids, ptrs, n);
        if (err != UC_ERR_OK) {
            return err;
        }
    }
    return UC_ERR_OK;
}

uc_err probesim_reg_write_batch(uc_engine *uc, const intptr_t *regs,
                                const uint64_t *vals, int count) {
    int ids[BATCH_CHUNK];
    void *ptrs[BATCH_CHUNK];
    for (int done = 0; done < count; done += BATCH_CHUNK) {
        int n = count - done < BATCH_CHUNK ? count - done : BATCH_CHUNK;
        for (int i = 0; i < n; i++) {
            ids[i] = (int)regs[done + i];
            ptrs[i] = (void *)&vals[done + i];
        }
        uc_err err = uc_reg_write_batch(uc, ids, (void *const *)ptrs, n);
        if (err != UC_ERR_OK) {
            return err;
        }
    }
    return UC_ERR_OK;
}

uc_err probesim_set_gdt(uc_engine *uc, uint64_t base, uint32_t limit) {
    uc_x86_mmr gdtr = {0};
    gdtr.base = base;
    gdtr.limit = limit;
    return uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr);
}

// uc_ctl_remove_cache resolves only the START address of the range (to a
// physical address, then removes the physical range that follows) and
// silently does nothing if that page is unmapped. So for an engine without
// a virtual TLB, the range [first, last] is clipped to each mapped region
// and each piece is removed separately; every piece then starts on a mapped
// page. (An engine with one uses probesim_vm_remove_cache.)
uc_err probesim_remove_cache(uc_engine *uc, uint64_t first, uint64_t last) {
    uc_mem_region *regions = NULL;
    uint32_t count = 0;
    uc_err err = uc_mem_regions(uc, &regions, &count);
    if (err != UC_ERR_OK) {
        return err;
    }
    for (uint32_t i = 0; i < count && err == UC_ERR_OK; i++) {
        uint64_t lo = regions[i].begin > first ? regions[i].begin : first;
        uint64_t hi = regions[i].end < last ? regions[i].end : last;
        if (lo > hi) {
            continue;
        }
        // remove_cache takes an exclusive end; drop the very last byte of
        // the address space rather than overflow.
        uint64_t end = hi == UINT64_MAX ? hi : hi + 1;
        if (end > lo) {
            err = uc_ctl_remove_cache(uc, lo, end);
        }
    }
    uc_free(regions);
    return err;
}

uc_err probesim_flush_tb(uc_engine *uc) { return uc_ctl_flush_tb(uc); }

uc_err probesim_flush_tlb(uc_engine *uc) { return uc_ctl_flush_tlb(uc); }

// probesim_open opens an x86 engine. The CPU model and the TLB type must be
// chosen before anything else touches the engine: both take effect when
// Unicorn initialises the CPU, on the first call that needs it.
uc_err probesim_open(int mode, int cpu_model, int virtual_tlb,
                     uc_engine **out) {
    uc_engine *uc = NULL;
    uc_err err = uc_open(UC_ARCH_X86, (uc_mode)mode, &uc);
    if (err != UC_ERR_OK) {
        return err;
    }
    if (cpu_model >= 0) {
        err = uc_ctl_set_cpu_model(uc, cpu_model);
    }
    if (err == UC_ERR_OK && virtual_tlb) {
        err = uc_ctl_tlb_mode(uc, UC_TLB_VIRTUAL);
    }
    if (err != UC_ERR_OK) {
        uc_close(uc);
        return err;
    }
    *out = uc;
    return UC_ERR_OK;
}

// A block hook that only counts: the anchor for what any block hook costs
// in Unicorn itself (the helper call and the register syncs around it),
// against which the accounting hook's own work is measured
// (BenchmarkNoopBlockHookLoop).
static void noop_block(uc_engine *uc, uint64_t addr, uint32_t size, void *ud) {
    (void)uc, (void)addr, (void)size;
    ++*(uint64_t *)ud;
}

uc_err probesim_hook_block_noop(uc_engine *uc, uc_hook *hh, uint64_t *count) {
    return uc_hook_add(uc, hh, UC_HOOK_BLOCK, (void *)noop_block, count,
                       ALL_BEGIN, ALL_END);
}
