package sweep

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/probesim/probesim/report"
)

// Row is one configuration's result: where the configuration sits in its
// sweep, the configuration itself, then what the run measured, summed over
// the configuration's probes. Every field is a pure function of the sweep
// config, so a sweep's rows are byte-identical from run to run (no host
// time, no host paths beyond the program as the config spells it).
type Row struct {
	// Index is the configuration's position in the sweep's configuration
	// order (0-based); Configs is the number of configurations of the
	// whole sweep. Merge puts shards back together by them.
	Index   int `json:"index"`
	Configs int `json:"configs"`
	// Key identifies the configuration within its sweep: every dimension
	// (cpus, strategy, seed, quantum, profile, params) as name=value.
	// Resume, merge and check match rows by it.
	Key string `json:"key"`

	// The fixed part of the sweep: the same in every row of a sweep.
	Program    string   `json:"program"`
	Args       []string `json:"args"`
	Probes     []string `json:"probes"`
	Env        []string `json:"env"`
	MaxCycles  uint64   `json:"max_cycles"`
	StackLimit uint64   `json:"stack_limit"`

	// The dimensions.
	Strategy string   `json:"strategy"`
	CPUs     int      `json:"cpus"`
	Seed     uint64   `json:"seed"`
	Quantum  uint64   `json:"quantum"`
	Profile  string   `json:"profile"`
	Params   []string `json:"params"`

	// How the program ended (report stop_reason and exit_status).
	ExitStatus int    `json:"exit_status"`
	StopReason string `json:"stop_reason"`

	Executions uint64 `json:"executions"`
	Hits       uint64 `json:"hits"`
	Misses     uint64 `json:"misses"`
	// MissRate is Misses / Executions (0 without executions).
	MissRate float64 `json:"miss_rate"`

	Windows         uint64 `json:"windows"`
	WindowCycles    uint64 `json:"window_cycles"`
	MaxWindowCycles uint64 `json:"max_window_cycles"`

	// OverheadCycles is the probes' total overhead (report
	// overhead_cycles.total); CyclesPerHit is it divided by Hits.
	OverheadCycles uint64  `json:"overhead_cycles"`
	CyclesPerHit   float64 `json:"cycles_per_hit"`

	NXFlips         uint64 `json:"nx_flips"`
	StackExpansions uint64 `json:"stack_expansions"`
	StackStartSlots uint64 `json:"stack_start_slots"`
	InlineFallbacks uint64 `json:"inline_fallbacks"`

	Cycles       uint64 `json:"cycles"`
	Instructions uint64 `json:"instructions"`
}

// Failed reports whether the row's program did not exit with status 0
// (nonzero exit, fatal signal, fault or cycle budget).
func (r *Row) Failed() bool { return r.StopReason != "exit" || r.ExitStatus != 0 }

// Columns are the CSV header, in Row's field order. In CSV, args and env
// are JSON arrays of strings (they may hold any character), probes are
// joined with "," and params with ";" (Load rejects specs and values
// holding those separators).
var Columns = []string{
	"index", "configs", "key",
	"program", "args", "probes", "env", "max_cycles", "stack_limit",
	"strategy", "cpus", "seed", "quantum", "profile", "params",
	"exit_status", "stop_reason", "executions", "hits", "misses", "miss_rate",
	"windows", "window_cycles", "max_window_cycles", "overhead_cycles", "cycles_per_hit",
	"nx_flips", "stack_expansions", "stack_start_slots", "inline_fallbacks", "cycles", "instructions",
}

// formatFloat gives floats one fixed spelling, so CSV output is stable.
func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', 6, 64) }

func u(v uint64) string { return strconv.FormatUint(v, 10) }

// jsonList spells a string list as a JSON array ("[]" when empty).
func jsonList(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(l) // a []string always marshals
	return string(b)
}

// record is r as a CSV record, in Columns order.
func (r *Row) record() []string {
	return []string{
		strconv.Itoa(r.Index), strconv.Itoa(r.Configs), r.Key,
		r.Program, jsonList(r.Args), strings.Join(r.Probes, ","), jsonList(r.Env), u(r.MaxCycles), u(r.StackLimit),
		r.Strategy, strconv.Itoa(r.CPUs), u(r.Seed), u(r.Quantum), r.Profile, strings.Join(r.Params, ";"),
		strconv.Itoa(r.ExitStatus), r.StopReason, u(r.Executions), u(r.Hits), u(r.Misses), formatFloat(r.MissRate),
		u(r.Windows), u(r.WindowCycles), u(r.MaxWindowCycles), u(r.OverheadCycles), formatFloat(r.CyclesPerHit),
		u(r.NXFlips), u(r.StackExpansions), u(r.StackStartSlots), u(r.InlineFallbacks), u(r.Cycles), u(r.Instructions),
	}
}

