package sweep

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sampleRow is a consistent row of a configuration with two probes and
// two params; sampleRows are both its rows.
func sampleRow() Row {
	return Row{
		Index: 3, Configs: 8, Sweep: "0123456789abcdef",
		Program: "bin/p", Args: []string{"4", "a b,\"c\""}, Env: []string{"X=1;2"}, Probes: []string{"f", "g+4"},
		StackLimit: 8 << 20, MaxCycles: 1000, Profile: "skylake", Params: []string{"a=1", "b=2"},
		Quantum: 10000, Strategy: "inline", CPUs: 2, Seed: 1,
		Probe: "f", ProbeAddress: 0x401a16, ProbeInstruction: "push rbp",
		Executions: 200, Hits: 50, Misses: 150, MissRate: 0.75,
		Windows: 50, WindowCycles: 1000, MaxWindowCycles: 30, OverheadCycles: 5000, CyclesPerHit: 100,
		ExitStatus: 0, StopReason: "exit", Cycles: 123456, Instructions: 7890,
		NXFlips: 1, StackExpansions: 2, StackStartSlots: 4, InlineFallbacks: 3,
	}
}

func sampleRows() []Row {
	a, b := sampleRow(), sampleRow()
	b.Probe, b.ProbeAddress, b.ProbeInstruction = "g+4", 0x401a1a, "mov eax, 0x1"
	b.Executions, b.Hits, b.Misses, b.MissRate, b.OverheadCycles, b.CyclesPerHit = 10, 10, 0, 0, 900, 90
	b.Windows, b.WindowCycles, b.MaxWindowCycles = 10, 100, 20
	return []Row{a, b}
}

// TestRowsRoundTrip: what WriteCSV and WriteJSON write, ReadCSV and
// ReadJSON read back unchanged (list fields with separators and quotes
// included).
func TestRowsRoundTrip(t *testing.T) {
	rows := sampleRows()
	other := sampleRows()
	for i := range other {
		other[i].Index, other[i].Args, other[i].Env = 4, []string{}, []string{}
	}
	rows = append(rows, other...)
	for _, f := range []Format{CSV, JSON} {
		var buf bytes.Buffer
		require.NoError(t, Encode(&buf, f, rows))
		var back []Row
		var err error
		if f == CSV {
			back, err = ReadCSV(&buf)
		} else {
			back, err = ReadJSON(&buf)
		}
		require.NoError(t, err)
		assert.Equal(t, rows, back, "format %d", f)
	}
}

// TestTidyColumns: one column per setting and per param, lists as JSON,
// the probe's own columns, and the same names in JSON as in CSV.
func TestTidyColumns(t *testing.T) {
	assert.Equal(t, strings.Join([]string{
		"index", "configs", "sweep", "program", "args", "env", "probes", "stack_limit", "max_cycles", "profile",
		"param.a", "param.b",
		"quantum", "strategy", "cpus", "seed", "probe", "probe_address", "probe_instruction",
		"executions", "hits", "misses", "miss_rate", "windows", "window_cycles", "max_window_cycles",
		"overhead_cycles", "cycles_per_hit", "exit_status", "stop_reason", "cycles", "instructions",
		"nx_flips", "stack_expansions", "stack_start_slots", "inline_fallbacks",
	}, ","), strings.Join(Columns([]string{"a", "b"}), ","))
	var csv bytes.Buffer
	require.NoError(t, WriteCSV(&csv, sampleRows()))
	lines := strings.Split(csv.String(), "\n")
	assert.Equal(t, `3,8,0123456789abcdef,bin/p,"[""4"",""a b,\""c\""""]","[""X=1;2""]","[""f"",""g+4""]",8388608,1000,skylake,1,2,10000,inline,2,1,f,0x401a16,push rbp,200,50,150,0.750000,50,1000,30,5000,100.000000,0,exit,123456,7890,1,2,4,3`, lines[1])
	var js bytes.Buffer
	require.NoError(t, WriteJSON(&js, sampleRows()[:1]))
	assert.Contains(t, js.String(), `
    "profile": "skylake",
    "param.a": "1",
    "param.b": "2",
    "quantum": 10000,`)
	assert.Contains(t, js.String(), `"probe_address": "0x401a16",`)
}

