package sweep

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"
)

// Output is a sweep's results file (--out) while the sweep runs. It holds
// the file's lock (lock.go) from Open to Close; it knows which
// configurations the file has, and where each row is in it, but not the
// rows: Save writes the file anew, atomically, merging the rows already
// in it with the ones added since, in configuration order, reading the
// former back one at a time. Memory is a few bytes per configuration (the
// set of rows and their places), never the rows themselves, whether the
// file holds ten rows or a million.
//
// An Output is used by one goroutine (Run's, through Options.Done and
// Options.Emit).
type Output struct {
	path   string
	format Format
	cfg    *Config
	lock   *fileLock

	// src holds the rows saved so far: the file Open found, then each
	// file Save wrote (open for reading, so it stays readable after the
	// next save renames another file over its name). places says where
	// each row is in it, in configuration order. canonical says src is a
	// file Save wrote, so its rows' bytes can be copied as they are.
	src       *os.File
	srcParams []string // the param names of src's rows
	places    []place
	canonical bool

	// kept is the set of configurations the file had at Open, fixed
	// from then on (so Has may run beside Add); have grows with Add.
	kept    bitset
	have    bitset
	rows    int     // configurations held: saved and pending
	nkept   int     // configurations found in the file at Open
	pending [][]Row // configurations added since the last save
	failed  int
	first   failure // the failed row of the lowest index, if failed > 0

	// SaveEvery is the least time between two saves Add makes (1 s by
	// default), stretched to ten times the last save's duration, so that
	// saving a big file takes a tenth of the sweep at most. An interrupted
	// sweep loses at most that much work.
	SaveEvery time.Duration
	lastSave  time.Time
}

// place is where a configuration's rows are in Output.src.
type place struct {
	index int32
	n     uint32
	off   int64
}

// failure is what the summary line says of a failed row.
type failure struct {
	index      int
	key        string
	stopReason string
	exitStatus int
}

// OpenOutput takes path's lock and reads the rows path already holds, if
// any (an earlier, possibly interrupted, sweep's output), scanning the
// file once: every row must be consistent (Row.Check), of this sweep and
// of a configuration of shard s, and appear once (Reconcile's rules).
// Then it saves the file, rewritten for c (the config may have gained
// values since, which moves the rows to other indexes), which also proves
// the file writable before anything runs.
func OpenOutput(path string, c *Config, s Shard) (*Output, error) {
	return OpenOutputContext(context.Background(), path, c, s)
}

// OpenOutputContext is OpenOutput that gives up when ctx is done (a user's
// Ctrl-C while a big file is read and saved back): it returns an error
// wrapping ctx's, leaves the file as it was, and removes the temporary
// file of the save it abandoned.
func OpenOutputContext(ctx context.Context, path string, c *Config, s Shard) (*Output, error) {
	o, err := newOutput(path, c)
	if err != nil {
		return nil, err
	}
	if err := o.scan(ctx, s); err != nil {
		o.abort()
		return nil, err
	}
	if err := o.save(ctx); err != nil {
		o.abort()
		return nil, err
	}
	return o, nil
}

// newOutput takes path's lock for an Output of c that has read nothing.
func newOutput(path string, c *Config) (*Output, error) {
	f, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	lock, err := lockFile(path)
	if err != nil {
		return nil, err
	}
	return &Output{path: path, format: f, cfg: c, lock: lock, have: newBitset(c.Len()), kept: newBitset(c.Len()), SaveEvery: time.Second}, nil
}

