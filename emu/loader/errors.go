package loader

import (
	"errors"
	"fmt"
	"io/fs"
)

// ErrKind classifies why an executable cannot be run, so that a command-line
// front end can pick an exit status the way a shell does (127 when the file
// does not exist, 126 when it exists but cannot be run).
type ErrKind int

const (
	// NotExist: the file does not exist. The *Error unwraps to the os error,
	// so errors.Is(err, fs.ErrNotExist) holds.
	NotExist ErrKind = iota + 1
	// Unreadable: the file exists but could not be read (permission denied,
	// a directory, an I/O error). The *Error unwraps to the os error.
	Unreadable
	// NotELF: the file is not an ELF executable: no ELF magic, or an ELF
	// file that is not a program (ET_REL object, ET_CORE dump, ...).
	NotELF
	// Unsupported: a well-formed ELF program for a machine, class, byte
	// order or OS ABI that probesim does not run.
	Unsupported
	// Dynamic: the program needs a dynamic loader (it has PT_INTERP).
	Dynamic
	// Corrupt: the ELF file is truncated or its headers are inconsistent.
	Corrupt
)

// String returns a short lower-case name of the kind.
func (k ErrKind) String() string {
	switch k {
	case NotExist:
		return "not-exist"
	case Unreadable:
		return "unreadable"
	case NotELF:
		return "not-elf"
	case Unsupported:
		return "unsupported"
	case Dynamic:
		return "dynamic"
	case Corrupt:
		return "corrupt"
	}
	return fmt.Sprintf("ErrKind(%d)", int(k))
}

// Error is the only error type returned by Load and Parse. Its message is a
// single line.
type Error struct {
	Path string
	Kind ErrKind
	// Msg is the text after "PATH: ", e.g. "corrupt ELF: no PT_LOAD segment".
	// It is empty when Err carries the whole message (NotExist, Unreadable).
	Msg string
	// Err is the underlying os error for NotExist and Unreadable, else nil.
	Err error
}

func (e *Error) Error() string {
	if e.Msg == "" && e.Err != nil {
		// The os error already names the operation and the path:
		// "open PATH: no such file or directory".
		return e.Err.Error()
	}
	return e.Path + ": " + e.Msg
}

// Unwrap gives access to the os error of NotExist and Unreadable failures.
func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of a loader error found in err's chain, or 0 if
// err is not (and does not wrap) an *Error.
func KindOf(err error) ErrKind {
	var le *Error
	if errors.As(err, &le) {
		return le.Kind
	}
	return 0
}

func osError(path string, err error) *Error {
	kind := Unreadable
	if errors.Is(err, fs.ErrNotExist) {
		kind = NotExist
	}
	return &Error{Path: path, Kind: kind, Err: err}
}

func newError(path string, kind ErrKind, format string, args ...any) *Error {
	return &Error{Path: path, Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

func corrupt(path string, format string, args ...any) *Error {
	return &Error{Path: path, Kind: Corrupt, Msg: "corrupt ELF: " + fmt.Sprintf(format, args...)}
}
