// Package inputfile reads the small files a user names as input to
// probesim (sweep configs, profiles) with a bound on their size, so that
// naming /dev/zero, a huge log or an endless pipe by mistake is a one-line
// error instead of a process that reads until memory runs out. Pipes and
// FIFOs are read like files (a config may come from process substitution,
// <(...)), up to the bound.
//
// # Locking
//
// None: Read is a function of its arguments.
package inputfile

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrTooLarge is in the chain of Read's error for a file over the bound.
var ErrTooLarge = errors.New("too large")

// Read returns the contents of the file at path, or an error if it holds
// more than limit bytes ("more than N bytes: too large for WHAT", which
// the caller prefixes with the path). Other errors are os errors, whose
// messages name path.
func Read(path string, limit int64, what string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("more than %s: %w for %s", size(limit), ErrTooLarge, what)
	}
	return data, nil
}

func size(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
