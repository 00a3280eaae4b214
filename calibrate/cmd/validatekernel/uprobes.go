package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/probesim/probesim"
	"github.com/probesim/probesim/calibrate"
	"github.com/probesim/probesim/internal/perfprobe"
	"github.com/probesim/probesim/timing"
)

// uprobeCase is one fixture run with a probe on one function; each probe
// point's first instruction is one Linux single-steps out of line (not one
// it emulates), as probesim's xol does with every instruction.
type uprobeCase struct {
	Name, Bin, Symbol string
	Args              []string
	CPUs              int
}

func uprobeCases(dir string, quick bool) []uprobeCase {
	n := func(full, small int) string {
		if quick {
			return strconv.Itoa(small)
		}
		return strconv.Itoa(full)
	}
	return []uprobeCase{
		// imul $0x9e3779b1,%edi,%edi
		{"threads-1", fixture(dir, "threads"), "probed", []string{"1", n(100000, 5000)}, 1},
		{"threads-2", fixture(dir, "threads"), "probed", []string{"2", n(50000, 2500)}, 2},
		{"threads-2-work", fixture(dir, "threads"), "probed", []string{"2", n(50000, 2500), "2000"}, 2},
		// mov (%rsi),%eax; qsort of 10,000 ints calls it ~130,000 times
		{"qsort", fixture(dir, "qsort"), "compare_ints", nil, 1},
	}
}

// uprobeRow is one case's result.
type uprobeRow struct {
	Case              string  `json:"case"`
	Hits              uint64  `json:"hits"`     // perf stat's count
	SimHits           uint64  `json:"sim_hits"` // probesim's
	WithoutNS         float64 `json:"native_without_ns"`
	WithNS            float64 `json:"native_with_ns"`
	MeasuredPerHitNS  float64 `json:"measured_per_hit_ns"`
	PredictedPerHitNS float64 `json:"predicted_per_hit_ns"`
	ModelPerHitNS     float64 `json:"model_overhead_per_hit_ns"` // the report's own per-hit overhead
	MeasuredMinNS     float64 `json:"measured_per_hit_min_ns"`
	MeasuredMaxNS     float64 `json:"measured_per_hit_max_ns"`
	// Unsupported are the syscalls the guest made that probesim answered
	// with ENOSYS: the usual reason a guest takes another path than the
	// native run, and counts differ.
	Unsupported []string `json:"unsupported_syscalls"`
}

func runUprobeCases(ctx context.Context, o options, host *timing.Profile, probes *perfprobe.Group, cases []uprobeCase, log io.Writer) ([]uprobeRow, error) {
	var rows []uprobeRow
	for i, c := range cases {
		fmt.Fprintf(log, "validatekernel: %s: native, %d runs with and without the probe\n", c.Name, o.repeat)
		event, err := addProbe(ctx, probes, c.Bin, c.Symbol, fmt.Sprintf("c%d", i))
		if err != nil {
			return nil, err
		}
		row := uprobeRow{Case: c.Name}
		var with, without []float64
		for r := 0; r < o.repeat; r++ {
			_, d0, err := perfprobe.Stat(ctx, "", c.Bin, c.Args, nil)
			if err != nil {
				return nil, err
			}
			hits, d1, err := perfprobe.Stat(ctx, event, c.Bin, c.Args, nil)
			if err != nil {
				return nil, err
			}
			if r > 0 && hits != row.Hits {
				return nil, fmt.Errorf("%s: perf counted %d hits, then %d", c.Name, row.Hits, hits)
			}
			row.Hits = hits
			without, with = append(without, float64(d0.Nanoseconds())), append(with, float64(d1.Nanoseconds()))
		}
		row.WithoutNS, row.WithNS = median(without), median(with)
		if row.Hits > 0 {
			row.MeasuredPerHitNS = (row.WithNS - row.WithoutNS) / float64(row.Hits)
			// The range pairs the extremes: fastest with-run minus slowest
			// without-run, and the reverse.
			row.MeasuredMinNS = (slices.Min(with) - slices.Max(without)) / float64(row.Hits)
			row.MeasuredMaxNS = (slices.Max(with) - slices.Min(without)) / float64(row.Hits)
		}
		fmt.Fprintf(log, "validatekernel: %s: probesim --strategy xol, %d seeds\n", c.Name, o.seeds)
		var pred, model []float64
		for seed := 1; seed <= o.seeds; seed++ {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			base, err := simulate(ctx, c, host, probesim.XOL, uint64(seed), false)
			if err != nil {
				return nil, err
			}
			probed, err := simulate(ctx, c, host, probesim.XOL, uint64(seed), true)
			if err != nil {
				return nil, err
			}
			p := probed.Report.Probes[0]
			row.SimHits = p.Hits
			row.Unsupported = sortedKeys(probed.Report.UnsupportedSyscalls)
			if p.Hits > 0 {
				dt := float64(probed.Report.Cycles) - float64(base.Report.Cycles)
				pred = append(pred, nsOf(host, dt/float64(p.Hits)))
				model = append(model, nsOf(host, float64(p.OverheadCycles.PerHit)))
			}
		}
		row.PredictedPerHitNS, row.ModelPerHitNS = median(pred), median(model)
		rows = append(rows, row)
	}
	return rows, nil
}

// simulate runs a case under probesim, with its probe or without.
func simulate(ctx context.Context, c uprobeCase, prof *timing.Profile, s probesim.Strategy, seed uint64, probe bool) (*probesim.Result, error) {
	cfg := probesim.Config{Program: c.Bin, Args: c.Args, CPUs: c.CPUs, Seed: seed, Profile: prof, Strategy: s}
	if probe {
		cfg.Probes = []string{c.Symbol}
	}
	res, err := probesim.Run(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("probesim %s: %w", c.Name, err)
	}
	if res.Report.ExitStatus != 0 {
		return nil, fmt.Errorf("probesim %s: the guest exited with status %d", c.Name, res.Report.ExitStatus)
	}
	return res, nil
}

func sortedKeys(m map[string]uint64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func nsOf(p *timing.Profile, cycles float64) float64 { return cycles * 1e9 / float64(p.FreqHz) }

// median is the median of v (0 for none), as calibrate summarises.
func median(v []float64) float64 { return calibrate.Summarize(v).Median }

func writeUprobeTable(w io.Writer, host *timing.Profile, rows []uprobeRow) {
	fmt.Fprintf(w, "\nmainline uprobes (perf probe + perf stat) vs probesim --strategy xol --profile %s\n", host.Name)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "case\thits (perf)\thits (probesim)\tmeasured us/hit\t(range)\tpredicted us/hit\tmodel us/hit\tpredicted/measured\t")
	for _, r := range rows {
		eq := ""
		if r.Hits != r.SimHits {
			eq = " DIFFER"
		}
		ratio := 0.0
		if r.MeasuredPerHitNS != 0 {
			ratio = r.PredictedPerHitNS / r.MeasuredPerHitNS
		}
		if eq != "" && len(r.Unsupported) > 0 {
			eq += " (ENOSYS: " + strings.Join(r.Unsupported, ",") + ")"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d%s\t%.2f\t%.2f-%.2f\t%.2f\t%.2f\t%.2f\t\n", r.Case, r.Hits, r.SimHits, eq,
			r.MeasuredPerHitNS/1e3, r.MeasuredMinNS/1e3, r.MeasuredMaxNS/1e3, r.PredictedPerHitNS/1e3, r.ModelPerHitNS/1e3, ratio)
	}
	tw.Flush()
}
