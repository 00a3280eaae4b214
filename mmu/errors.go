package mmu

import (
	"errors"
	"fmt"
	"syscall"
)

// FaultError is a failed guest memory access by the modelled kernel
// (copy_from_user/copy_to_user failing). errors.Is(err, syscall.EFAULT)
// holds for it.
type FaultError struct {
	Addr   uint64 // first address that could not be accessed
	Write  bool   // the access was a write
	Reason string // "unmapped", "not readable", "not writable", "address overflow"
}

func (e *FaultError) Error() string {
	op := "read"
	if e.Write {
		op = "write"
	}
	return fmt.Sprintf("mmu: %s fault at %#x: %s", op, e.Addr, e.Reason)
}

// Unwrap makes errors.Is(err, syscall.EFAULT) true.
func (e *FaultError) Unwrap() error { return syscall.EFAULT }

// ErrStringTooLong is returned by ReadString when no NUL byte occurs within
// the limit; errors.Is(err, syscall.ENAMETOOLONG) holds for it.
var ErrStringTooLong = fmt.Errorf("mmu: string longer than the limit: %w", syscall.ENAMETOOLONG)

// ErrClosed is returned by every operation on a closed address space.
var ErrClosed = errors.New("mmu: address space is closed")
