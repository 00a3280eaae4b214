package main

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/probesim/probesim/sweep"
)

// usageError is a probesim usage error (exit 125).
func usageError(format string, a ...any) error {
	return &exitError{status: exitUsage, err: fmt.Errorf(format, a...)}
}

// writeError is the usage error for a results file that cannot be
// written (its directory missing, another probesim writing it, a full
// disk), naming the flag and the file, or nil for other errors.
func writeError(flag string, err error) error {
	var le *sweep.LockError
	if errors.As(err, &le) {
		return usageError("%s %v", flag, err)
	}
	var pe *fs.PathError
	if !errors.As(err, &pe) || (pe.Op != "lock" && pe.Op != "create" && pe.Op != "write") {
		return nil // not sweep's own write-side errors (lock.go, row.go)
	}
	if errors.Is(pe.Err, fs.ErrNotExist) {
		return usageError("%s %s: directory %s does not exist", flag, pe.Path, filepath.Dir(pe.Path))
	}
	return usageError("%s %s: cannot write it: %v", flag, pe.Path, pe.Err)
}