// scan reads the rows of the file at o.path into o.places, a
// configuration's rows at a time.
func (o *Output) scan(ctx context.Context, s Shard) error {
	st, err := os.Stat(o.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", o.path)
	}
	file, err := os.Open(o.path)
	if err != nil {
		return err
	}
	o.src = file
	// A CSV file whose rows are byte for byte what Save would write for
	// this config (the file an earlier run of it saved) is canonical: the
	// first save copies its rows instead of decoding them again, half the
	// time of opening a big one. The scanner keeps each configuration's
	// bytes until they are compared.
	canon := o.format == CSV
	sc, err := newTappedRowScanner(bufio.NewReaderSize(file, 1<<16), o.format, canon)
	if err != nil {
		return fmt.Errorf("%s: %w", o.path, err)
	}
	o.srcParams = sc.params
	canon = canon && slices.Equal(sc.params, paramNames(o.cfg.Point(0).Params))
	var enc canonicalCSV
	last := -1 // the index of the configuration read before
	m := newRowMatcher(o.cfg)
	var g []Row          // the configuration being read
	var gOff, gEnd int64 // its bytes
	gRow := 0            // its first row, from 1
	flush := func() error {
		if len(g) == 0 {
			return nil
		}
		i, err := m.match(fmt.Sprintf("%s: row %d", o.path, gRow), g, s)
		if err != nil {
			return err
		}
		o.places = append(o.places, place{index: int32(i), n: uint32(gEnd - gOff), off: gOff})
		if canon {
			canon = i > last && enc.same(o.cfg, i, g, sc.raw(gOff, gEnd))
			sc.release(gEnd, !canon)
		}
		last = i
		o.rows++
		o.count(i, &g[0])
		g = g[:0]
		return nil
	}
	for sc.Scan() {
		if sc.n%cancelEvery == 0 && ctx.Err() != nil {
			return fmt.Errorf("%s: reading stopped at row %d: %w", o.path, sc.n, context.Cause(ctx))
		}
		if len(g) > 0 && (len(g) >= len(g[0].Probes) || !sameConfig(&sc.row, &g[0])) {
			if err := flush(); err != nil {
				return err
			}
		}
		if len(g) == 0 {
			gOff, gRow = sc.off, sc.n
		}
		g = append(g, sc.row)
		gEnd = sc.end
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", o.path, err)
	}
	if err := flush(); err != nil {
		return err
	}
	sc.release(0, true)
	o.canonical = canon
	o.nkept = o.rows
	copy(o.kept, m.seen)
	o.have = m.seen
	slices.SortFunc(o.places, func(a, b place) int { return int(a.index - b.index) })
	return nil
}

// canonicalCSV encodes rows as Save writes them (its rowWriter), to
// compare with a file's.
type canonicalCSV struct {
	buf bytes.Buffer
	rw  *rowWriter
}

// same reports whether b, the file's bytes of configuration i's rows g,
// are what Save writes for them: the rows name i and this sweep, and
// encode to b.
func (e *canonicalCSV) same(c *Config, i int, g []Row, b []byte) bool {
	if e.rw == nil {
		e.rw = newRowEncoder(&e.buf, CSV, paramNames(c.Point(0).Params))
	}
	e.buf.Reset()
	for k := range g {
		r := &g[k]
		if r.Index != i || r.Configs != c.Len() || r.Sweep != c.sweepID || e.rw.write(r) != nil {
			return false
		}
	}
	return bytes.Equal(e.buf.Bytes(), b)
}

// count notes configuration i, r being its first row, for the failure
// summary.
func (o *Output) count(i int, r *Row) {
	if !r.Failed() {
		return
	}
	if o.failed == 0 || i < o.first.index {
		o.first = failure{i, o.cfg.Label(o.cfg.Point(i)), r.StopReason, r.ExitStatus}
	}
	o.failed++
}

// Has reports whether the file had configuration i at Open
// (Options.Done). It may be called from another goroutine than Add.
func (o *Output) Has(i int) bool { return o.kept.has(i) }

// Kept is the number of configurations the file had at Open.
func (o *Output) Kept() int { return o.nkept }

// Rows is the number of configurations the file has (saved or to be
// saved).
func (o *Output) Rows() int { return o.rows }

// Failed is the number of those rows whose program failed (Row.Failed),
// and the key, stop reason and exit status of the first in configuration
// order.
func (o *Output) Failed() (n int, key, stopReason string, exitStatus int) {
	return o.failed, o.first.key, o.first.stopReason, o.first.exitStatus
}

