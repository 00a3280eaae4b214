package mcacheck

import (
	"fmt"
	"io"
)

// PrintReport prints the comparison table, the mean absolute percentage error and the worst
// blocks.
func PrintReport(w io.Writer, r Report, worst int) {
	width := len("block")
	for _, row := range r.Rows {
		width = max(width, len(row.Name))
	}
	fmt.Fprintf(w, "%-*s %4s %5s %8s %8s %8s\n", width, "block", "mode", "insns", "model", "mca", "error")
	for _, row := range r.Rows {
		fmt.Fprintf(w, "%-*s %4d %5d %8.2f %8.2f %+7.1f%%%s\n", width, row.Name, row.Mode, row.Insns,
			row.Model, row.MCA, row.ErrPct, note(row))
	}
	fmt.Fprintf(w, "\n%d blocks, %d compared: mean absolute error %.1f%% (%.1f%% counting the %d excluded)\n",
		len(r.Rows), r.Included, r.MAEPct, r.MAEAllPct, len(r.Rows)-r.Included)
	fmt.Fprintf(w, "worst %d:\n", len(r.Worst(worst)))
	for _, row := range r.Worst(worst) {
		fmt.Fprintf(w, "  %-*s model %6.2f mca %6.2f error %+.1f%%\n", width, row.Name, row.Model, row.MCA, row.ErrPct)
	}
	fmt.Fprintln(w)
}

func note(r Row) string {
	s := ""
	if r.Excluded {
		s += "  excluded: llvm-mca placeholder (latency 100)"
	}
	if r.Untabled > 0 {
		s += fmt.Sprintf("  (%d untabled)", r.Untabled)
	}
	if r.Undecoded > 0 {
		s += fmt.Sprintf("  (%d bytes undecoded)", r.Undecoded)
	}
	return s
}
