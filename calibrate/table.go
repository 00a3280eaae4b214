package calibrate

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/probesim/probesim/timing"
)

// WriteTable prints the calibrated profile's time-valued parameters next
// to the reference profile's (skylake): cycles and nanoseconds of each,
// the spread over the repeats and the ratio of the times.
func WriteTable(w io.Writer, p, ref *timing.Profile) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "parameter\t%s cycles\tns\tspread\tsource\t%s cycles\tns\tratio\t\n", p.Name, ref.Name)
	fmt.Fprintf(tw, "freq_hz\t%d\t\t\t\t%d\t\t%.2f\t\n", p.FreqHz, ref.FreqHz, float64(p.FreqHz)/float64(ref.FreqHz))
	cal := map[string]timing.CalibratedParam{}
	if p.Calibration != nil {
		for _, c := range p.Calibration.Params {
			cal[c.Name] = c
		}
	}
	rows := []timing.KernelCost{{Name: "cpuid_cycles", Cycles: p.CPUIDCycles}}
	refRows := map[string]uint64{"cpuid_cycles": ref.CPUIDCycles}
	for _, k := range p.Kernel.List() {
		rows = append(rows, timing.KernelCost{Name: "kernel." + k.Name, Cycles: k.Cycles})
	}
	for _, k := range ref.Kernel.List() {
		refRows["kernel."+k.Name] = k.Cycles
	}
	for _, r := range rows {
		ns := cyclesToNS(r.Cycles, p.FreqHz)
		refNS := cyclesToNS(refRows[r.Name], ref.FreqHz)
		c := cal[r.Name]
		ratio := "-"
		if refNS > 0 {
			ratio = fmt.Sprintf("%.2f", ns/refNS)
		}
		spread := "-"
		if c.Source == "measured" {
			spread = fmt.Sprintf("%.0f%%", c.SpreadPercent)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%s\t%s\t%d\t%.0f\t%s\t\n", r.Name, r.Cycles, ns, spread, c.Source, refRows[r.Name], refNS, ratio)
	}
	return tw.Flush()
}
