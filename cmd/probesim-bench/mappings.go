package main

import (
	"fmt"
	"io"

	"github.com/probesim/probesim/fixtures"
	"github.com/probesim/probesim/smp"
)

// Mapping cost: the stress fixture's many-mmaps and many-threads modes at
// two sizes 20x and 10x apart. Flat cost means the larger run takes about
// that multiple of the smaller (Unicorn 2.0.1's per-region cost made it
// quadratic: 1,000 mmaps took 0.9 s and 4,000 46 s). Execution only, best
// of the repetitions, as for the engine table.

type scaleRow struct {
	Mode       string  `json:"mode"`
	Small      int     `json:"small"`
	Large      int     `json:"large"`
	SmallSecs  float64 `json:"small_seconds"`
	LargeSecs  float64 `json:"large_seconds"`
	Ratio      float64 `json:"ratio"`       // large seconds / small seconds
	SizeRatio  float64 `json:"size_ratio"`  // large / small: the flat ratio
	CycleRatio float64 `json:"cycle_ratio"` // the same, in guest cycles
}

func measureMappings(w io.Writer, reps int) ([]scaleRow, error) {
	path, err := fixtures.Path(fixtures.ArchAMD64, "stress")
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "\nmapping cost (x86_64 stress fixture), execution only, best of %d\n", reps)
	fmt.Fprintf(w, "%-8s %7s %7s %9s %9s %8s %8s %8s\n", "mode", "small", "large", "small s", "large s", "ratio", "sizes", "cycles")
	var rows []scaleRow
	for _, c := range []struct {
		mode         string
		small, large int
	}{{"mmaps", 1000, 20000}, {"threads", 1000, 10000}} {
		run := func(n int) (float64, uint64, error) {
			secs, _, cycles, _, err := timedRun(smp.Config{Program: path, Args: []string{c.mode, fmt.Sprint(n)}}, reps)
			return secs, cycles, err
		}
		row := scaleRow{Mode: c.mode, Small: c.small, Large: c.large, SizeRatio: float64(c.large) / float64(c.small)}
		var smallCycles, largeCycles uint64
		if row.SmallSecs, smallCycles, err = run(c.small); err != nil {
			return nil, fmt.Errorf("%s %d: %w", c.mode, c.small, err)
		}
		if row.LargeSecs, largeCycles, err = run(c.large); err != nil {
			return nil, fmt.Errorf("%s %d: %w", c.mode, c.large, err)
		}
		row.Ratio = row.LargeSecs / row.SmallSecs
		row.CycleRatio = float64(largeCycles) / float64(smallCycles)
		fmt.Fprintf(w, "%-8s %7d %7d %9.3f %9.3f %7.1fx %7.0fx %7.1fx\n",
			c.mode, c.small, c.large, row.SmallSecs, row.LargeSecs, row.Ratio, row.SizeRatio, row.CycleRatio)
		rows = append(rows, row)
	}
	return rows, nil
}
