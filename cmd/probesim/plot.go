package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/probesim/probesim/plot"
	"github.com/probesim/probesim/sweep"
)

type plotFlags struct {
	out           string
	width, height int
	group         int
}

func newPlotCmd() *cobra.Command {
	var f plotFlags
	c := &cobra.Command{
		Use:   "plot RESULTS --out FILE.svg|FILE.png",
		Short: "Plot sweep results: miss rate against vCPUs and cycles per hit, per strategy",
		Long: `Draw a sweep's results (the .csv or .json file 'probesim sweep' wrote) as one
figure of two panels: the probes' miss rate (%) against the number of vCPUs,
one line per strategy, and the probes' overhead in cycles per hit. Each point
is the mean over the seeds of that strategy and vCPU count; its error bar
spans the minimum to the maximum over the seeds.

The format follows the extension of --out: .svg or .png. The same results
give the same bytes.

A figure shows one setting (program, arguments, probes, quantum, profile,
parameters): only the strategy, the vCPU count and the seed vary across its
rows. When RESULTS holds several settings, the first is plotted, a warning
lists them all, and --group N picks another.

Errors (unreadable or empty results, rows that are not sweep rows, a bad
extension or size) print one line naming the file or flag and exit 125.`,
		Example: `  probesim sweep sweep.yaml --out results.csv
  probesim plot results.csv --out missrate.svg
  probesim plot results.json --out missrate.png --width 1600 --height 700
  probesim plot results.csv --group 2 --out quantum-1000.svg`,
		Args: exactArgs(1, "RESULTS"),
		RunE: func(c *cobra.Command, args []string) error {
			if err := plotResults(c.ErrOrStderr(), &f, args[0]); err != nil {
				return &exitError{status: exitUsage, err: err}
			}
			return nil
		},
	}
	fl := c.Flags()
	fl.StringVarP(&f.out, "out", "o", "", "write the figure to `FILE` (.svg or .png)")
	fl.IntVar(&f.width, "width", plot.DefaultWidth, fmt.Sprintf("figure width in `PIXELS` (%d to %d)", plot.MinWidth, plot.MaxSide))
	fl.IntVar(&f.height, "height", plot.DefaultHeight, fmt.Sprintf("figure height in `PIXELS` (%d to %d)", plot.MinHeight, plot.MaxSide))
	fl.IntVar(&f.group, "group", 0, "plot the `N`th setting of RESULTS (from 1; default the first, with a warning if there are several)")
	return c
}

// plotResults draws the results file into f.out. Warnings go to warn.
func plotResults(warn io.Writer, f *plotFlags, results string) error {
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
	if f.group < 0 {
		return fmt.Errorf("--group %d: want 1 or more", f.group)
	}
	rows, err := sweep.ReadFile(results)
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return fmt.Errorf("%s: %w", results, plot.ErrNoRows)
	}
	if err := plot.Check(rows); err != nil {
		return fmt.Errorf("%s: %w", results, err)
	}
	groups := plot.Split(rows)
	pick := max(f.group, 1)
	if pick > len(groups) {
		return fmt.Errorf("--group %d: %s holds %d settings", f.group, results, len(groups))
	}
	if f.group == 0 && len(groups) > 1 {
		fmt.Fprintf(warn, "probesim plot: warning: %s holds %d settings; plotting the first (choose one with --group N):\n", results, len(groups))
		for i, g := range groups {
			fmt.Fprintf(warn, "  %d: %s (%d rows)\n", i+1, g.Setting, len(g.Rows))
		}
	}
	sum, err := plot.Summarize(groups[pick-1].Rows)
	if err != nil {
		if len(groups) > 1 {
			return fmt.Errorf("%s: setting %d: %w", results, pick, err)
		}
		return fmt.Errorf("%s: %w", results, err)
	}
	return plot.WriteFile(f.out, sum, size)
}