// TestTotals: a configuration's probe rows fold into one row of the run.
func TestTotals(t *testing.T) {
	rows := sampleRows()
	next := sampleRows()
	for i := range next {
		next[i].Index = 4
	}
	tot := Totals(append(rows, next...))
	require.Len(t, tot, 2)
	r := tot[0]
	assert.Equal(t, AllProbes, r.Probe)
	assert.Equal(t, uint64(210), r.Executions)
	assert.Equal(t, uint64(60), r.Hits)
	assert.Equal(t, uint64(150), r.Misses)
	assert.InDelta(t, 150.0/210, r.MissRate, 1e-12)
	assert.Equal(t, uint64(5900), r.OverheadCycles)
	assert.Equal(t, uint64(60), r.Windows)
	assert.Equal(t, uint64(30), r.MaxWindowCycles)
	assert.Equal(t, rows[0].Cycles, r.Cycles, "the run's own columns are the run's")
	assert.Equal(t, 4, tot[1].Index)
}

func TestWriteFileIsAtomicAndByExtension(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"r.csv", "r.JSON"} {
		p := filepath.Join(dir, name)
		require.NoError(t, WriteFile(p, sampleRows()))
		back, err := ReadFile(p)
		require.NoError(t, err)
		assert.Equal(t, sampleRows(), back)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 2, "no temporary file left behind")
	data, err := os.ReadFile(filepath.Join(dir, "r.csv"))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(data), strings.Join(Columns([]string{"a", "b"}), ",")+"\n"))

	err = WriteFile(filepath.Join(dir, "r.txt"), nil)
	require.EqualError(t, err, filepath.Join(dir, "r.txt")+": want a .csv or .json file")
	err = WriteFile(filepath.Join(dir, "none", "r.csv"), nil)
	require.Error(t, err)
	mixed := sampleRows()
	mixed[1].Params = []string{"a=1"}
	require.ErrorContains(t, WriteFile(filepath.Join(dir, "m.csv"), mixed), `sets params ["a"], the file ["a","b"]`)
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		return p
	}
	var good bytes.Buffer
	require.NoError(t, WriteCSV(&good, sampleRows()[:1]))
	badCount := strings.Replace(good.String(), ",200,50,150,", ",200,x,150,", 1)
	empty := strings.Replace(good.String(), ",skylake,", ",,", 1)
	var goodJSON bytes.Buffer
	require.NoError(t, WriteJSON(&goodJSON, sampleRows()))
	header := strings.Join(Columns(nil), ",")
	for _, tc := range []struct{ name, text, want string }{
		{"empty.csv", "", "empty file: want the header " + header},
		{"other.csv", "a,b,c\n1,2,3\n", "header is not probesim's sweep header (index,configs,sweep,program,...)"},
		{"param.csv", strings.Replace(header, ",quantum,", ",colour,quantum,", 1) + "\n", `header: column "colour" between profile and quantum is not param.NAME`},
		{"order.csv", strings.Replace(header, ",quantum,", ",param.b,param.a,quantum,", 1) + "\n", `header: column "param.a" is out of name order`},
		{"count.csv", badCount, `line 2: column hits: "x" is not a count`},
		{"blank.csv", empty, `line 2: column profile: "" is not a value (no field is empty)`},
		{"short.csv", header + "\n1,2\n", "line 2: 2 fields, want 34"},
		{"obj.json", `{"a": 1}`, "not a JSON array of sweep rows: {"},
		{"null.json", `null`, "not a JSON array of sweep rows: null"},
		{"cut.json", `[{"index": 1`, "not a JSON array of sweep rows: the file ends inside it"},
		{"unknown.json", strings.Replace(goodJSON.String(), `"index"`, `"nope": 1, "index"`, 1), `row 1: unknown field "nope"`},
		{"missing.json", strings.Replace(goodJSON.String(), `"cycles": 123456,`, ``, 1), `row 1: no "cycles"`},
		{"type.json", strings.Replace(goodJSON.String(), `"cycles": 123456,`, `"cycles": "many",`, 1), `row 1: "cycles": "many" is not an integer`},
		{"params.json", lastReplaced(goodJSON.String(), "\n    \"param.b\": \"2\",", ""), `row 2: params ["a"], but row 1 has ["a","b"]: a file's rows set the same params`},
	} {
		p := write(tc.name, tc.text)
		_, err := ReadFile(p)
		if assert.Error(t, err, tc.name) {
			assert.Equal(t, p+": "+tc.want, err.Error(), tc.name)
		}
	}
}

// lastReplaced replaces the last old in s with new.
func lastReplaced(s, old, new string) string {
	i := strings.LastIndex(s, old)
	return s[:i] + new + s[i+len(old):]
}
