package uc

/*
#include <string.h>
#include "shim.h"

// The x87/SSE state in FXSAVE's 512-byte layout (Intel SDM Vol. 1,
// 10.5.1), assembled from Unicorn's FPU registers: what a signal frame's
// fpstate holds. nxmm is 8 in 32-bit mode, 16 in 64-bit mode; wide selects
// the 64-bit FIP/FDP format (FXSAVE64).
static uc_err probesim_fxsave(uc_engine *uc, uint8_t *img, int nxmm, int wide) {
    uint16_t fcw = 0, fsw = 0, ftw = 0, fop = 0, fcs = 0, fds = 0;
    uint64_t fip = 0, fdp = 0;
    uint32_t mxcsr = 0;
    uc_err err;
    memset(img, 0, 512);
    if ((err = uc_reg_read(uc, UC_X86_REG_FPCW, &fcw)) ||
        (err = uc_reg_read(uc, UC_X86_REG_FPSW, &fsw)) ||
        (err = uc_reg_read(uc, UC_X86_REG_FPTAG, &ftw)) ||
        (err = uc_reg_read(uc, UC_X86_REG_FOP, &fop)) ||
        (err = uc_reg_read(uc, UC_X86_REG_FIP, &fip)) ||
        (err = uc_reg_read(uc, UC_X86_REG_FCS, &fcs)) ||
        (err = uc_reg_read(uc, UC_X86_REG_FDP, &fdp)) ||
        (err = uc_reg_read(uc, UC_X86_REG_FDS, &fds)) ||
        (err = uc_reg_read(uc, UC_X86_REG_MXCSR, &mxcsr))) {
        return err;
    }
    uint8_t abridged = 0;
    for (int i = 0; i < 8; i++) {
        if (((ftw >> (2 * i)) & 3) != 3) {
            abridged |= 1u << i;
        }
    }
    memcpy(img + 0, &fcw, 2);
    memcpy(img + 2, &fsw, 2);
    img[4] = abridged;
    memcpy(img + 6, &fop, 2);
    if (wide) {
        memcpy(img + 8, &fip, 8);
        memcpy(img + 16, &fdp, 8);
    } else {
        uint32_t ip32 = (uint32_t)fip, dp32 = (uint32_t)fdp;
        memcpy(img + 8, &ip32, 4);
        memcpy(img + 12, &fcs, 2);
        memcpy(img + 16, &dp32, 4);
        memcpy(img + 20, &fds, 2);
    }
    uint32_t mask = 0xffff; // MXCSR_MASK: every bit up to DAZ writable
    memcpy(img + 24, &mxcsr, 4);
    memcpy(img + 28, &mask, 4);
    for (int i = 0; i < 8; i++) {
        if ((err = uc_reg_read(uc, UC_X86_REG_ST0 + i, img + 32 + 16 * i))) {
            return err;
        }
        memset(img + 32 + 16 * i + 10, 0, 6);
    }
    static const int xmm_hi[8] = {UC_X86_REG_XMM8, UC_X86_REG_XMM9, UC_X86_REG_XMM10, UC_X86_REG_XMM11,
                                  UC_X86_REG_XMM12, UC_X86_REG_XMM13, UC_X86_REG_XMM14, UC_X86_REG_XMM15};
    for (int i = 0; i < nxmm; i++) {
        int id = i < 8 ? UC_X86_REG_XMM0 + i : xmm_hi[i - 8];
        if ((err = uc_reg_read(uc, id, img + 160 + 16 * i))) {
            return err;
        }
    }
    return UC_ERR_OK;
}

// probesim_fxrstor loads an FXSAVE image, as FXRSTOR does.
static uc_err probesim_fxrstor(uc_engine *uc, const uint8_t *img, int nxmm, int wide) {
    uint16_t fcw, fsw, fop, fcs = 0, fds = 0, ftw = 0;
    uint64_t fip = 0, fdp = 0;
    uint32_t mxcsr;
    uc_err err;
    memcpy(&fcw, img + 0, 2);
    memcpy(&fsw, img + 2, 2);
    memcpy(&fop, img + 6, 2);
    if (wide) {
        memcpy(&fip, img + 8, 8);
        memcpy(&fdp, img + 16, 8);
    } else {
        uint32_t ip32, dp32;
        memcpy(&ip32, img + 8, 4);
        memcpy(&fcs, img + 12, 2);
        memcpy(&dp32, img + 16, 4);
        memcpy(&fds, img + 20, 2);
        fip = ip32;
        fdp = dp32;
    }
    memcpy(&mxcsr, img + 24, 4);
    // The full tag word: empty (3) where the abridged bit is clear; valid
    // (0) otherwise (Unicorn keeps only empty or not).
    for (int i = 0; i < 8; i++) {
        if (!(img[4] & (1u << i))) {
            ftw |= 3u << (2 * i);
        }
    }
    // FPSW first: it sets TOP, which the stack-relative ST writes use.
    if ((err = uc_reg_write(uc, UC_X86_REG_FPSW, &fsw)) ||
        (err = uc_reg_write(uc, UC_X86_REG_FPCW, &fcw)) ||
        (err = uc_reg_write(uc, UC_X86_REG_FOP, &fop)) ||
        (err = uc_reg_write(uc, UC_X86_REG_FIP, &fip)) ||
        (err = uc_reg_write(uc, UC_X86_REG_FCS, &fcs)) ||
        (err = uc_reg_write(uc, UC_X86_REG_FDP, &fdp)) ||
        (err = uc_reg_write(uc, UC_X86_REG_FDS, &fds)) ||
        (err = uc_reg_write(uc, UC_X86_REG_MXCSR, &mxcsr))) {
        return err;
    }
    for (int i = 0; i < 8; i++) {
        if ((err = uc_reg_write(uc, UC_X86_REG_ST0 + i, img + 32 + 16 * i))) {
            return err;
        }
    }
    if ((err = uc_reg_write(uc, UC_X86_REG_FPTAG, &ftw))) {
        return err;
    }
    static const int xmm_hi[8] = {UC_X86_REG_XMM8, UC_X86_REG_XMM9, UC_X86_REG_XMM10, UC_X86_REG_XMM11,
                                  UC_X86_REG_XMM12, UC_X86_REG_XMM13, UC_X86_REG_XMM14, UC_X86_REG_XMM15};
    for (int i = 0; i < nxmm; i++) {
        int id = i < 8 ? UC_X86_REG_XMM0 + i : xmm_hi[i - 8];
        if ((err = uc_reg_write(uc, id, img + 160 + 16 * i))) {
            return err;
        }
    }
    return UC_ERR_OK;
}
*/
import "C"

