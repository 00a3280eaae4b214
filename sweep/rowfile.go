package sweep

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Streaming results files.
//
// A results file is read one row at a time (rowScanner) and written one
// row at a time (rowWriter), and both say where each row lies in the file,
// so that Output can keep a sweep's rows on disk and only their places in
// memory. The bytes are exactly those of encoding/csv for a header and the
// records, and of encoding/json's Encoder with SetIndent("", "  ") for a
// []Row.

// MaxRowBytes bounds one row (or the header) of a results file being
// read; a longer one is an error. The biggest rows a sweep writes are a
// few kilobytes plus its args and env, which Linux bounds at 2 MiB
// together (ARG_MAX with the default 8 MiB stack).
const MaxRowBytes = 4 << 20

var errRowTooLong = fmt.Errorf("a row longer than %d MiB (not a sweep results file)", MaxRowBytes>>20)

// boundedReader reads from r up to limit, an absolute offset that the
// scanner moves past each row it reads. With tapping on, it also keeps
// what it read from offset tapBase on (the scanner's raw bytes).
type boundedReader struct {
	r          io.Reader
	pos, limit int64

	tapping bool
	tap     []byte
	tapBase int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.pos >= b.limit {
		return 0, errRowTooLong
	}
	if rest := b.limit - b.pos; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := b.r.Read(p)
	if b.tapping {
		b.tap = append(b.tap, p[:n]...)
	}
	b.pos += int64(n)
	return n, err
}

// rowScanner reads the rows of a results file in format f.
type rowScanner struct {
	f   Format
	br  *boundedReader
	csv *csv.Reader
	dec *json.Decoder

	// params are the file's param names: from the CSV header, or the
	// first JSON row (every later row must have the same).
	params     []string
	haveParams bool

	row      Row
	n        int   // rows read
	off, end int64 // the last row's bytes: [off, end)
	line     int   // the last row's first line (CSV)
	err      error
}

// newRowScanner reads the header (CSV) or the opening bracket (JSON).
func newRowScanner(r io.Reader, f Format) (*rowScanner, error) {
	return newTappedRowScanner(r, f, false)
}

// newTappedRowScanner is newRowScanner that, with tap, keeps the bytes it
// reads until told they are done with (raw, release).
func newTappedRowScanner(r io.Reader, f Format, tap bool) (*rowScanner, error) {
	s := &rowScanner{f: f, br: &boundedReader{r: r, limit: MaxRowBytes, tapping: tap}}
	if f == CSV {
		s.csv = csv.NewReader(s.br)
		s.csv.FieldsPerRecord = -1
		s.csv.ReuseRecord = true
		header, err := s.csv.Read()
		if err == io.EOF {
			return nil, fmt.Errorf("empty file: want the header %s", strings.Join(Columns(nil), ","))
		}
		if err != nil {
			return nil, err
		}
		if s.params, err = parseHeader(header); err != nil {
			return nil, err
		}
		s.haveParams = true
		s.end = s.csv.InputOffset()
	} else {
		s.dec = json.NewDecoder(s.br)
		tok, err := s.dec.Token()
		if err != nil {
			return nil, fmt.Errorf("not a JSON array of sweep rows: %w", jsonError(err))
		}
		if d, ok := tok.(json.Delim); !ok || d != '[' {
			if tok == nil {
				tok = "null"
			}
			return nil, fmt.Errorf("not a JSON array of sweep rows: %v", tok)
		}
		s.end = s.dec.InputOffset()
	}
	s.br.limit = s.end + MaxRowBytes
	return s, nil
}

// Scan reads the next row; false at the end or on an error (Err).
func (s *rowScanner) Scan() bool {
	if s.err != nil {
		return false
	}
	s.off = s.end
	if s.f == CSV {
		rec, err := s.csv.Read()
		if err == io.EOF {
			return false
		}
		if err != nil {
			s.err = err
			return false
		}
		s.line, _ = s.csv.FieldPos(0)
		if s.row, err = parseRecord(s.params, rec); err != nil {
			s.err = fmt.Errorf("line %d: %w", s.line, err)
			return false
		}
		s.end = s.csv.InputOffset()
	} else {
		if !s.dec.More() {
			if _, err := s.dec.Token(); err != nil { // the closing bracket
				s.err = fmt.Errorf("not a JSON array of sweep rows: %w", jsonError(err))
			}
			return false
		}
		s.row = Row{}
		if err := s.dec.Decode(&s.row); err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, errRowTooLong) {
				s.err = fmt.Errorf("not a JSON array of sweep rows: %w", jsonError(err))
			} else {
				s.err = fmt.Errorf("row %d: %w", s.n+1, err) // Row.UnmarshalJSON's
			}
			return false
		}
		names := paramNames(s.row.Params)
		if !s.haveParams {
			s.params, s.haveParams = names, true
		} else if !slices.Equal(names, s.params) {
			s.err = fmt.Errorf("row %d: params %s, but row 1 has %s: a file's rows set the same params", s.n+1, jsonList(names), jsonList(s.params))
			return false
		}
		s.end = s.dec.InputOffset()
	}
	s.n++
	s.br.limit = s.end + MaxRowBytes
	return true
}

// raw is the file's bytes [off, end) of rows read since the last release
// (a tapped scanner only).
func (s *rowScanner) raw(off, end int64) []byte {
	return s.br.tap[off-s.br.tapBase : end-s.br.tapBase]
}

