package sweep

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// WriteCSV writes a header and rows (which must set the same params).
func WriteCSV(w io.Writer, rows []Row) error {
	return encode(w, CSV, rows)
}

// ReadCSV reads rows written by WriteCSV.
func ReadCSV(r io.Reader) ([]Row, error) {
	return readAll(r, CSV)
}

// WriteJSON writes rows as an indented JSON array.
func WriteJSON(w io.Writer, rows []Row) error {
	return encode(w, JSON, rows)
}

// ReadJSON reads rows written by WriteJSON.
func ReadJSON(r io.Reader) ([]Row, error) {
	return readAll(r, JSON)
}

// Format is a results file's format, from its extension.
type Format int

// The formats.
const (
	CSV Format = iota
	JSON
)

// FormatOf picks the format from path's extension (.csv or .json).
func FormatOf(path string) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return CSV, nil
	case ".json":
		return JSON, nil
	}
	return 0, fmt.Errorf("%s: want a .csv or .json file", path)
}

// ReadFile reads a results file, CSV or JSON by its extension, one row at
// a time (no row may exceed MaxRowBytes, so even /dev/zero is refused in
// bounded memory). Errors name the file.
func ReadFile(path string) ([]Row, error) {
	f, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	rows, err := readAll(file, f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rows, nil
}

// readAll reads every row of a results file in format f.
func readAll(r io.Reader, f Format) ([]Row, error) {
	sc, err := newRowScanner(r, f)
	if err != nil {
		return nil, err
	}
	rows := []Row{}
	for sc.Scan() {
		rows = append(rows, sc.row)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return rows, nil
}

// Encode writes rows to w in format f.
func Encode(w io.Writer, f Format, rows []Row) error {
	return encode(w, f, rows)
}

func encode(w io.Writer, f Format, rows []Row) error {
	var params []string
	if len(rows) > 0 {
		params = paramNames(rows[0].Params)
	}
	rw, err := newRowWriter(w, f, params)
	if err != nil {
		return err
	}
	for i := range rows {
		if err := rw.write(&rows[i]); err != nil {
			return err
		}
	}
	return rw.close()
}

// WriteFile writes rows to path, CSV or JSON by its extension, atomically:
// the rows go to a temporary file in the same directory, which then
// replaces path, so a reader (or a crash) never sees half a file. It holds
// path's lock (lockFile) meanwhile, so it fails, naming the holder, while
// a sweep writes path.
func WriteFile(path string, rows []Row) error {
	f, err := FormatOf(path)
	if err != nil {
		return err
	}
	lock, err := lockFile(path)
	if err != nil {
		return err
	}
	defer lock.release()
	tmp, err := createTemp(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(tmp)
	err = encode(bw, f, rows)
	if err == nil {
		err = bw.Flush()
	}
	return commitTemp(tmp, path, err)
}

// createTemp creates the temporary file that will replace path, in path's
// directory. Its errors name path, not the temporary file.
func createTemp(path string) (*os.File, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, &fs.PathError{Op: "create", Path: path, Err: osErr(err)}
	}
	return tmp, nil
}

// commitTemp ends writing tmp (err is how writing it went): it syncs it,
// makes it world-readable like a file created under the usual umask, and
// renames it over path (atomic on POSIX file systems when both are in one
// directory); on any failure it removes it. tmp is closed either way.
// Errors name path.
func commitTemp(tmp *os.File, path string, err error) error {
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return &fs.PathError{Op: "write", Path: path, Err: osErr(err)}
	}
	return nil
}

// osErr is the errno of an os error (so a message names the file it is
// about, not the temporary one), or err itself.
func osErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
