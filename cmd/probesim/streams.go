package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// The files a run writes (--json, --events, --probe-log, --stdout): "-" is
// standard output; a file is written to a temporary file beside it,
// created before the run (so a bad path fails at once) and renamed over it
// at the end, so that the file is whole or absent, never a run's worth of
// half; a device or a FIFO (/dev/null, a named pipe) is written directly.

// stdoutName is the file name that means standard output.
const stdoutName = "-"

// outFile is one output of a run.
type outFile struct {
	flag string // for messages: "--json"
	path string // "" (none), "-" or a file
	tmp  *os.File
	// direct says tmp is path itself: a device or a FIFO (/dev/null, a
	// named pipe), written as it goes, as a shell's > would.
	direct bool
	w      *bufio.Writer
	// stdout is where "-" writes (the command's standard output).
	stdout io.Writer
	err    error // the first write error
}

// open creates the file's temporary file, or does nothing for "" and "-".
func (o *outFile) open() error {
	if o.path == "" || o.path == stdoutName {
		return nil
	}
	if st, err := os.Stat(o.path); err == nil && !st.Mode().IsRegular() {
		if st.IsDir() {
			return fmt.Errorf("%s %s: is a directory", o.flag, o.path)
		}
		f, err := os.OpenFile(o.path, os.O_WRONLY, 0)
		if err != nil {
			return fmt.Errorf("%s %w", o.flag, err)
		}
		o.tmp, o.w, o.direct = f, bufio.NewWriter(f), true
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(o.path), "."+filepath.Base(o.path)+".*")
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("%s %s: %w", o.flag, o.path, err)
	}
	o.tmp, o.w = tmp, bufio.NewWriter(tmp)
	return nil
}

// on says whether the output was asked for.
func (o *outFile) on() bool { return o.path != "" }

// Write writes to the file or standard output, keeping the first error.
func (o *outFile) Write(p []byte) (int, error) {
	if o.err != nil {
		return 0, o.err
	}
	var n int
	if o.path == stdoutName {
		n, o.err = o.stdout.Write(p)
	} else {
		n, o.err = o.w.Write(p)
	}
	return n, o.err
}

// commit ends the output: the file's temporary file is flushed, made
// world-readable like a file created under the usual umask, and renamed
// over the path. It returns the first error (a write error included).
func (o *outFile) commit() error {
	if o.tmp == nil {
		return o.err
	}
	err := o.err
	if err == nil {
		err = o.w.Flush()
	}
	if cerr := o.tmp.Close(); err == nil {
		err = cerr
	}
	if o.direct {
		o.tmp = nil
		return err
	}
	if err == nil {
		err = os.Chmod(o.tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(o.tmp.Name(), o.path)
	}
	if err != nil {
		os.Remove(o.tmp.Name())
	}
	o.tmp = nil
	return err
}

// abort drops the temporary file.
func (o *outFile) abort() {
	if o.tmp != nil {
		o.tmp.Close()
		if !o.direct {
			os.Remove(o.tmp.Name())
		}
		o.tmp = nil
	}
}

// jsonLines encodes values to an outFile, one a line.
type jsonLines struct{ enc *json.Encoder }

func newJSONLines(w io.Writer) jsonLines { return jsonLines{json.NewEncoder(w)} }

// write encodes v; the error stays in the outFile.
func (l jsonLines) write(v any) { _ = l.enc.Encode(v) }

// isEPIPE says whether err is a write to a pipe whose reader went away.
func isEPIPE(err error) bool { return errors.Is(err, syscall.EPIPE) }

// pipeWatch passes writes to w and calls broken, once, when one fails
// because the reader went away: the guest's output and the streams on
// standard output end the run with SIGPIPE then, as a shell pipeline's
// writer would end.
type pipeWatch struct {
	w      io.Writer
	broken func()
	done   bool
}

func (p *pipeWatch) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	if err != nil && isEPIPE(err) && !p.done {
		p.done = true
		p.broken()
	}
	return n, err
}
