package sweep

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/report"
)

// syntheticSweep is a config of n seeds and the given probes (from Parse:
// the program is not loaded) and its rows, as a sweep would have measured
// them, by configuration.
func syntheticSweep(t *testing.T, n int, probes ...string) (*Config, [][]Row) {
	t.Helper()
	if len(probes) == 0 {
		probes = []string{"f"}
	}
	c, err := Parse(filepath.Join(t.TempDir(), "s.yaml"), []byte(fmt.Sprintf(
		"program: /p\nprobes: %s\ncpus: 2\nstrategies: inline\nseeds: {from: 1, to: %d}\n", jsonList(probes), n)))
	require.NoError(t, err)
	groups := make([][]Row, n)
	for i := range groups {
		p := c.Point(i)
		var reps []report.Probe
		for j, spec := range probes {
			reps = append(reps, report.Probe{Spec: spec, Address: uint64(0x401000 + j), Instruction: "nop",
				Executions: 200, Hits: 150, Misses: 50})
		}
		groups[i] = c.RowsOf(p, &report.Run{StopReason: "exit", Cycles: uint64(1000 + i), Instructions: uint64(500 + i),
			Probes: reps})
	}
	return c, groups
}

// flat is the rows of groups, in order.
func flat(groups [][]Row) []Row {
	var out []Row
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// TestJSONIsTheEncodersIndentedArray: the streaming writer writes the
// bytes encoding/json's Encoder with two-space indent writes for []Row,
// as WriteJSON did before it streamed.
func TestJSONIsTheEncodersIndentedArray(t *testing.T) {
	odd := sampleRow()
	odd.Program = "<&>\u2028"
	for _, rows := range [][]Row{nil, {sampleRow()}, {sampleRow(), sampleRow(), odd}} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		list := rows
		if list == nil {
			list = []Row{}
		}
		require.NoError(t, enc.Encode(list))
		var got bytes.Buffer
		require.NoError(t, WriteJSON(&got, rows))
		assert.Equal(t, want.String(), got.String())
	}
}

// TestOutputResumesAFileOfAnyOrder: OpenOutput scans the rows of a file,
// in whatever order it holds them and from either format, moves them to
// the places a grown config gives them, and saves them in configuration
// order with the rows added since.
func TestOutputResumesAFileOfAnyOrder(t *testing.T) {
	for _, probes := range [][]string{{"f"}, {"f", "g+1"}} {
		c, groups := syntheticSweep(t, 40, probes...)
		for _, name := range []string{"out.csv", "out.json"} {
			out := filepath.Join(t.TempDir(), name)
			// An earlier sweep of seeds 1..30 wrote some rows, then the
			// file was reordered by hand, a configuration's rows kept
			// together.
			small, _ := syntheticSweep(t, 30, probes...)
			var old []Row
			for i := 29; i >= 0; i -= 2 {
				for _, r := range groups[i] {
					r.Configs, r.Sweep = small.Len(), small.ID()
					old = append(old, r)
				}
			}
			require.NoError(t, WriteFile(out, old))
			o, err := OpenOutput(out, c, Shard{})
			require.NoError(t, err)
			assert.Equal(t, 15, o.Kept())
			for i := range groups {
				assert.Equal(t, i < 30 && i%2 == 1, o.Has(i), "configuration %d", i)
			}
			o.SaveEvery = 1 << 62 // only Close saves
			for i := range groups {
				if !o.Has(i) {
					require.NoError(t, o.Add(groups[i]))
				}
			}
			assert.Equal(t, 40, o.Rows())
			require.NoError(t, o.Close())
			var want bytes.Buffer
			f, _ := FormatOf(out)
			require.NoError(t, Encode(&want, f, flat(groups)))
			assert.Equal(t, want.String(), string(readFile(t, out)), name)

			// Saved by Output, the file is copied as it is on the next
			// resume.
			o, err = OpenOutput(out, c, Shard{})
			require.NoError(t, err)
			assert.Equal(t, 40, o.Kept())
			require.NoError(t, o.Save())
			require.NoError(t, o.Close())
			assert.Equal(t, want.String(), string(readFile(t, out)), name)
		}
	}
}

