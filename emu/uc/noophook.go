package uc

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import "unsafe"

// hookNoopBlock installs a C block hook that only counts the blocks it
// sees, for benchmarks: what a block hook costs inside Unicorn, without
// the accounting's work. The count lives in C memory freed with the
// returned function (after the engine is closed).
func (e *Engine) hookNoopBlock() (count func() uint64, free func(), err error) {
	if err := e.alive(); err != nil {
		return nil, nil, err
	}
	p := (*C.uint64_t)(C.calloc(1, C.size_t(unsafe.Sizeof(C.uint64_t(0)))))
	var h C.uc_hook
	if err := check("hook_add(noop block)", C.probesim_hook_block_noop(e.uc, &h, p)); err != nil {
		C.free(unsafe.Pointer(p))
		return nil, nil, err
	}
	return func() uint64 { return uint64(*p) }, func() { C.free(unsafe.Pointer(p)) }, nil
}
