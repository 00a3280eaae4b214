package uc

/*
#include <string.h>
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"sync"
	"unsafe"
)

// Handled exceptions.
//
// QEMU's x86 CPU remembers the last contributory exception (#DE, #TS, #NP,
// #SS, #GP) in env->old_exception until the exception is delivered through
// the IDT, so that a second one raised while delivering the first becomes
// a double fault and a third a triple fault (check_exception in
// target/i386/excp_helper.c). Unicorn never delivers an exception that an
// interrupt hook received, so the field is never reset: once a hook has
// handled a #GP and let the guest go on (the TSC read the Core answers
// itself), the guest's next #GP or #DE arrives as #DF (vector 8), and the
// one after that halts the CPU (measured on 2.1.1:
// TestHandledExceptionsDoNotDoubleFault).
//
// Unicorn has no API for the field. It is part of the CPU state a context
// holds, so ClearException saves a context, sets the field to -1 and
// restores it. Where the field lies in the context is found once per
// process, on a scratch engine: the one 32-bit word that reads -1 on a
// fresh CPU, 0 after a #DE and 8 after a second #DE (a double fault);
// exactly one must, or ClearException fails with errOldException.

var (
	oldExceptionOnce   sync.Once
	oldExceptionOffset int
	oldExceptionErr    error
)

var errOldException = errors.New("unicorn: cannot find the CPU's pending-exception state in a context")

func findOldException() (int, error) {
	e, err := OpenWith(Mode64, Options{CPUModel: CPUDefault})
	if err != nil {
		return 0, err
	}
	defer e.Close()
	const code = 0x10000
	if err := e.Map(code, 0x1000, ProtAll); err != nil {
		return 0, err
	}
	if err := e.MemWrite(code, []byte{0xf7, 0xf1, 0xf7, 0xf1}); err != nil { // div ecx; div ecx (ecx 0)
		return 0, err
	}
	var vectors []uint32
	if _, err := e.HookInterrupt(func(intno uint32) {
		vectors = append(vectors, intno)
		pc, _ := e.RegRead(RIP)
		_ = e.RegWrite(RIP, pc+2)
	}); err != nil {
		return 0, err
	}
	// The CPU state fresh, after one #DE, after a second.
	var ctx [3]*Context
	for i := range ctx {
		if i > 0 {
			if err := e.Start(code+uint64(2*i-2), code+uint64(2*i), 0, 0); err != nil {
				return 0, err
			}
		}
		if ctx[i], err = e.ContextSave(); err != nil {
			return 0, err
		}
		defer ctx[i].Free()
	}
	if fmt.Sprint(vectors) != "[0 8]" {
		return 0, fmt.Errorf("%w: the scratch CPU raised %v, not [0 8]", errOldException, vectors)
	}
	size := int(C.uc_context_size(e.uc))
	blobs := [3][]byte{}
	for i, c := range ctx {
		blobs[i] = C.GoBytes(unsafe.Pointer(c.p), C.int(size))
	}
	found := -1
	for off := 0; off+4 <= size; off += 4 {
		v := func(b []byte) int32 {
			return int32(uint32(b[off]) | uint32(b[off+1])<<8 | uint32(b[off+2])<<16 | uint32(b[off+3])<<24)
		}
		if v(blobs[0]) == -1 && v(blobs[1]) == 0 && v(blobs[2]) == 8 {
			if found >= 0 {
				return 0, fmt.Errorf("%w: two candidates (%d, %d)", errOldException, found, off)
			}
			found = off
		}
	}
	if found < 0 {
		return 0, errOldException
	}
	return found, nil
}

// ClearException makes the CPU forget the exceptions hooks handled (see
// the file comment): call it from the interrupt hook of a contributory
// exception the guest goes on from. It costs a context save and restore
// (~0.2 us).
func (e *Engine) ClearException() error {
	if err := e.alive(); err != nil {
		return err
	}
	oldExceptionOnce.Do(func() { oldExceptionOffset, oldExceptionErr = findOldException() })
	if oldExceptionErr != nil {
		return oldExceptionErr
	}
	if e.scratchCtx == nil {
		c, err := e.ContextSave()
		if err != nil {
			return err
		}
		e.scratchCtx = c
	} else if err := e.ContextSaveInto(e.scratchCtx); err != nil {
		return err
	}
	minusOne := int32(-1)
	C.memcpy(unsafe.Add(unsafe.Pointer(e.scratchCtx.p), oldExceptionOffset), unsafe.Pointer(&minusOne), 4)
	return e.ContextRestore(e.scratchCtx)
}
