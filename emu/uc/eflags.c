// probesim_emu_start: uc_emu_start with the repair of EFLAGS that
// cmpxchg8b/cmpxchg16b corrupt (see eflags.go).
#include "shim.h"

// EFLAGS bits user mode can hold: CF, bit 1, PF, AF, ZF, SF, TF, IF, DF,
// OF, AC, ID. The others (bits 3, 5, 15, IOPL, NT, RF, VM, VIF, VIP, 22
// and up) are never set in a user task's flags.
#define USER_FLAGS 0x240fd7ULL
// The control bits that user mode may set, which a corruption can also
// set: TF, DF, AC, ID. A repair takes them from before the run.
#define CONTROL_FLAGS 0x240500ULL

uc_err probesim_emu_start(uc_engine *uc, uint64_t begin, uint64_t until,
                          uint64_t timeout, size_t count, uint64_t *repairs) {
    uint64_t before = 0, after = 0;
    uc_reg_read(uc, UC_X86_REG_EFLAGS, &before);
    uc_err rc = uc_emu_start(uc, begin, until, timeout, count);
    if (uc_reg_read(uc, UC_X86_REG_EFLAGS, &after) == UC_ERR_OK &&
        (after & ~USER_FLAGS) != 0) {
        uint64_t fixed = (after & USER_FLAGS & ~CONTROL_FLAGS) |
                         (before & CONTROL_FLAGS);
        if (uc_reg_write(uc, UC_X86_REG_EFLAGS, &fixed) == UC_ERR_OK) {
            (*repairs)++;
        }
    }
    return rc;
}
