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

func sampleRow() Row {
	return Row{
		Index: 3, Configs: 8, Key: "cpus=2 strategy=inline seed=1 quantum=10000 profile=skylake a=1 b=2",
		Program: "bin/p", Args: []string{"4", "a b,\"c\""}, Probes: []string{"f", "g+4"}, Env: []string{"X=1;2"},
		MaxCycles: 1000, StackLimit: 8 << 20,
		Strategy: "inline", CPUs: 2, Seed: 1, Quantum: 10000, Profile: "skylake", Params: []string{"a=1", "b=2"},
		ExitStatus: 0, StopReason: "exit", Executions: 200, Hits: 50, Misses: 150, MissRate: 0.75,
		Windows: 50, WindowCycles: 1000, MaxWindowCycles: 30, OverheadCycles: 5000, CyclesPerHit: 100,
		NXFlips: 1, StackExpansions: 2, StackStartSlots: 4, InlineFallbacks: 3, Cycles: 123456, Instructions: 7890,
	}
}

// TestRowsRoundTrip: what WriteCSV and WriteJSON write, ReadCSV and
// ReadJSON read back unchanged (list fields with separators and quotes
// included).
func TestRowsRoundTrip(t *testing.T) {
	rows := []Row{sampleRow(), sampleRow()}
	rows[1].Args, rows[1].Env, rows[1].Params = []string{}, []string{}, []string{}
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

func TestWriteFileIsAtomicAndByExtension(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"r.csv", "r.JSON"} {
		p := filepath.Join(dir, name)
		require.NoError(t, WriteFile(p, []Row{sampleRow()}))
		back, err := ReadFile(p)
		require.NoError(t, err)
		assert.Equal(t, []Row{sampleRow()}, back)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 2, "no temporary file left behind")
	data, err := os.ReadFile(filepath.Join(dir, "r.csv"))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(data), strings.Join(Columns, ",")+"\n"))
	assert.Contains(t, string(data), `"[""4"",""a b,\""c\""""]"`)

	err = WriteFile(filepath.Join(dir, "r.txt"), nil)
	require.EqualError(t, err, filepath.Join(dir, "r.txt")+": want a .csv or .json file")
	err = WriteFile(filepath.Join(dir, "none", "r.csv"), nil)
	require.Error(t, err)
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		return p
	}
	var good bytes.Buffer
	require.NoError(t, WriteCSV(&good, []Row{sampleRow()}))
	badCount := strings.Replace(good.String(), ",200,50,150,", ",200,x,150,", 1)
	for _, tc := range []struct{ name, text, want string }{
		{"empty.csv", "", "empty file: want the header " + strings.Join(Columns, ",")},
		{"other.csv", "a,b,c\n1,2,3\n", "header is not probesim's sweep header (index,configs,key,program,...)"},
		{"count.csv", badCount, `line 2: column hits: "x" is not a count`},
		{"short.csv", strings.Join(Columns, ",") + "\n1,2\n", "line 2: 2 fields, want 32"},
		{"obj.json", `{"a": 1}`, "not a JSON array of sweep rows: {"},
		{"null.json", `null`, "not a JSON array of sweep rows: null"},
		{"cut.json", `[{"index": 1},`, "not a JSON array of sweep rows: the file ends inside it"},
		{"unknown.json", `[{"nope": 1}]`, `not a JSON array of sweep rows: json: unknown field "nope"`},
	} {
		p := write(tc.name, tc.text)
		_, err := ReadFile(p)
		if assert.Error(t, err, tc.name) {
			assert.Equal(t, p+": "+tc.want, err.Error())
		}
	}
}
