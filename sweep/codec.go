package sweep

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The results file formats: the columns, and one row as a CSV record or
// a JSON object. Both hold the same names in the same order; every list
// is a JSON array (in CSV, as the field's text) and no field is ever
// empty, so pandas reads no NaN. A file's rows share one set of param
// columns.

// ParamColumnPrefix starts the name of a param's column:
// param.kernel.exception_entry_exit.
const ParamColumnPrefix = "param."

// headColumns come before the param columns, tailColumns after them.
var (
	headColumns = []string{
		"index", "configs", "sweep",
		"program", "args", "env", "probes", "stack_limit", "max_cycles", "profile",
	}
	tailColumns = []string{
		"quantum", "strategy", "cpus", "seed",
		"probe", "probe_address", "probe_instruction",
		"executions", "hits", "misses", "miss_rate",
		"windows", "window_cycles", "max_window_cycles", "overhead_cycles", "cycles_per_hit",
		"exit_status", "stop_reason", "cycles", "instructions",
		"nx_flips", "stack_expansions", "stack_start_slots", "inline_fallbacks",
	}
)

// Columns are the columns of a results file whose rows set the params
// named (in name order): the configuration's position and fingerprint,
// its settings in the configuration order with a param.NAME column for
// each param, the probe and what was measured of it, then the run's own
// columns.
func Columns(params []string) []string {
	out := slices.Clone(headColumns)
	for _, p := range params {
		out = append(out, ParamColumnPrefix+p)
	}
	return append(out, tailColumns...)
}

// paramNames are the names of a row's params.
func paramNames(params []string) []string {
	out := make([]string, len(params))
	for i, a := range params {
		out[i] = paramName(a)
	}
	return out
}

// formatFloat gives floats one fixed spelling, so CSV output is stable.
func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', 6, 64) }

// formatAddress spells a probe address as hex: 0x401a16.
func formatAddress(a uint64) string { return "0x" + strconv.FormatUint(a, 16) }

// record is r as a CSV record, in Columns order.
func (r *Row) record() []string {
	rec := []string{
		strconv.Itoa(r.Index), strconv.Itoa(r.Configs), r.Sweep,
		r.Program, jsonList(r.Args), jsonList(r.Env), jsonList(r.Probes), u(r.StackLimit), u(r.MaxCycles), r.Profile,
	}
	for _, a := range r.Params {
		_, v, _ := strings.Cut(a, "=")
		rec = append(rec, v)
	}
	return append(rec,
		u(r.Quantum), r.Strategy, strconv.Itoa(r.CPUs), u(r.Seed),
		r.Probe, formatAddress(r.ProbeAddress), r.ProbeInstruction,
		u(r.Executions), u(r.Hits), u(r.Misses), formatFloat(r.MissRate),
		u(r.Windows), u(r.WindowCycles), u(r.MaxWindowCycles), u(r.OverheadCycles), formatFloat(r.CyclesPerHit),
		strconv.Itoa(r.ExitStatus), r.StopReason, u(r.Cycles), u(r.Instructions),
		u(r.NXFlips), u(r.StackExpansions), u(r.StackStartSlots), u(r.InlineFallbacks),
	)
}

// parseHeader reads a CSV header: the fixed columns around param columns
// in strictly increasing name order. It returns the param names.
func parseHeader(h []string) ([]string, error) {
	bad := fmt.Errorf("header is not probesim's sweep header (%s,...)", strings.Join(headColumns[:4], ","))
	nh, nt := len(headColumns), len(tailColumns)
	if len(h) < nh+nt || !slices.Equal(h[:nh], headColumns) || !slices.Equal(h[len(h)-nt:], tailColumns) {
		return nil, bad
	}
	var params []string
	for _, col := range h[nh : len(h)-nt] {
		name, ok := strings.CutPrefix(col, ParamColumnPrefix)
		if !ok || !validParamName(name) {
			return nil, fmt.Errorf("header: column %q between profile and quantum is not param.NAME", col)
		}
		if len(params) > 0 && name <= params[len(params)-1] {
			return nil, fmt.Errorf("header: column %q is out of name order", col)
		}
		params = append(params, name)
	}
	return params, nil
}

