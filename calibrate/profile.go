package calibrate

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/probesim/probesim/timing"
)

// skylake is the built-in profile: the estimates a host cannot measure, the
// block model's machine, and the reference the table compares with.
var skylake = timing.Default()

const skylakeFreq = 3_000_000_000

// Kind selects which profile Build derives.
type Kind int

const (
	// Host is the machine itself with mainline Linux uprobes: the profile
	// `probesim run --strategy xol` predicts this kernel with.
	Host Kind = iota
	// PtraceInline is the inline mechanism as a ptrace tracer implements
	// it (cmd/ptrace-inline): traps are ptrace stops served by the tracer,
	// the handler is its register reads, a text write is its poke.
	PtraceInline
)

// Build derives a profile named name from the measurements. It is a pure
// function of ms (no clock, no host access): the same measurements give
// the same profile, byte for byte (WriteProfile).
//
// Every time-valued parameter is derived per repeat and then summarised;
// the profile takes the median, converted to cycles of freq_hz, which is
// the median core clock rounded to a whole MHz (core_hz: a chain of
// dependent adds, one a cycle, so block costs, which are core cycles,
// convert to time correctly). The block model's own parameters come from
// the closest built-in instruction table (ClosestTable).
func Build(ms *Measurements, kind Kind, name string) (*timing.Profile, error) {
	if len(ms.Repeats) == 0 {
		return nil, errors.New("calibrate: no measurements")
	}
	var clocks, tscs []float64
	for _, m := range ms.Repeats {
		clocks = append(clocks, m["core_hz"])
		tscs = append(tscs, m["tsc_hz"])
	}
	clock := Summarize(clocks)
	freq := uint64(math.Round(clock.Median/1e6)) * 1_000_000
	if freq == 0 {
		return nil, errors.New("calibrate: no clock measurement (core_hz)")
	}
	table, why := ClosestTable(ms.Host)
	p := *skylake // the block model's machine; every kernel cost is replaced below
	p.Name = name
	p.FreqHz = freq
	p.InsnTable = table
	rules := hostRules()
	if kind == PtraceInline {
		rules = ptraceRules()
	}
	cal := &timing.Calibration{Tool: "probesim calibrate", Host: ms.Host, CPUs: len(ms.CPUs), Repeat: len(ms.Repeats),
		ClockMethod: fmt.Sprintf("freq_hz is the core clock, %.0f MHz median (spread %.1f%%), from a chain of dependent adds (one a cycle); the TSC runs at %.0f MHz; every time is converted to cycles of freq_hz",
			clock.Median/1e6, clock.SpreadPercent, Summarize(tscs).Median/1e6),
		InsnTable: why, Skipped: append([]string{}, ms.Skipped...)}
	for _, prm := range p.Params() {
		rs, ok := rules[prm.Name]
		if !ok {
			cal.Params = append(cal.Params, fixedParam(prm.Name))
			continue
		}
		r, ok := pick(rs, ms.Repeats)
		if !ok {
			return nil, fmt.Errorf("calibrate: %s: no rule has its measurements", prm.Name)
		}
		var per []float64
		for _, m := range ms.Repeats {
			per = append(per, r.ns(m))
		}
		s := Summarize(per)
		if err := p.Set(prm.Name, fmt.Sprint(nsToCycles(s.Median, freq))); err != nil {
			return nil, fmt.Errorf("calibrate: %w", err)
		}
		cal.Params = append(cal.Params, timing.CalibratedParam{Name: prm.Name, Source: r.source, Method: r.method,
			MedianNS: round1(s.Median), MinNS: round1(s.Min), MaxNS: round1(s.Max), SpreadPercent: round1(s.SpreadPercent)})
	}
	names := map[string][]float64{}
	for _, m := range ms.Repeats {
		for k, v := range m {
			names[k] = append(names[k], v)
		}
	}
	for _, k := range sortedKeys(names) {
		s := Summarize(names[k])
		cal.Measurements = append(cal.Measurements, timing.Measurement{Name: k, Median: round1(s.Median),
			Min: round1(s.Min), Max: round1(s.Max), SpreadPercent: round1(s.SpreadPercent), Samples: s.N})
	}
	p.Calibration = cal
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("calibrate: %w", err)
	}
	return &p, nil
}

// fixedParam describes a parameter that is not measured.
func fixedParam(name string) timing.CalibratedParam {
	switch name {
	case "name":
		return timing.CalibratedParam{Name: name, Source: "choice", Method: "given with --name"}
	case "freq_hz":
		return timing.CalibratedParam{Name: name, Source: "measured", Method: "see clock_method"}
	case "kernel_jitter_percent":
		return timing.CalibratedParam{Name: name, Source: "choice", Method: "skylake's modelling choice (timing/doc.go): the spread of kernel costs that lets seeds explore interleavings"}
	}
	return timing.CalibratedParam{Name: name, Source: "table", Method: "from the instruction table's machine (skylake profile)"}
}

// ClosestTable picks the built-in instruction table for the CPU that
// host names, and says why. The rule: the table of the same vendor and the
// nearest core generation; llvm-mca-14's Skylake model is the only table
// built in (timing/insntable_skylake.go), so today every host gets
// skylake, and the reason says when the host is not a Skylake-class core.
// A new table (timing/cmd/mkinsntable with another -mcpu) adds its
// vendor and generations here.
func ClosestTable(host string) (table, why string) {
	h := strings.ToLower(host)
	switch {
	case strings.Contains(h, "intel") && (strings.Contains(h, "skylake") || strings.Contains(h, "xeon") || strings.Contains(h, "core")):
		return "skylake", "skylake: llvm-mca-14's Skylake model, the only built-in table and an Intel core like this host's"
	case strings.Contains(h, "amd"):
		return "skylake", "skylake: the only built-in table; this host is an AMD core (Zen), whose widths and latencies differ: block costs are Skylake's, in cycles of this host's clock"
	}
	return "skylake", "skylake: the only built-in table; not matched to this host's CPU"
}

// WriteProfile writes p as indented JSON (the profile format, doc.go of
// package timing), loadable with --profile.
func WriteProfile(path string, p *timing.Profile) error {
	data, err := MarshalProfile(p)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// MarshalProfile is the bytes WriteProfile writes.
func MarshalProfile(p *timing.Profile) ([]byte, error) {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}
