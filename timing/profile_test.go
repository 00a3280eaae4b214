package timing

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultProfile(t *testing.T) {
	p := Default()
	assert.Equal(t, "skylake", p.Name)
	assert.Equal(t, uint64(3_000_000_000), p.FreqHz)
	assert.Equal(t, 4, p.IssueWidth)
	assert.Equal(t, 5, p.LoadLatency)
	assert.Equal(t, ChainLoopCarried, p.Chain)
	assert.Equal(t, uint64(1000), p.Kernel.ExceptionEntryExit)
	assert.Equal(t, uint64(275), p.Kernel.SyscallEntryExit)
	require.NotNil(t, p.table)
	assert.Equal(t, "skylake", p.table.name)

	// Each call is an independent copy.
	require.NoError(t, p.Set("issue_width", "8"))
	assert.Equal(t, 4, Default().IssueWidth)
}

func TestParamsOrderAndNames(t *testing.T) {
	ps := Default().Params()
	require.Len(t, ps, 8+14)
	assert.Equal(t, Param{"name", "skylake"}, ps[0])
	assert.Equal(t, Param{"freq_hz", "3000000000"}, ps[1])
	assert.Equal(t, Param{"issue_width", "4"}, ps[2])
	assert.Equal(t, Param{"kernel_jitter_percent", "10"}, ps[7])
	assert.Equal(t, Param{"kernel.syscall_entry_exit", "275"}, ps[8])
	assert.Equal(t, Param{"kernel.probe_handler", "100"}, ps[len(ps)-1])

	ks := Default().Kernel.List()
	require.Len(t, ks, 14)
	assert.Equal(t, KernelCost{"syscall_entry_exit", 275}, ks[0])
	assert.Equal(t, KernelCost{"exception_entry_exit", 1000}, ks[1])
	for i, k := range ks {
		assert.Equal(t, "kernel."+k.Name, ps[8+i].Name)
	}
}

func TestSetAndOverride(t *testing.T) {
	p := Default()
	require.NoError(t, p.Set("kernel.exception_entry_exit", "1500"))
	assert.Equal(t, uint64(1500), p.Kernel.ExceptionEntryExit)
	require.NoError(t, p.Override("issue_width=6"))
	assert.Equal(t, 6, p.IssueWidth)
	require.NoError(t, p.Override(" freq_hz = 2000000000 "))
	assert.Equal(t, uint64(2_000_000_000), p.FreqHz)
	require.NoError(t, p.Set("name", "skylake-wide"))
	assert.Equal(t, "skylake-wide", p.Name)
}

func TestSetErrorsLeaveTheProfileUnchanged(t *testing.T) {
	cases := []struct{ name, value, want string }{
		{"issue_widht", "6", "set issue_widht: unknown parameter"},
		{"kernel.nope", "1", "set kernel.nope: unknown parameter"},
		{"kernel", "1", "set kernel: unknown parameter"},
		{"issue_width", "six", `set issue_width: "six" is not an integer`},
		{"issue_width", "0", "set issue_width=0: issue_width: must be between 1 and 16, got 0"},
		{"issue_width", "-2", "set issue_width=-2: issue_width: must be between 1 and 16, got -2"},
		{"kernel.iret", "-5", `set kernel.iret: "-5" is not a non-negative integer`},
		{"kernel.iret", "1099511627777", "set kernel.iret=1099511627777: kernel.iret: must be at most 1099511627776, got 1099511627777"},
		{"freq_hz", "0", "set freq_hz=0: freq_hz: must be between 1 and 1e12, got 0"},
		{"chain", "both", `set chain=both: chain: must be "loop_carried" or "critical_path", got "both"`},
		{"insn_table", "zen", `set insn_table=zen: insn_table: unknown instruction table "zen" (built in: skylake)`},
		{"name", "", "set name=: name: must not be empty"},
	}
	for _, c := range cases {
		p := Default()
		before := p.Params()
		err := p.Set(c.name, c.value)
		require.Error(t, err, c.name)
		assert.Equal(t, c.want, err.Error())
		assert.Equal(t, before, p.Params(), "profile changed by failed Set(%s)", c.name)
	}
	err := Default().Override("issue_width")
	require.Error(t, err)
	assert.Equal(t, `override "issue_width": want name=value`, err.Error())
}

func writeProfile(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "p.json")
	require.NoError(t, os.WriteFile(path, []byte(body), 0o644))
	return path
}

func TestLoadProfileRoundTrip(t *testing.T) {
	data, err := json.Marshal(Default())
	require.NoError(t, err)
	p, err := LoadProfile(writeProfile(t, string(data)))
	require.NoError(t, err)
	assert.Equal(t, Default().Params(), p.Params())
	assert.Equal(t, Default().CostBlock(typical64, 0, 64), p.CostBlock(typical64, 0, 64))
}

