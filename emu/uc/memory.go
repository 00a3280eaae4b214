package uc

/*
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// sizeT converts a byte count to size_t, refusing counts the host's size_t
// cannot hold.
func sizeT(op string, size uint64) (C.size_t, error) {
	s := C.size_t(size)
	if uint64(s) != size {
		return 0, fmt.Errorf("unicorn: %s: size %#x does not fit the host size_t", op, size)
	}
	return s, nil
}

// Map maps [addr, addr+size) with protection p, backed by memory Unicorn
// allocates. addr and size must be 4 KiB aligned and size non-zero.
func (e *Engine) Map(addr, size uint64, p Prot) error {
	if err := e.alive(); err != nil {
		return err
	}
	s, err := sizeT("mem_map", size)
	if err != nil {
		return err
	}
	return check("mem_map", C.uc_mem_map(e.uc, C.uint64_t(addr), s, C.uint32_t(p)))
}

// MapPtr maps [addr, addr+size) with protection p onto host memory at host.
// host must not be Go-heap memory (use syscall.Mmap) and must stay valid
// until the range is unmapped or the engine closed; several engines may map
// the same host memory.
func (e *Engine) MapPtr(addr, size uint64, p Prot, host unsafe.Pointer) error {
	if err := e.alive(); err != nil {
		return err
	}
	if host == nil {
		return fmt.Errorf("unicorn: mem_map_ptr: nil host memory for [%#x, +%#x)", addr, size)
	}
	s, err := sizeT("mem_map_ptr", size)
	if err != nil {
		return err
	}
	return check("mem_map_ptr", C.uc_mem_map_ptr(e.uc, C.uint64_t(addr), s, C.uint32_t(p), host))
}

// Unmap removes [addr, addr+size) from the engine's memory map.
func (e *Engine) Unmap(addr, size uint64) error {
	if err := e.alive(); err != nil {
		return err
	}
	s, err := sizeT("mem_unmap", size)
	if err != nil {
		return err
	}
	return check("mem_unmap", C.uc_mem_unmap(e.uc, C.uint64_t(addr), s))
}

// Protect changes the protection of the physical range [addr, addr+size)
// of an engine without a virtual TLB (uc_mem_protect). Removing EXEC does
// not affect code that is already translated: follow it with RemoveCache.
// With a virtual TLB, use ProtectPages.
func (e *Engine) Protect(addr, size uint64, p Prot) error {
	if err := e.alive(); err != nil {
		return err
	}
	s, err := sizeT("mem_protect", size)
	if err != nil {
		return err
	}
	return check("mem_protect", C.uc_mem_protect(e.uc, C.uint64_t(addr), s, C.uint32_t(p)))
}

// MemRead copies len(buf) bytes at the physical address addr into buf,
// ignoring protections. (Without a virtual TLB, physical addresses are the
// guest's.) An empty buf is a no-op.
func (e *Engine) MemRead(addr uint64, buf []byte) error {
	if err := e.alive(); err != nil {
		return err
	}
	if len(buf) == 0 {
		return nil
	}
	return check("mem_read", C.uc_mem_read(e.uc, C.uint64_t(addr), unsafe.Pointer(&buf[0]), C.size_t(len(buf))))
}

// MemWrite copies data to the physical address addr, ignoring protections.
// Translated code covering the bytes is NOT invalidated: call RemoveCache
// (and InvalidateCosts) when writing code.
func (e *Engine) MemWrite(addr uint64, data []byte) error {
	if err := e.alive(); err != nil {
		return err
	}
	if len(data) == 0 {
		return nil
	}
	return check("mem_write", C.uc_mem_write(e.uc, C.uint64_t(addr), unsafe.Pointer(&data[0]), C.size_t(len(data))))
}
