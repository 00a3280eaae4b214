package uc

/*
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
)

// Error is a failed Unicorn call. Op names the Unicorn function without its
// "uc_" prefix (e.g. "mem_map", "emu_start"); Code is the uc_err value.
type Error struct {
	Op   string
	Code int
}

// Error returns "unicorn: <op>: <uc_strerror text>", so the message always
// carries Unicorn's own wording (e.g. "Invalid memory mapping (UC_ERR_MAP)").
func (e *Error) Error() string {
	return "unicorn: " + e.Op + ": " + C.GoString(C.uc_strerror(C.uc_err(e.Code)))
}

// Unicorn error codes (uc_err), for comparison with Error.Code.
const (
	CodeOK             = int(C.UC_ERR_OK)
	CodeNoMem          = int(C.UC_ERR_NOMEM)
	CodeArch           = int(C.UC_ERR_ARCH)
	CodeHandle         = int(C.UC_ERR_HANDLE)
	CodeMode           = int(C.UC_ERR_MODE)
	CodeReadUnmapped   = int(C.UC_ERR_READ_UNMAPPED)
	CodeWriteUnmapped  = int(C.UC_ERR_WRITE_UNMAPPED)
	CodeFetchUnmapped  = int(C.UC_ERR_FETCH_UNMAPPED)
	CodeHook           = int(C.UC_ERR_HOOK)
	CodeInsnInvalid    = int(C.UC_ERR_INSN_INVALID)
	CodeMap            = int(C.UC_ERR_MAP)
	CodeWriteProt      = int(C.UC_ERR_WRITE_PROT)
	CodeReadProt       = int(C.UC_ERR_READ_PROT)
	CodeFetchProt      = int(C.UC_ERR_FETCH_PROT)
	CodeArg            = int(C.UC_ERR_ARG)
	CodeHookExist      = int(C.UC_ERR_HOOK_EXIST)
	CodeResource       = int(C.UC_ERR_RESOURCE)
	CodeException      = int(C.UC_ERR_EXCEPTION)
	CodeReadUnaligned  = int(C.UC_ERR_READ_UNALIGNED)
	CodeWriteUnaligned = int(C.UC_ERR_WRITE_UNALIGNED)
	CodeFetchUnaligned = int(C.UC_ERR_FETCH_UNALIGNED)
)

// ErrClosed is returned by every Engine method called after Close.
var ErrClosed = errors.New("unicorn: engine is closed")

// ErrorCode returns the Unicorn code carried by err (CodeOK if err is nil or
// not an *Error).
func ErrorCode(err error) int {
	var ue *Error
	if errors.As(err, &ue) {
		return ue.Code
	}
	return CodeOK
}

// CallbackPanic is returned by Start when a Go callback panicked. The panic
// is recovered at the C boundary (unwinding through Unicorn's C frames is not
// possible) and the emulation is stopped.
type CallbackPanic struct {
	Value any
	Stack []byte
}

func (p *CallbackPanic) Error() string {
	return fmt.Sprintf("unicorn: Go callback panicked: %v", p.Value)
}

// check converts a uc_err into nil or an *Error for op.
func check(op string, rc C.uc_err) error {
	if rc == C.UC_ERR_OK {
		return nil
	}
	return &Error{Op: op, Code: int(rc)}
}