import "unsafe"

// FXSaveSize is the size of an FXSAVE image.
const FXSaveSize = 512

// FXSave returns the engine's x87 and SSE state as FXSAVE stores it (the
// 64-bit format in Mode64): the fpstate a signal frame holds. Only the
// empty/non-empty distinction of the x87 tags survives (Unicorn keeps no
// more), which is all the abridged tag word of FXSAVE records anyway.
func (e *Engine) FXSave(img *[FXSaveSize]byte) error {
	if err := e.alive(); err != nil {
		return err
	}
	nxmm, wide := e.fxsaveShape()
	// img is Go memory passed for the duration of the call only.
	return check("fxsave", C.probesim_fxsave(e.uc, (*C.uint8_t)(unsafe.Pointer(&img[0])), nxmm, wide))
}

// FXRstor loads an FXSAVE image into the engine's x87 and SSE registers.
func (e *Engine) FXRstor(img *[FXSaveSize]byte) error {
	if err := e.alive(); err != nil {
		return err
	}
	nxmm, wide := e.fxsaveShape()
	return check("fxrstor", C.probesim_fxrstor(e.uc, (*C.uint8_t)(unsafe.Pointer(&img[0])), nxmm, wide))
}

func (e *Engine) fxsaveShape() (nxmm, wide C.int) {
	if e.mode == Mode64 {
		return 16, 1
	}
	return 8, 0
}