func split(s, sep string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, sep)
}

// fieldReader parses a CSV record's fields, keeping the first error.
type fieldReader struct {
	rec []string
	err error
}

func (f *fieldReader) fail(i int, format string) {
	if f.err == nil {
		f.err = fmt.Errorf("column %s: %q is not "+format, Columns[i], f.rec[i])
	}
}

func (f *fieldReader) str(i int) string { return f.rec[i] }

func (f *fieldReader) count(i int) uint64 {
	v, err := strconv.ParseUint(f.rec[i], 10, 64)
	if err != nil {
		f.fail(i, "a count")
	}
	return v
}

func (f *fieldReader) int(i int) int {
	v, err := strconv.Atoi(f.rec[i])
	if err != nil {
		f.fail(i, "an integer")
	}
	return v
}

func (f *fieldReader) float(i int) float64 {
	v, err := strconv.ParseFloat(f.rec[i], 64)
	if err != nil {
		f.fail(i, "a number")
	}
	return v
}

func (f *fieldReader) list(i int) []string {
	var l []string
	if err := json.Unmarshal([]byte(f.rec[i]), &l); err != nil || l == nil {
		f.fail(i, "a JSON array of strings")
		return []string{}
	}
	return l
}

// parseRecord reads a CSV record in Columns order.
func parseRecord(rec []string) (Row, error) {
	if len(rec) != len(Columns) {
		return Row{}, fmt.Errorf("%d fields, want %d", len(rec), len(Columns))
	}
	f := &fieldReader{rec: rec}
	r := Row{
		Index: f.int(0), Configs: f.int(1), Key: f.str(2),
		Program: f.str(3), Args: f.list(4), Probes: split(f.str(5), ","), Env: f.list(6),
		MaxCycles: f.count(7), StackLimit: f.count(8),
		Strategy: f.str(9), CPUs: f.int(10), Seed: f.count(11), Quantum: f.count(12), Profile: f.str(13),
		Params:     split(f.str(14), ";"),
		ExitStatus: f.int(15), StopReason: f.str(16),
		Executions: f.count(17), Hits: f.count(18), Misses: f.count(19), MissRate: f.float(20),
		Windows: f.count(21), WindowCycles: f.count(22), MaxWindowCycles: f.count(23),
		OverheadCycles: f.count(24), CyclesPerHit: f.float(25),
		NXFlips: f.count(26), StackExpansions: f.count(27), StackStartSlots: f.count(28), InlineFallbacks: f.count(29),
		Cycles: f.count(30), Instructions: f.count(31),
	}
	return r, f.err
}

// WriteCSV writes a header and rows.
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
	rw, err := newRowWriter(w, f)
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

// SetResults fills r's measured fields from a run report: the exit, the
// probes' counts summed, the rates derived from them and the out-of-line
// counts.
func (r *Row) SetResults(rep *report.Run) {
	r.ExitStatus, r.StopReason = rep.ExitStatus, rep.StopReason
	r.Cycles, r.Instructions = rep.Cycles, rep.Instructions
	for _, pr := range rep.Probes {
		r.Executions += pr.Executions
		r.Hits += pr.Hits
		r.Misses += pr.Misses
		r.Windows += pr.Windows.Count
		r.WindowCycles += pr.Windows.TotalCycles
		r.MaxWindowCycles = max(r.MaxWindowCycles, pr.Windows.MaxCycles)
		r.OverheadCycles += pr.OverheadCycles.Total
	}
	r.SetRates()
	if ool := rep.OutOfLine; ool != nil {
		r.NXFlips, r.StackExpansions, r.InlineFallbacks = ool.NXFlips, ool.StackExpansions, ool.InlineFallbacks
		r.StackStartSlots = ool.StackStartSlots
	}
}

// SetRates derives MissRate and CyclesPerHit from the counts (0 when
// there is nothing to divide by).
func (r *Row) SetRates() {
	r.MissRate, r.CyclesPerHit = 0, 0
	if r.Executions > 0 {
		r.MissRate = float64(r.Misses) / float64(r.Executions)
	}
	if r.Hits > 0 {
		r.CyclesPerHit = float64(r.OverheadCycles) / float64(r.Hits)
	}
}
