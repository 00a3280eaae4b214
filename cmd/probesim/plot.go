package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/probesim/probesim/plot"
	"github.com/probesim/probesim/sweep"
)

type plotFlags struct {
	out           string
	width, height int
	x, facet      string
	xScale        string
	xLabel        string
	metrics       []string
	probe         string
	where         []string
}

func newPlotCmd() *cobra.Command {
	var f plotFlags
	c := &cobra.Command{
		Use:   "plot RESULTS --out FILE.svg|FILE.png",
		Short: "Plot sweep results: miss rate and cycles per hit per strategy, against any setting",
		Long: `Draw a sweep's results (the .csv or .json file 'probesim sweep' wrote): the
probes' miss rate (%) and their overhead in cycles per hit, one line per
strategy, against the vCPU count or, with --x, any setting: quantum,
stack_limit, max_cycles, profile, probe, an argument of the program
(args[N], from 0) or a parameter (param.NAME). Each point is the mean over
the seeds; its error bar spans the minimum to the maximum over them.

--facet lays a second setting out as columns of panels, one per value, each
row of panels one metric on one y scale. --metric picks the metrics
(repeatable): miss_rate, cycles_per_hit, misses, hits, window_cycles,
cycles. Every strategy has its own colour and marker, the same in every
figure, and one legend sits above the panels.

The rows drawn may differ only in the strategy, the seed, --x and --facet;
--where COLUMN=VALUE (repeatable) picks rows, and an error names any other
setting that varies. With several probes per configuration, their counts
are summed unless --probe SPEC picks one.

The format follows the extension of --out: .svg or .png. The same results
give the same bytes. Errors (unreadable or empty results, rows that are not
sweep rows, a bad extension, size or axis) print one line naming the file or
flag and exit 125.`,
		Example: `  probesim sweep sweep.yaml --out results.csv
  probesim plot results.csv --out missrate.svg
  probesim plot results.csv --out duty.svg --x 'args[2]' --facet cpus
  probesim plot results.csv --out entry.png --x param.kernel.exception_entry_exit --metric miss_rate
  probesim plot results.json --out q.svg --x quantum --where cpus=4 --width 1600 --height 700`,
		Args: exactArgs(1, "RESULTS"),
		RunE: func(c *cobra.Command, args []string) error {
			if err := plotResults(&f, args[0]); err != nil {
				return &exitError{status: exitUsage, err: err}
			}
			return nil
		},
	}
	fl := c.Flags()
	fl.StringVarP(&f.out, "out", "o", "", "write the figure to `FILE` (.svg or .png)")
	fl.IntVar(&f.width, "width", plot.DefaultWidth, fmt.Sprintf("figure width in `PIXELS` (%d to %d)", plot.MinWidth, plot.MaxSide))
	fl.IntVar(&f.height, "height", 0, fmt.Sprintf("figure height in `PIXELS` (%d to %d; default %d, and 320 more per further row of panels)", plot.MinHeight, plot.MaxSide, plot.DefaultHeight))
	fl.StringVar(&f.x, "x", "cpus", "the setting along x: `AXIS` = cpus, quantum, stack_limit, max_cycles, profile, probe, args[N] or param.NAME")
	fl.StringVar(&f.xLabel, "x-label", "", "name the x axis `TEXT` (default: the axis, as vCPUs or args[2])")
	fl.StringVar(&f.facet, "facet", "", "lay out the values of a second `AXIS` as columns of panels")
	fl.StringVar(&f.xScale, "x-scale", "auto", "place x values by `SCALE`: auto (log2 for cpus, linear for evenly spaced numbers, else category), linear, log2, category")
	fl.StringArrayVar(&f.metrics, "metric", nil, "a panel's `METRIC` (repeatable; default miss_rate and cycles_per_hit): "+strings.Join(plot.MetricNames(), ", "))
	fl.StringVar(&f.probe, "probe", "", "draw the rows of probe `SPEC` (default: the only probe, or all probes' counts summed)")
	fl.StringArrayVar(&f.where, "where", nil, "draw only rows whose `COLUMN=VALUE` (repeatable): any axis, strategy or seed")
	return c
}

// plotResults draws the results file into f.out.
func plotResults(f *plotFlags, results string) error {
	if f.out == "" {
		return fmt.Errorf("--out: required, the figure's FILE.svg or FILE.png")
	}
	if _, err := plot.FormatOf(f.out); err != nil {
		return fmt.Errorf("--out %w", err)
	}
	size := plot.Size{Width: f.width, Height: f.height}
	if _, err := size.Resolve(); err != nil {
		return fmt.Errorf("--%w", err)
	}
	scale, err := plot.ParseScale(f.xScale)
	if err != nil {
		return fmt.Errorf("--x-scale: %w", err)
	}
	rows, err := sweep.ReadFile(results)
	if err != nil {
		return err
	}
	sum, err := plot.Summarize(rows, plot.Options{X: f.x, XLabel: f.xLabel, Facet: f.facet, XScale: scale, Metrics: f.metrics, Probe: f.probe, Where: f.where})
	if err != nil {
		if errors.Is(err, plot.ErrNoRows) || !strings.HasPrefix(err.Error(), "--") {
			return fmt.Errorf("%s: %w", results, err)
		}
		return err
	}
	return plot.WriteFile(f.out, sum, size)
}
