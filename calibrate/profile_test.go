package calibrate

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/timing"
)

func TestSummarize(t *testing.T) {
	s := Summarize([]float64{5, 1, 3, 2, 4})
	assert.Equal(t, Summary{Median: 3, Min: 1, Max: 5, SpreadPercent: 100 * (4 - 2) / 3.0, N: 5}, s)
	assert.Equal(t, 2.5, Summarize([]float64{1, 2, 3, 4}).Median)
	assert.Equal(t, Summary{Median: 7, Min: 7, Max: 7, N: 1}, Summarize([]float64{7}))
	assert.Equal(t, Summary{}, Summarize(nil))
	assert.Equal(t, 0.0, Summarize([]float64{0, 0}).SpreadPercent)
}

func TestNSToCycles(t *testing.T) {
	assert.Equal(t, uint64(300), nsToCycles(100, 3_000_000_000))
	assert.Equal(t, uint64(1), nsToCycles(0.2, 3_000_000_000)) // 0.6 rounds up
	assert.Equal(t, uint64(0), nsToCycles(-50, 3_000_000_000))
	assert.Equal(t, 100.0, cyclesToNS(300, 3_000_000_000))
}

// measured is one synthetic repeat of every measurement, at a 3 GHz core
// clock so that ns x 3 = cycles.
func measured(scale float64) map[string]float64 {
	m := map[string]float64{
		"core_hz": 3e9, "tsc_hz": 2.6e9, "syscall_ns": 100, "pipe_ns": 400, "pagefault_ns": 1000,
		"cow_ns": 2000, "mprotect_down_ns": 900, "mprotect_up_ns": 800, "shootdown_down_ns": 5900,
		"shootdown_up_ns": 5000, "shootdown_ipi_stolen_ns": 3000, "shootdown_ipi_matched": 10,
		"shootdown_ipi_expected": 10, "pingpong_ns": 4800, "int3_signal_ns": 2100, "step_signal_ns": 12100,
		"iret_ns": 40, "cpuid_ns": 4000, "xmc_stolen_ns": 200, "xmc_visible_ns": 300,
		"uprobe_nop_ns": 500, "uprobe_step_ns": 10000, "uprobe_handler_ns": 250,
		"ptrace_int3_ns": 40000, "ptrace_step_ns": 60000, "ptrace_regs_ns": 3000, "ptrace_poke_ns": 2500,
		"ptrace_cow_ns": 30000,
	}
	for k, v := range m {
		if k != "core_hz" && k != "tsc_hz" {
			m[k] = v * scale
		}
	}
	return m
}

func kernelCost(t *testing.T, p *timing.Profile, name string) uint64 {
	t.Helper()
	for _, k := range p.Kernel.List() {
		if k.Name == name {
			return k.Cycles
		}
	}
	t.Fatalf("no kernel cost %s", name)
	return 0
}