func validParamName(n string) bool { return n != "" && !strings.ContainsAny(n, "= ;,\"") }

// fieldReader parses a CSV record's fields, keeping the first error.
type fieldReader struct {
	rec  []string
	cols []string
	err  error
}

func (f *fieldReader) fail(i int, format string) {
	if f.err == nil {
		f.err = fmt.Errorf("column %s: %q is not "+format, f.cols[i], f.rec[i])
	}
}

func (f *fieldReader) str(i int) string {
	if f.rec[i] == "" {
		f.fail(i, "a value (no field is empty)")
	}
	return f.rec[i]
}

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

func (f *fieldReader) address(i int) uint64 {
	h, ok := strings.CutPrefix(f.rec[i], "0x")
	v, err := strconv.ParseUint(h, 16, 64)
	if !ok || err != nil {
		f.fail(i, "an address (0x and hex digits)")
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

// parseRecord reads a CSV record of a file whose rows set params.
func parseRecord(params []string, rec []string) (Row, error) {
	cols := Columns(params)
	if len(rec) != len(cols) {
		return Row{}, fmt.Errorf("%d fields, want %d", len(rec), len(cols))
	}
	f := &fieldReader{rec: rec, cols: cols}
	r := Row{
		Index: f.int(0), Configs: f.int(1), Sweep: f.str(2),
		Program: f.str(3), Args: f.list(4), Env: f.list(5), Probes: f.list(6),
		StackLimit: f.count(7), MaxCycles: f.count(8), Profile: f.str(9),
		Params: make([]string, len(params)),
	}
	for j, name := range params {
		r.Params[j] = name + "=" + f.str(len(headColumns)+j)
	}
	i := len(headColumns) + len(params)
	r.Quantum, r.Strategy, r.CPUs, r.Seed = f.count(i), f.str(i+1), f.int(i+2), f.count(i+3)
	r.Probe, r.ProbeAddress, r.ProbeInstruction = f.str(i+4), f.address(i+5), f.str(i+6)
	r.Executions, r.Hits, r.Misses, r.MissRate = f.count(i+7), f.count(i+8), f.count(i+9), f.float(i+10)
	r.Windows, r.WindowCycles, r.MaxWindowCycles = f.count(i+11), f.count(i+12), f.count(i+13)
	r.OverheadCycles, r.CyclesPerHit = f.count(i+14), f.float(i+15)
	r.ExitStatus, r.StopReason, r.Cycles, r.Instructions = f.int(i+16), f.str(i+17), f.count(i+18), f.count(i+19)
	r.NXFlips, r.StackExpansions, r.StackStartSlots, r.InlineFallbacks = f.count(i+20), f.count(i+21), f.count(i+22), f.count(i+23)
	return r, f.err
}

// MarshalJSON writes r as one object with Columns' names in their order;
// param values are strings, as the config wrote them.
func (r Row) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	field := func(name string, v any) {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(name)
		b.Write(k)
		b.WriteByte(':')
		val, _ := json.Marshal(v) // strings, numbers and string lists always marshal
		b.Write(val)
	}
	field("index", r.Index)
	field("configs", r.Configs)
	field("sweep", r.Sweep)
	field("program", r.Program)
	field("args", orEmpty(r.Args))
	field("env", orEmpty(r.Env))
	field("probes", orEmpty(r.Probes))
	field("stack_limit", r.StackLimit)
	field("max_cycles", r.MaxCycles)
	field("profile", r.Profile)
	for _, a := range r.Params {
		name, v, _ := strings.Cut(a, "=")
		field(ParamColumnPrefix+name, v)
	}
	field("quantum", r.Quantum)
	field("strategy", r.Strategy)
	field("cpus", r.CPUs)
	field("seed", r.Seed)
	field("probe", r.Probe)
	field("probe_address", formatAddress(r.ProbeAddress))
	field("probe_instruction", r.ProbeInstruction)
	field("executions", r.Executions)
	field("hits", r.Hits)
	field("misses", r.Misses)
	field("miss_rate", r.MissRate)
	field("windows", r.Windows)
	field("window_cycles", r.WindowCycles)
	field("max_window_cycles", r.MaxWindowCycles)
	field("overhead_cycles", r.OverheadCycles)
	field("cycles_per_hit", r.CyclesPerHit)
	field("exit_status", r.ExitStatus)
	field("stop_reason", r.StopReason)
	field("cycles", r.Cycles)
	field("instructions", r.Instructions)
	field("nx_flips", r.NXFlips)
	field("stack_expansions", r.StackExpansions)
	field("stack_start_slots", r.StackStartSlots)
	field("inline_fallbacks", r.InlineFallbacks)
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads an object MarshalJSON wrote: every column exactly
// once, nothing else.
func (r *Row) UnmarshalJSON(data []byte) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return err
	}
	var names []string
	for k := range obj {
		if name, ok := strings.CutPrefix(k, ParamColumnPrefix); ok {
			if !validParamName(name) {
				return fmt.Errorf("%q is not param.NAME", k)
			}
			names = append(names, name)
		}
	}
	slices.Sort(names)
	var row Row
	var err error
	take := func(col string, dst any) {
		raw, ok := obj[col]
		if err != nil {
			return
		}
		if !ok {
			err = fmt.Errorf("no %q", col)
			return
		}
		delete(obj, col)
		if e := json.Unmarshal(raw, dst); e != nil {
			err = fmt.Errorf("%q: %s is not %s", col, raw, kindOf(dst))
		}
	}
	take("index", &row.Index)
	take("configs", &row.Configs)
	take("sweep", &row.Sweep)
	take("program", &row.Program)
	take("args", &row.Args)
	take("env", &row.Env)
	take("probes", &row.Probes)
	take("stack_limit", &row.StackLimit)
	take("max_cycles", &row.MaxCycles)
	take("profile", &row.Profile)
	row.Params = make([]string, len(names))
	for i, name := range names {
		var v string
		take(ParamColumnPrefix+name, &v)
		row.Params[i] = name + "=" + v
	}
	var addr string
	take("quantum", &row.Quantum)
	take("strategy", &row.Strategy)
	take("cpus", &row.CPUs)
	take("seed", &row.Seed)
	take("probe", &row.Probe)
	take("probe_address", &addr)
	take("probe_instruction", &row.ProbeInstruction)
	take("executions", &row.Executions)
	take("hits", &row.Hits)
	take("misses", &row.Misses)
	take("miss_rate", &row.MissRate)
	take("windows", &row.Windows)
	take("window_cycles", &row.WindowCycles)
	take("max_window_cycles", &row.MaxWindowCycles)
	take("overhead_cycles", &row.OverheadCycles)
	take("cycles_per_hit", &row.CyclesPerHit)
	take("exit_status", &row.ExitStatus)
	take("stop_reason", &row.StopReason)
	take("cycles", &row.Cycles)
	take("instructions", &row.Instructions)
	take("nx_flips", &row.NXFlips)
	take("stack_expansions", &row.StackExpansions)
	take("stack_start_slots", &row.StackStartSlots)
	take("inline_fallbacks", &row.InlineFallbacks)
	if err != nil {
		return err
	}
	for k := range obj {
		return fmt.Errorf("unknown field %q", k)
	}
	h, ok := strings.CutPrefix(addr, "0x")
	if row.ProbeAddress, err = strconv.ParseUint(h, 16, 64); !ok || err != nil {
		return fmt.Errorf("%q: %q is not an address (0x and hex digits)", "probe_address", addr)
	}
	for i, l := range [][]string{row.Args, row.Env, row.Probes} {
		if l == nil {
			return fmt.Errorf("%q: null is not a list of strings", []string{"args", "env", "probes"}[i])
		}
	}
	*r = row
	return nil
}

// kindOf names what a JSON field must hold, for messages.
func kindOf(dst any) string {
	switch dst.(type) {
	case *string:
		return "a string"
	case *[]string:
		return "a list of strings"
	case *float64:
		return "a number"
	}
	return "an integer"
}