// TestOutputRefusesBadFiles: the rows of another sweep, repeated rows,
// tampered rows and what is not a results file are refused at Open, with
// the row or line, and the file is left alone.
func TestOutputRefusesBadFiles(t *testing.T) {
	c, groups := syntheticSweep(t, 4, "f", "g")
	rows := flat(groups)
	dir := t.TempDir()
	write := func(name string, rows []Row) string {
		p := filepath.Join(dir, name)
		require.NoError(t, WriteFile(p, rows))
		return p
	}
	tampered := append([]Row(nil), rows...)
	tampered[2].Hits = 500
	other := append([]Row(nil), rows...)
	other[2].Program, other[3].Program = "/q", "/q"
	runs := append([]Row(nil), rows...)
	runs[1].Cycles++
	for _, tc := range []struct{ path, want string }{
		{write("twice.csv", append(append(append([]Row{}, groups[0]...), groups[1]...), groups[0]...)), `row 5: cpus=2 strategy=inline seed=1: appears twice`},
		{write("tampered.json", tampered), "row 3: hits 500 + misses 50 is not executions 200"},
		{write("other.csv", other), `row 3 comes from another sweep (program "/q", not "/p" of ` + c.File + ")"},
		{write("half.csv", rows[1:]), `row 1: row for probe "g" where probe "f" of ["f","g"] is due`},
		{write("short.csv", rows[:3]), `row 3: 1 rows for the 2 probes ["f","g"] of configuration 1`},
		{write("runs.csv", runs), `row 1: rows of configuration 0 describe different runs (probe "f": cycles 1000, exit exit 0; probe "g": cycles 1001, exit exit 0)`},
	} {
		before := readFile(t, tc.path)
		_, err := OpenOutput(tc.path, c, Shard{})
		assert.EqualError(t, err, tc.path+": "+tc.want)
		assert.Equal(t, before, readFile(t, tc.path), "left alone")
		assert.NoFileExists(t, lockPath(tc.path))
	}
	_, err := OpenOutput(dir+"/", c, Shard{})
	assert.Error(t, err)
	fifo := filepath.Join(dir, "fifo.csv")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	_, err = OpenOutput(fifo, c, Shard{})
	assert.EqualError(t, err, fifo+": not a regular file")
	// A row longer than MaxRowBytes, as /dev/zero would give.
	long := filepath.Join(dir, "long.csv")
	require.NoError(t, os.WriteFile(long, bytes.Repeat([]byte{0}, MaxRowBytes+1), 0o644))
	_, err = OpenOutput(long, c, Shard{})
	assert.EqualError(t, err, long+": a row longer than 4 MiB (not a sweep results file)")
	// An output in a missing directory is named, not its temporary file.
	missing := filepath.Join(dir, "none", "m.csv")
	_, err = OpenOutput(missing, c, Shard{})
	assert.EqualError(t, err, "lock "+missing+": no such file or directory")
	err = WriteFile(missing, rows)
	assert.EqualError(t, err, "lock "+missing+": no such file or directory")
}

// TestOutputIsExclusive: while an Output holds a file, another Output or a
// WriteFile of it fails at once naming the holder's pid, and the file
// keeps the holder's rows; after Close the lock is free.
func TestOutputIsExclusive(t *testing.T) {
	c, groups := syntheticSweep(t, 4)
	out := filepath.Join(t.TempDir(), "out.csv")
	o, err := OpenOutput(out, c, Shard{})
	require.NoError(t, err)
	require.NoError(t, o.Add(groups[0]))
	_, err = OpenOutput(out, c, Shard{})
	var le *LockError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, os.Getpid(), le.PID)
	assert.EqualError(t, err, fmt.Sprintf("%s is being written by another probesim (pid %d); wait for it to end or choose another file", out, os.Getpid()))
	assert.ErrorAs(t, WriteFile(out, flat(groups)), &le)
	require.NoError(t, o.Close())
	back, err := ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, groups[0], back)
	require.NoError(t, WriteFile(out, flat(groups)))
}

// TestSweepStartIsBoundedInMemory: starting a sweep of a million
// configurations allocates nothing per configuration (before, the
// configurations and a result slot for each were allocated up front, some
// 700 MB); the seeds of the config are all it holds.
func TestSweepStartIsBoundedInMemory(t *testing.T) {
	c, err := Parse(filepath.Join(t.TempDir(), "s.yaml"), []byte(fmt.Sprintf(
		"program: /p\nprobes: [f]\ncpus: 2\nstrategies: inline\nseeds: {from: 1, to: %d}\n", MaxConfigs)))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // nothing runs: what is measured is the set-up
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, st, err := Run(ctx, c, Options{Jobs: 2})
	runtime.ReadMemStats(&after)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, MaxConfigs, st.Total)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20), "bytes allocated to start")
}