func calParam(t *testing.T, p *timing.Profile, name string) timing.CalibratedParam {
	t.Helper()
	for _, c := range p.Calibration.Params {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no calibrated param %s", name)
	return timing.CalibratedParam{}
}

func TestBuildHost(t *testing.T) {
	ms := &Measurements{Host: "AMD EPYC, 2 CPUs online, Linux 6.18", CPUs: []int{0, 1},
		Repeats: []map[string]float64{measured(0.9), measured(1), measured(1.1)}}
	p, err := Build(ms, Host, "host")
	require.NoError(t, err)
	assert.Equal(t, "host", p.Name)
	assert.Equal(t, uint64(3_000_000_000), p.FreqHz)
	assert.Equal(t, "skylake", p.InsnTable)
	assert.Equal(t, uint64(12000), p.CPUIDCycles)
	want := map[string]uint64{
		"syscall_entry_exit": 300,
		// (10000 - 250 - 4 x 33.3) / 2 ns
		"exception_entry_exit":           3*(10000-250)/2 - 2*100,
		"iret":                           120,
		"page_fault_entry_exit":          3000,
		"tlb_shootdown_initiator":        2400,
		"tlb_shootdown_target":           9000,
		"ipi_delivery":                   15000,
		"cross_modifying_code_serialize": 600,
		"context_switch":                 6000,
		"mprotect_one_page":              2700,
		"cow_break_page":                 6000,
		"kernel_write_byte":              100, // the skylake estimate, same clock
		"probe_handler":                  750,
	}
	for name, c := range want {
		assert.Equal(t, c, kernelCost(t, p, name), name)
	}
	sc := calParam(t, p, "kernel.syscall_entry_exit")
	assert.Equal(t, "measured", sc.Source)
	assert.Equal(t, timing.CalibratedParam{Name: sc.Name, Source: "measured", Method: sc.Method,
		MedianNS: 100, MinNS: 90, MaxNS: 110, SpreadPercent: 10}, sc)
	assert.Equal(t, "estimate", calParam(t, p, "kernel.kernel_write_byte").Source)
	assert.Contains(t, calParam(t, p, "kernel.exception_entry_exit").Method, "uprobe")
	assert.Len(t, p.Calibration.Params, len(p.Params()))
	assert.Len(t, p.Calibration.Measurements, len(measured(1)))
	assert.Equal(t, 3, p.Calibration.Repeat)

	// A pure function of the measurements, and a loadable profile.
	a, err := MarshalProfile(p)
	require.NoError(t, err)
	q, err := Build(ms, Host, "host")
	require.NoError(t, err)
	b, err := MarshalProfile(q)
	require.NoError(t, err)
	assert.Equal(t, string(a), string(b))
	back, err := timing.ParseProfile(a)
	require.NoError(t, err)
	assert.Equal(t, p.Params(), back.Params())
}

// Without the uprobe PMU or with one CPU, the parameters fall back to the
// signal-based trap figure and the skylake estimates, and say so.
func TestBuildFallbacks(t *testing.T) {
	m := measured(1)
	for k := range m {
		if strings.HasPrefix(k, "uprobe_") || strings.HasPrefix(k, "shootdown_") || strings.HasPrefix(k, "xmc_") {
			delete(m, k)
		}
	}
	ms := &Measurements{Host: "x", CPUs: []int{0}, Repeats: []map[string]float64{m},
		Skipped: []string{"uprobe hits skipped: not root (perf_event_open of the uprobe PMU needs CAP_PERFMON)"}}
	p, err := Build(ms, Host, "host")
	require.NoError(t, err)
	// (2100 + 12100) / 2 - 100 ns
	assert.Equal(t, uint64(3*7000), kernelCost(t, p, "exception_entry_exit"))
	assert.Contains(t, calParam(t, p, "kernel.exception_entry_exit").Method, "SIGTRAP")
	for _, name := range []string{"probe_handler", "tlb_shootdown_target", "ipi_delivery", "cross_modifying_code_serialize"} {
		assert.Equal(t, kernelCost(t, timing.Default(), name), kernelCost(t, p, name), name)
		assert.Equal(t, "estimate", calParam(t, p, "kernel."+name).Source, name)
	}
	assert.Equal(t, ms.Skipped, p.Calibration.Skipped)

	_, err = Build(&Measurements{}, Host, "host")
	require.EqualError(t, err, "calibrate: no measurements")
}

func TestBuildPtraceInline(t *testing.T) {
	ms := &Measurements{Host: "x", CPUs: []int{0, 1}, Repeats: []map[string]float64{measured(1)}}
	p, err := Build(ms, PtraceInline, "ptrace-inline")
	require.NoError(t, err)
	assert.Equal(t, uint64(3*50000), kernelCost(t, p, "exception_entry_exit"))
	assert.Equal(t, uint64(9000), kernelCost(t, p, "probe_handler"))
	assert.Equal(t, uint64(7500), kernelCost(t, p, "kernel_write_byte"))
	assert.Equal(t, uint64(90000), kernelCost(t, p, "cow_break_page"))
	for _, name := range []string{"tlb_shootdown_initiator", "tlb_shootdown_target", "ipi_delivery"} {
		assert.Zero(t, kernelCost(t, p, name), name)
		assert.Equal(t, "mechanism", calParam(t, p, "kernel."+name).Source)
	}
	// The rest is the host's.
	h, err := Build(ms, Host, "host")
	require.NoError(t, err)
	assert.Equal(t, kernelCost(t, h, "syscall_entry_exit"), kernelCost(t, p, "syscall_entry_exit"))
}

func TestClosestTable(t *testing.T) {
	table, why := ClosestTable("AMD EPYC, 2 CPUs online, Linux 6.18")
	assert.Equal(t, "skylake", table)
	assert.Contains(t, why, "AMD")
	table, _ = ClosestTable("Intel(R) Xeon(R) Gold 6138")
	assert.Equal(t, "skylake", table)
}

func TestWriteTable(t *testing.T) {
	ms := &Measurements{Host: "x", CPUs: []int{0, 1}, Repeats: []map[string]float64{measured(1)}}
	p, err := Build(ms, Host, "host")
	require.NoError(t, err)
	var b strings.Builder
	require.NoError(t, WriteTable(&b, p, timing.Default()))
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	require.Len(t, lines, 2+1+14)
	assert.Regexp(t, `kernel\.syscall_entry_exit\s+300\s+100\s+0%\s+measured\s+275\s+92\s+1\.09`, b.String())
}