// Add takes the rows of a finished configuration (Options.Emit) and
// saves the file when the last save is SaveEvery old.
func (o *Output) Add(rows []Row) error {
	r := &rows[0]
	if o.have.has(r.Index) {
		return fmt.Errorf("configuration %d (%s) added twice", r.Index, o.cfg.Label(r.Point()))
	}
	o.have.set(r.Index)
	o.rows++
	o.count(r.Index, r)
	o.pending = append(o.pending, rows)
	if time.Since(o.lastSave) < o.SaveEvery {
		return nil
	}
	start := time.Now()
	if err := o.Save(); err != nil {
		return fmt.Errorf("saving rows: %w", err)
	}
	o.SaveEvery = max(o.SaveEvery, 10*time.Since(start))
	return nil
}

// cancelEvery is how many rows a read or a save of the file handles
// between two looks at its context.
const cancelEvery = 1 << 12

// Save writes every row to the file now, in configuration order.
func (o *Output) Save() error { return o.save(context.Background()) }

// save is Save, abandoned (the file left as it was) when ctx is done.
func (o *Output) save(ctx context.Context) error {
	tmp, err := createTemp(o.path)
	if err != nil {
		return err
	}
	places, err := o.write(ctx, tmp)
	// The new file is the next save's source: keep it open for reading
	// (commitTemp closes the handle written through).
	var next *os.File
	if err == nil {
		next, err = os.Open(tmp.Name())
	}
	if err := commitTemp(tmp, o.path, err); err != nil {
		if next != nil {
			next.Close()
		}
		return err
	}
	if o.src != nil {
		o.src.Close()
	}
	o.src, o.places, o.canonical, o.pending = next, places, true, nil
	o.srcParams = paramNames(o.cfg.Point(0).Params)
	o.lastSave = time.Now()
	return nil
}

// write merges the saved configurations and the pending ones into w and
// returns the new places.
func (o *Output) write(ctx context.Context, w *os.File) ([]place, error) {
	slices.SortFunc(o.pending, func(a, b []Row) int { return a[0].Index - b[0].Index })
	bw := bufio.NewWriterSize(w, 1<<16)
	c := o.cfg
	rw, err := newRowWriter(bw, o.format, paramNames(c.Point(0).Params))
	if err != nil {
		return nil, err
	}
	var src *windowReader
	if o.src != nil {
		src = newWindowReader(o.src)
	}
	places := make([]place, 0, len(o.places)+len(o.pending))
	j := 0 // next pending configuration
	emit := func(g []Row) error {
		var first, end int64
		for k := range g {
			off, n, err := rw.writeRow(&g[k])
			if err != nil {
				return err
			}
			if k == 0 {
				first = off
			}
			end = off + n
		}
		places = append(places, place{index: int32(g[0].Index), n: uint32(end - first), off: first})
		return nil
	}
	for k, p := range o.places {
		if k%cancelEvery == 0 && ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		for ; j < len(o.pending) && o.pending[j][0].Index < int(p.index); j++ {
			if err := emit(o.pending[j]); err != nil {
				return nil, err
			}
		}
		b, err := src.bytes(p.off, int64(p.n))
		if err != nil {
			return nil, fmt.Errorf("reading back %s: %w", o.path, err)
		}
		if o.canonical {
			off, n, err := rw.writeRaw(b)
			if err != nil {
				return nil, err
			}
			places = append(places, place{index: p.index, n: uint32(n), off: off})
			continue
		}
		g, err := decodeRows(o.format, o.srcParams, b)
		if err != nil {
			return nil, fmt.Errorf("reading back %s: %w", o.path, err)
		}
		for k := range g {
			g[k].Index, g[k].Configs, g[k].Sweep = int(p.index), c.Len(), c.sweepID
		}
		if err := emit(g); err != nil {
			return nil, err
		}
	}
	for ; j < len(o.pending); j++ {
		if err := emit(o.pending[j]); err != nil {
			return nil, err
		}
	}
	if err := rw.close(); err != nil {
		return nil, err
	}
	return places, bw.Flush()
}

// Close saves what is pending and releases the lock.
func (o *Output) Close() error {
	var err error
	if len(o.pending) > 0 {
		err = o.Save()
	}
	if o.src != nil {
		o.src.Close()
		o.src = nil
	}
	if lerr := o.lock.release(); err == nil {
		err = lerr
	}
	return err
}

// abort releases everything without saving.
func (o *Output) abort() {
	if o.src != nil {
		o.src.Close()
	}
	o.lock.release()
}