// release drops the kept bytes before off; stop ends the keeping.
func (s *rowScanner) release(off int64, stop bool) {
	b := s.br
	if stop {
		b.tapping, b.tap = false, nil
		return
	}
	n := copy(b.tap, b.tap[off-b.tapBase:])
	b.tap, b.tapBase = b.tap[:n], off
}

// Err is the error that ended Scan, or nil at the end of the file.
func (s *rowScanner) Err() error { return s.err }

func jsonError(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("the file ends inside it")
	}
	return err
}

// decodeRows parses the bytes of consecutive rows as the scanner found
// them (for JSON, possibly after the comma and white space separating
// them from the last), in a file whose rows set params.
func decodeRows(f Format, params []string, b []byte) ([]Row, error) {
	if f == JSON {
		b = bytes.TrimLeft(b, " \t\r\n,")
	}
	pro, epi := "[", "]"
	if f == CSV {
		pro, epi = strings.Join(Columns(params), ",")+"\n", ""
	}
	sc, err := newRowScanner(io.MultiReader(strings.NewReader(pro), bytes.NewReader(b), strings.NewReader(epi)), f)
	if err != nil {
		return nil, err
	}
	var rows []Row
	for sc.Scan() {
		rows = append(rows, sc.row)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, errors.New("no row")
	}
	return rows, nil
}

// rowWriter writes a results file one row at a time.
type rowWriter struct {
	f      Format
	w      io.Writer
	params []string
	pos    int64 // bytes written
	n      int   // rows written
	cw     *csv.Writer
}

// newRowWriter writes the header (CSV) of a file whose rows set params
// (names, in name order).
func newRowWriter(w io.Writer, f Format, params []string) (*rowWriter, error) {
	rw := newRowEncoder(w, f, params)
	if f == CSV {
		if err := rw.cw.Write(Columns(params)); err != nil {
			return nil, err
		}
		rw.cw.Flush()
		return rw, rw.cw.Error()
	}
	return rw, nil
}

// newRowEncoder is a rowWriter that writes rows only, no header: the
// bytes of rows as a file of params has them.
func newRowEncoder(w io.Writer, f Format, params []string) *rowWriter {
	rw := &rowWriter{f: f, params: params}
	rw.w = writeCounter{w, &rw.pos}
	if f == CSV {
		rw.cw = csv.NewWriter(rw.w)
	}
	return rw
}

// write writes r.
func (rw *rowWriter) write(r *Row) error {
	_, _, err := rw.writeRow(r)
	return err
}

// writeRow writes r and returns the offset and length of its bytes, which
// writeRaw can copy into another file of this format.
func (rw *rowWriter) writeRow(r *Row) (int64, int64, error) {
	if names := paramNames(r.Params); !slices.Equal(names, rw.params) {
		return 0, 0, fmt.Errorf("row of configuration %d sets params %s, the file %s: a file's rows set the same params",
			r.Index, jsonList(names), jsonList(rw.params))
	}
	if rw.f == CSV {
		off := rw.pos
		if err := rw.cw.Write(r.record()); err != nil {
			return 0, 0, err
		}
		rw.cw.Flush()
		rw.n++
		return off, rw.pos - off, rw.cw.Error()
	}
	b, err := json.MarshalIndent(r, "  ", "  ")
	if err != nil {
		return 0, 0, err
	}
	return rw.writeRaw(b)
}

// writeRaw writes the bytes of one or more consecutive rows as writeRow
// wrote them into another file of this format.
func (rw *rowWriter) writeRaw(b []byte) (int64, int64, error) {
	if rw.f == JSON {
		sep := ",\n  "
		if rw.n == 0 {
			sep = "[\n  "
		}
		if _, err := io.WriteString(rw.w, sep); err != nil {
			return 0, 0, err
		}
	}
	off := rw.pos
	if _, err := rw.w.Write(b); err != nil {
		return 0, 0, err
	}
	rw.n++
	return off, int64(len(b)), nil
}

// close ends the file (JSON's closing bracket); it does not close w.
func (rw *rowWriter) close() error {
	if rw.f == CSV {
		return nil
	}
	end := "\n]\n"
	if rw.n == 0 {
		end = "[]\n"
	}
	_, err := io.WriteString(rw.w, end)
	return err
}

// writeCounter counts the bytes written through it.
type writeCounter struct {
	w io.Writer
	n *int64
}

func (c writeCounter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	*c.n += int64(n)
	return n, err
}

// windowReader reads ranges of a file through a buffer, so reading the
// rows of a file in order costs one system call per buffer, not per row.
type windowReader struct {
	r     io.ReaderAt
	buf   []byte
	start int64 // file offset of buf[0]
}

func newWindowReader(r io.ReaderAt) *windowReader {
	return &windowReader{r: r, start: -1}
}

const windowSize = 1 << 20

// bytes returns the n bytes at off, valid until the next call.
func (w *windowReader) bytes(off, n int64) ([]byte, error) {
	if w.start >= 0 && off >= w.start && off+n <= w.start+int64(len(w.buf)) {
		return w.buf[off-w.start : off-w.start+n], nil
	}
	size := max(n, windowSize)
	if int64(cap(w.buf)) < size {
		w.buf = make([]byte, size)
	}
	w.buf = w.buf[:size]
	m, err := w.r.ReadAt(w.buf, off)
	w.buf, w.start = w.buf[:m], off
	if int64(m) < n {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		w.start = -1
		return nil, err
	}
	return w.buf[:n], nil
}
