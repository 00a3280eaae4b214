package sweep

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Row is one configuration's result: the configuration, then what the run
// measured, summed over the configuration's probes. Every field is a pure
// function of the configuration, so a sweep's rows are byte-identical from
// run to run (no host time).
type Row struct {
	// Key identifies the configuration (cpus, strategy, seed, quantum,
	// profile, params); resume, merge and check match rows by it.
	Key      string   `json:"key"`
	Program  string   `json:"program"`
	Args     []string `json:"args"`
	Probes   []string `json:"probes"`
	Strategy string   `json:"strategy"`
	CPUs     int      `json:"cpus"`
	Seed     uint64   `json:"seed"`
	Quantum  uint64   `json:"quantum"`
	Profile  string   `json:"profile"`
	Params   []string `json:"params"`

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
	InlineFallbacks uint64 `json:"inline_fallbacks"`

	Cycles       uint64 `json:"cycles"`
	Instructions uint64 `json:"instructions"`
}

// Columns are the CSV header, in Row's field order. List fields (args,
// probes, params) are joined with a space, a comma and a semicolon.
var Columns = []string{
	"key", "program", "args", "probes", "strategy", "cpus", "seed", "quantum", "profile", "params",
	"exit_status", "stop_reason", "executions", "hits", "misses", "miss_rate",
	"windows", "window_cycles", "max_window_cycles", "overhead_cycles", "cycles_per_hit",
	"nx_flips", "stack_expansions", "inline_fallbacks", "cycles", "instructions",
}

// formatFloat gives floats one fixed spelling, so CSV output is stable.
func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', 6, 64) }

func u(v uint64) string { return strconv.FormatUint(v, 10) }

// record is r as a CSV record, in Columns order.
func (r *Row) record() []string {
	return []string{
		r.Key, r.Program, strings.Join(r.Args, " "), strings.Join(r.Probes, ","), r.Strategy,
		strconv.Itoa(r.CPUs), u(r.Seed), u(r.Quantum), r.Profile, strings.Join(r.Params, ";"),
		strconv.Itoa(r.ExitStatus), r.StopReason, u(r.Executions), u(r.Hits), u(r.Misses), formatFloat(r.MissRate),
		u(r.Windows), u(r.WindowCycles), u(r.MaxWindowCycles), u(r.OverheadCycles), formatFloat(r.CyclesPerHit),
		u(r.NXFlips), u(r.StackExpansions), u(r.InlineFallbacks), u(r.Cycles), u(r.Instructions),
	}
}

func split(s, sep string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, sep)
}

// parseRecord reads a CSV record in Columns order.
func parseRecord(rec []string) (Row, error) {
	if len(rec) != len(Columns) {
		return Row{}, fmt.Errorf("%d fields, want %d", len(rec), len(Columns))
	}
	var r Row
	var err error
	field := func(i int) string { return rec[i] }
	ui := func(i int) uint64 {
		if err != nil {
			return 0
		}
		var v uint64
		if v, err = strconv.ParseUint(rec[i], 10, 64); err != nil {
			err = fmt.Errorf("column %s: %q is not a count", Columns[i], rec[i])
		}
		return v
	}
	in := func(i int) int {
		if err != nil {
			return 0
		}
		var v int
		if v, err = strconv.Atoi(rec[i]); err != nil {
			err = fmt.Errorf("column %s: %q is not an integer", Columns[i], rec[i])
		}
		return v
	}
	fl := func(i int) float64 {
		if err != nil {
			return 0
		}
		var v float64
		if v, err = strconv.ParseFloat(rec[i], 64); err != nil {
			err = fmt.Errorf("column %s: %q is not a number", Columns[i], rec[i])
		}
		return v
	}
	r = Row{
		Key: field(0), Program: field(1), Args: split(field(2), " "), Probes: split(field(3), ","),
		Strategy: field(4), CPUs: in(5), Seed: ui(6), Quantum: ui(7), Profile: field(8), Params: split(field(9), ";"),
		ExitStatus: in(10), StopReason: field(11), Executions: ui(12), Hits: ui(13), Misses: ui(14), MissRate: fl(15),
		Windows: ui(16), WindowCycles: ui(17), MaxWindowCycles: ui(18), OverheadCycles: ui(19), CyclesPerHit: fl(20),
		NXFlips: ui(21), StackExpansions: ui(22), InlineFallbacks: ui(23), Cycles: ui(24), Instructions: ui(25),
	}
	return r, err
}

// WriteCSV writes a header and rows.
func WriteCSV(w io.Writer, rows []Row) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(Columns); err != nil {
		return err
	}
	for i := range rows {
		if err := cw.Write(rows[i].record()); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ReadCSV reads rows written by WriteCSV.
func ReadCSV(r io.Reader) ([]Row, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("empty file: want the header %s", strings.Join(Columns, ","))
	}
	if err != nil {
		return nil, err
	}
	if strings.Join(header, ",") != strings.Join(Columns, ",") {
		return nil, fmt.Errorf("header is not probesim's sweep header (%s...)", strings.Join(Columns[:4], ","))
	}
	rows := []Row{}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return nil, err
		}
		row, err := parseRecord(rec)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		rows = append(rows, row)
	}
}

// WriteJSON writes rows as an indented JSON array.
func WriteJSON(w io.Writer, rows []Row) error {
	if rows == nil {
		rows = []Row{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rows)
}

// ReadJSON reads rows written by WriteJSON.
func ReadJSON(r io.Reader) ([]Row, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var rows []Row
	if err := dec.Decode(&rows); err != nil {
		return nil, fmt.Errorf("not a JSON array of sweep rows: %w", err)
	}
	return rows, nil
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

// ReadFile reads a results file, CSV or JSON by its extension. Errors
// name the file.
func ReadFile(path string) ([]Row, error) {
	f, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rows []Row
	if f == CSV {
		rows, err = ReadCSV(bytes.NewReader(data))
	} else {
		rows, err = ReadJSON(bytes.NewReader(data))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rows, nil
}

// WriteFile writes rows to path, CSV or JSON by its extension.
func WriteFile(path string, rows []Row) error {
	f, err := FormatOf(path)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if f == CSV {
		err = WriteCSV(&buf, rows)
	} else {
		err = WriteJSON(&buf, rows)
	}
	if err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