// TestResumeIsBoundedInMemory: an Output holds a few bytes per row of the
// file it resumes (where each row is), not the rows (hundreds of bytes
// each), and saving it streams them.
func TestResumeIsBoundedInMemory(t *testing.T) {
	const n = 100_000
	c, groups := syntheticSweep(t, n)
	out := filepath.Join(t.TempDir(), "out.csv")
	require.NoError(t, WriteFile(out, flat(groups[:n-10])))
	st, err := os.Stat(out)
	require.NoError(t, err)
	groups = nil
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	o, err := OpenOutput(out, c, Shard{})
	require.NoError(t, err)
	runtime.GC()
	runtime.ReadMemStats(&after)
	held := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	assert.Less(t, held, int64(32*n), "bytes held for %d rows of a %d-byte file", n-10, st.Size())
	assert.Equal(t, n-10, o.Kept())
	require.NoError(t, o.Close())
	assert.Equal(t, st.Size(), int64(len(readFile(t, out))), "saved as it was")
	assert.True(t, strings.HasSuffix(string(readFile(t, out)), fmt.Sprintf(",%d,%d,0,0,0,0\n", 1000+n-11, 500+n-11)))
}

// TestOpenOutputGivesUpWhenCancelled: a cancelled open of a file with
// rows (a Ctrl-C while a big --out is read and saved back) leaves the file
// byte for byte as it was, no temporary file beside it, and the lock free;
// cancelling mid-save does the same.
func TestOpenOutputGivesUpWhenCancelled(t *testing.T) {
	c, groups := syntheticSweep(t, 3*cancelEvery)
	dir := t.TempDir()
	out := filepath.Join(dir, "out.csv")
	require.NoError(t, WriteFile(out, flat(groups)))
	before, err := os.ReadFile(out)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = OpenOutputContext(ctx, out, c, Shard{})
	require.ErrorIs(t, err, context.Canceled)
	o, err := OpenOutput(out, c, Shard{}) // reads every row, then saves
	require.NoError(t, err)
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	err = o.save(ctx)
	require.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), out, "the error names the file, not its temporary one")
	require.NoError(t, o.Close())
	after, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, before, after)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{"out.csv"}, names, "no temporary file or lock left")
}

// TestCanonicalFilesAreCopied: the rows of a file Save wrote for this
// config are copied as they are at the first save (scan finds them
// canonical); a row spelled otherwise (a field quoted that needs no
// quotes), or rows of another config, make the file non-canonical, and
// the save writes them as Save spells them.
func TestCanonicalFilesAreCopied(t *testing.T) {
	c, groups := syntheticSweep(t, 50, "f", "g")
	dir := t.TempDir()
	out := filepath.Join(dir, "out.csv")
	require.NoError(t, WriteFile(out, flat(groups)))
	canonical, err := os.ReadFile(out)
	require.NoError(t, err)
	scanned := func(path string, c *Config) bool {
		o, err := newOutput(path, c)
		require.NoError(t, err)
		defer o.abort()
		require.NoError(t, o.scan(context.Background(), Shard{}))
		assert.Equal(t, 50, o.Rows())
		return o.canonical
	}
	assert.True(t, scanned(out, c))

	// The probe field of row 7 quoted: the same rows, other bytes.
	lines := strings.SplitAfter(string(canonical), "\n")
	f := strings.Split(lines[7], ",")
	for k, v := range f {
		if v == "f" || v == "g" {
			f[k] = `"` + v + `"`
			break
		}
	}
	lines[7] = strings.Join(f, ",")
	edited := filepath.Join(dir, "edited.csv")
	require.NoError(t, os.WriteFile(edited, []byte(strings.Join(lines, "")), 0o644))
	assert.False(t, scanned(edited, c))
	o, err := OpenOutput(edited, c, Shard{})
	require.NoError(t, err)
	require.NoError(t, o.Close())
	back, err := os.ReadFile(edited)
	require.NoError(t, err)
	assert.Equal(t, string(canonical), string(back), "rewritten as Save spells it")

	// The same rows under a config with more seeds are at other indexes.
	bigger, _ := syntheticSweep(t, 60, "f", "g")
	assert.False(t, scanned(out, bigger))
}