func TestLoadProfileErrors(t *testing.T) {
	good, err := json.Marshal(Default())
	require.NoError(t, err)
	base := string(good)
	cases := []struct{ label, body, want string }{
		{"unknown field", strings.Replace(base, `"name"`, `"colour":"red","name"`, 1),
			`unknown field "colour"`},
		{"unknown kernel field", strings.Replace(base, `"iret"`, `"irq":1,"iret"`, 1),
			`unknown field "irq"`},
		{"negative", strings.Replace(base, `"exception_entry_exit":1000`, `"exception_entry_exit":-5`, 1),
			"kernel.exception_entry_exit: want a non-negative integer, got number -5"},
		{"fraction", strings.Replace(base, `"iret":330`, `"iret":1.5`, 1),
			"kernel.iret: want a non-negative integer, got number 1.5"},
		{"string for int", strings.Replace(base, `"issue_width":4`, `"issue_width":"4"`, 1),
			"issue_width: want an integer, got string"},
		{"negative width", strings.Replace(base, `"issue_width":4`, `"issue_width":-1`, 1),
			"issue_width: must be between 1 and 16, got -1"},
		{"missing", strings.Replace(base, `"cpuid_cycles":250,`, ``, 1), "cpuid_cycles: missing"},
		{"missing kernel", strings.Replace(base, `"ipi_delivery":2700,`, ``, 1), "kernel.ipi_delivery: missing"},
		{"malformed", `{"name": "x",`, "malformed JSON: unexpected end of input"},
		{"syntax", `{"name" "x"}`, "malformed JSON at byte 9: invalid character '\"' after object key"},
		{"trailing", base + `{}`, "malformed JSON: data after the profile object"},
		{"empty", ``, "malformed JSON: empty input"},
		{"array", `[1]`, "malformed profile: want a JSON object, got array"},
		{"bad table", strings.Replace(base, `"insn_table":"skylake"`, `"insn_table":"k6"`, 1),
			`insn_table: unknown instruction table "k6" (built in: skylake)`},
	}
	for _, c := range cases {
		path := writeProfile(t, c.body)
		_, err := LoadProfile(path)
		require.Error(t, err, c.label)
		assert.Equal(t, "profile "+path+": "+c.want, err.Error(), c.label)
		assert.NotContains(t, err.Error(), "\n", c.label)
	}
	_, err = LoadProfile(filepath.Join(t.TempDir(), "absent.json"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no such file or directory")
}

func TestCyclesToNS(t *testing.T) {
	p := Default()
	assert.Equal(t, uint64(1000), p.CyclesToNS(3000))
	assert.Equal(t, uint64(0), p.CyclesToNS(2))
	assert.Equal(t, uint64(333_333_333_333), p.CyclesToNS(1_000_000_000_000))
	assert.Equal(t, uint64(2e18), p.CyclesToNS(6e18), "cycles * 1e9 overflows 64 bits on the way")
	assert.Equal(t, uint64(math.MaxUint64), (&Profile{FreqHz: 1}).CyclesToNS(math.MaxUint64))
}

func TestJitterSpreadsUniformlyWithinBounds(t *testing.T) {
	p := Default()
	require.Equal(t, uint64(10), p.KernelJitterPercent)
	// The extremes of r give the ends of [0.9, 1.1] x cost.
	assert.Equal(t, uint64(900), p.Jitter(1000, 0))
	assert.Equal(t, uint64(1100), p.Jitter(1000, 2*10*1000))
	lo, hi, sum := uint64(1<<63), uint64(0), uint64(0)
	r := uint64(0x9e3779b97f4a7c15)
	const n = 20000
	for i := 0; i < n; i++ {
		r = r*6364136223846793005 + 1442695040888963407
		c := p.Jitter(1000, r)
		lo, hi, sum = min(lo, c), max(hi, c), sum+c
	}
	assert.Equal(t, uint64(900), lo)
	assert.Equal(t, uint64(1100), hi)
	assert.InDelta(t, 1000, float64(sum)/n, 2, "mean stays the cost")

	require.NoError(t, p.Set("kernel_jitter_percent", "0"))
	assert.Equal(t, uint64(1000), p.Jitter(1000, r), "0 is exact")
	assert.Error(t, p.Set("kernel_jitter_percent", "51"))
}

// A calibrated profile carries its provenance; it is no parameter, so the
// parameter list, Set and the model see the same profile without it.
func TestCalibrationIsProvenance(t *testing.T) {
	p := Default()
	p.Calibration = &Calibration{Tool: "probesim calibrate", Host: "test", CPUs: 2, Repeat: 3,
		Params:       []CalibratedParam{{Name: "kernel.syscall_entry_exit", Source: "measured", Method: "m", MedianNS: 100}},
		Measurements: []Measurement{{Name: "syscall_ns", Median: 100, Samples: 3}}, Skipped: []string{}}
	data, err := json.Marshal(p)
	require.NoError(t, err)
	q, err := ParseProfile(data)
	require.NoError(t, err)
	require.NotNil(t, q.Calibration)
	assert.Equal(t, *p.Calibration, *q.Calibration)
	assert.Equal(t, Default().Params(), q.Params())
	require.ErrorContains(t, q.Set("calibration", "x"), "unknown parameter")

	// The built-in profile has none, and its JSON has no such key.
	data, err = json.Marshal(Default())
	require.NoError(t, err)
	assert.NotContains(t, string(data), "calibration")

	// Unknown fields inside it are errors, as anywhere in a profile.
	bad := strings.Replace(string(mustJSON(t, p)), `"tool"`, `"tool_typo"`, 1)
	_, err = ParseProfile([]byte(bad))
	require.ErrorContains(t, err, "tool_typo")
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return data
}
