package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"text/tabwriter"

	"github.com/probesim/probesim"
	"github.com/probesim/probesim/calibrate"
	"github.com/probesim/probesim/internal/ptraceinline"
	"github.com/probesim/probesim/plot"
	"github.com/probesim/probesim/timing"
)

// inlineWork are the duty cycles: the threads fixture's WORK, spin-loop
// iterations between two calls of the probed function, with the calls per
// thread that keep each run around a second or two.
var inlineWork = []struct{ work, iters int }{
	{0, 20000}, {1000, 20000}, {10000, 10000}, {100000, 4000}, {300000, 2000}, {1000000, 1000},
}

// inlineRow is one duty cycle's result.
type inlineRow struct {
	Work             int       `json:"work"`
	Calls            uint64    `json:"calls"`
	Measured         []float64 `json:"measured_miss_rates"`
	Predicted        []float64 `json:"predicted_miss_rates"`
	MeasuredWindowNS float64   `json:"measured_window_median_ns"`
	PredWindowNS     float64   `json:"predicted_window_mean_ns"`
}

var callsRE = regexp.MustCompile(`(?m)^calls=(\d+)$`)

func runInline(ctx context.Context, o options, pi *timing.Profile, log io.Writer) ([]inlineRow, error) {
	bin := fixture(o.fixtures, "threads")
	addr, err := ptraceinline.SymbolAddr(bin, "probed")
	if err != nil {
		return nil, err
	}
	var rows []inlineRow
	for _, d := range inlineWork {
		iters := d.iters
		if o.quick {
			iters = max(100, iters/20)
		}
		args := []string{"2", strconv.Itoa(iters), strconv.Itoa(d.work)}
		row := inlineRow{Work: d.work, Calls: 2 * uint64(iters)}
		fmt.Fprintf(log, "validatekernel: inline WORK=%d: ptrace-inline, %d runs; probesim --strategy inline, %d seeds\n", d.work, o.repeat, o.seeds)
		var windows []float64
		for r := 0; r < o.repeat; r++ {
			var out bytes.Buffer
			res, err := ptraceinline.Run(ctx, ptraceinline.Config{Program: bin, Args: args, Addr: addr, Stdout: &out})
			if err != nil {
				return nil, err
			}
			m := callsRE.FindStringSubmatch(out.String())
			if res.ExitStatus != 0 || m == nil {
				return nil, fmt.Errorf("threads %v under ptrace-inline: status %d, output %q", args, res.ExitStatus, out.String())
			}
			calls, _ := strconv.ParseUint(m[1], 10, 64)
			if calls != row.Calls || res.Hits > calls {
				return nil, fmt.Errorf("threads %v under ptrace-inline: %d calls, %d hits", args, calls, res.Hits)
			}
			row.Measured = append(row.Measured, float64(calls-res.Hits)/float64(calls))
			for _, w := range res.WindowSamplesNS {
				windows = append(windows, float64(w))
			}
		}
		row.MeasuredWindowNS = median(windows)
		var winCycles, winCount uint64
		for seed := 1; seed <= o.seeds; seed++ {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			res, err := probesim.Run(probesim.Config{Program: bin, Args: args, CPUs: 2, Seed: uint64(seed),
				Profile: pi, Strategy: probesim.Inline, Probes: []string{"probed"}})
			if err != nil {
				return nil, fmt.Errorf("probesim threads %v: %w", args, err)
			}
			p := res.Report.Probes[0]
			if p.Executions != row.Calls || p.Hits+p.Misses != p.Executions {
				return nil, fmt.Errorf("probesim threads %v: %d executions, %d hits, %d misses", args, p.Executions, p.Hits, p.Misses)
			}
			row.Predicted = append(row.Predicted, float64(p.Misses)/float64(p.Executions))
			winCycles += p.Windows.TotalCycles
			winCount += p.Windows.Count
		}
		if winCount > 0 {
			row.PredWindowNS = nsOf(pi, float64(winCycles)/float64(winCount))
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func minMax(v []float64) (float64, float64) {
	s := calibrate.Summarize(v)
	return s.Min, s.Max
}

func writeInlineTable(w io.Writer, rows []inlineRow) {
	fmt.Fprintln(w, "\ninline single-step on 2 CPUs: threads 2 ITERS WORK under ptrace-inline vs probesim --strategy inline --profile ptrace-inline")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "WORK\tcalls\tmeasured miss\t(range)\tpredicted miss\t(range)\tmeasured window us\tpredicted window us\t")
	for _, r := range rows {
		mlo, mhi := minMax(r.Measured)
		plo, phi := minMax(r.Predicted)
		fmt.Fprintf(tw, "%d\t%d\t%.1f%%\t%.1f-%.1f%%\t%.1f%%\t%.1f-%.1f%%\t%.1f\t%.1f\t\n", r.Work, r.Calls,
			100*median(r.Measured), 100*mlo, 100*mhi, 100*median(r.Predicted), 100*plo, 100*phi,
			r.MeasuredWindowNS/1e3, r.PredWindowNS/1e3)
	}
	tw.Flush()
}

func plotInline(path string, pi *timing.Profile, rows []inlineRow) error {
	c := plot.Comparison{Title: "Inline single-step on 2 CPUs: measured (ptrace) vs predicted (probesim) miss rate",
		Caption: fmt.Sprintf("threads 2 ITERS WORK; measured: cmd/ptrace-inline on this host; predicted: probesim --strategy inline --profile %s; median, min-max bars", pi.Name),
		XLabel:  "WORK (spin iterations between calls)", YLabel: "miss rate", YMax: 1,
		Series: []plot.CompareSeries{{Name: "measured (ptrace-inline)"}, {Name: "predicted (probesim)"}}}
	for _, r := range rows {
		c.XTicks = append(c.XTicks, workLabel(r.Work))
		for i, v := range [][]float64{r.Measured, r.Predicted} {
			lo, hi := minMax(v)
			c.Series[i].Points = append(c.Series[i].Points, plot.ComparePoint{Y: median(v), Min: lo, Max: hi})
		}
	}
	return plot.WriteComparison(path, c, plot.Size{Width: 1000, Height: 560})
}

func workLabel(w int) string {
	switch {
	case w >= 1000000 && w%1000000 == 0:
		return strconv.Itoa(w/1000000) + "M"
	case w >= 1000 && w%1000 == 0:
		return strconv.Itoa(w/1000) + "k"
	}
	return strconv.Itoa(w)
}
