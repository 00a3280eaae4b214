package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/probesim/probesim/sweep"
)

type checkFlags struct {
	baseline  string
	update    bool
	jobs      int
	out       string
	missRate  float64
	misses    string
	hits      string
	cycles    string
	tolerance sweep.Tolerances
}

func newCheckCmd() *cobra.Command {
	var f checkFlags
	def := sweep.DefaultTolerances
	c := &cobra.Command{
		Use:   "check CONFIG.yaml --baseline FILE.csv|FILE.json",
		Short: "Fail when miss rates, hits or cycles regress against a baseline",
		Long: `Run every configuration of CONFIG.yaml (the sweep config format, docs/sweep.md)
and compare its misses, miss rate, hits, cycles and cycles per hit with the
baseline FILE, a sweep results file (.csv or .json). Print a table of every
metric that moved and a summary line.

A rise beyond tolerance of misses, miss rate, cycles or cycles per hit, or a
fall of hits, is a regression. So is a miss where the baseline had none
(whatever the tolerances), a change in the probed instruction's executions,
and a change in how the program ended. Moves the other way beyond tolerance
are improvements: reported, never failing.

--update runs the configurations and writes them as the new baseline (after
printing what moved, if an old baseline of this config exists).

Exit status: 0 when everything is within tolerance (or after --update); 1 on a
regression; 125 on a usage error: bad flags or config, a baseline that is
missing (without --update) or recorded for another config.`,
		Example: `  probesim check ci/misses.yaml --baseline ci/misses-baseline.csv
  probesim check ci/misses.yaml --baseline ci/misses-baseline.csv --update
  probesim check ci/misses.yaml --baseline base.csv --miss-rate-tol 0 --cycles-tol 1%`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return runCheck(c, &f, args[0])
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.baseline, "baseline", "", "baseline results `FILE` (.csv or .json), as written by --update or 'probesim sweep'")
	fl.BoolVar(&f.update, "update", false, "write the results as the new baseline instead of failing on what moved")
	fl.IntVarP(&f.jobs, "jobs", "j", runtime.NumCPU(), "run `N` configurations at once (the default is the number of CPUs here)")
	fl.StringVarP(&f.out, "out", "o", "", "also write this run's results to `FILE` (.csv or .json), e.g. as a CI artifact")
	fl.Float64Var(&f.missRate, "miss-rate-tol", def.MissRate, "allowed absolute change of a miss `RATE` (0.01 = one percentage point)")
	fl.StringVar(&f.misses, "misses-tol", pct(def.Misses), "allowed relative change of misses, in `PERCENT` (a miss where the baseline had none always fails)")
	fl.StringVar(&f.hits, "hits-tol", pct(def.Hits), "allowed relative change of hits, in `PERCENT`")
	fl.StringVar(&f.cycles, "cycles-tol", pct(def.Cycles), "allowed relative change of cycles and of cycles per hit, in `PERCENT`")
	c.MarkFlagRequired("baseline")
	return c
}

func pct(f float64) string { return strconv.FormatFloat(100*f, 'f', -1, 64) + "%" }

// parsePercent reads "5%" or "5" as 0.05.
func parsePercent(flag, s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	if err != nil || v < 0 || v != v {
		return 0, usageError("invalid argument %q for --%s: want a percentage such as 5%% or 0.5", s, flag)
	}
	return v / 100, nil
}

func (f *checkFlags) tolerances() error {
	if f.missRate < 0 || f.missRate > 1 || f.missRate != f.missRate {
		return usageError("invalid argument %v for --miss-rate-tol: want a rate from 0 to 1, such as 0.01", f.missRate)
	}
	f.tolerance.MissRate = f.missRate
	var err error
	for _, t := range []struct {
		flag, s string
		dst     *float64
	}{{"misses-tol", f.misses, &f.tolerance.Misses}, {"hits-tol", f.hits, &f.tolerance.Hits}, {"cycles-tol", f.cycles, &f.tolerance.Cycles}} {
		if *t.dst, err = parsePercent(t.flag, t.s); err != nil {
			return err
		}
	}
	return nil
}

func runCheck(c *cobra.Command, f *checkFlags, configPath string) error {
	if _, err := sweep.FormatOf(f.baseline); err != nil {
		return usageError("--baseline: %v", err)
	}
	if f.out != "" {
		if _, err := sweep.FormatOf(f.out); err != nil {
			return usageError("--out: %v", err)
		}
	}
	if err := checkJobs(f.jobs); err != nil {
		return err
	}
	if err := f.tolerances(); err != nil {
		return err
	}
	cfg, err := sweep.Load(configPath)
	if err != nil {
		return usageError("%v", err)
	}
	// The baseline is checked before anything runs: a wrong one is a
	// usage error, found in a second rather than after the whole run.
	baseline, err := sweep.ReadFile(f.baseline)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !f.update:
		return usageError("--baseline %s: no such file; record one with --update", f.baseline)
	case err == nil:
		err = sweep.Matches(cfg, f.baseline, baseline)
	}
	if err != nil {
		if !f.update {
			return usageError("--baseline %v; rerun with --update to record a new baseline", err)
		}
		if baseline != nil {
			fmt.Fprintf(c.ErrOrStderr(), "check: --update replaces a baseline of another config: %v\n", err)
		}
		baseline = nil
	}

	stop := catchSignals(c.ErrOrStderr(), "check")
	defer stop.release()
	bar := newProgress(c.ErrOrStderr(), "check", 0, cfg.Len())
	rows, _, err := sweep.Run(stop.ctx, cfg, sweep.Options{Jobs: f.jobs, Progress: bar.update, Abandon: stop.abandon})
	bar.finish()
	if sig := stop.caught(); sig != 0 {
		return &exitError{status: 128 + int(sig), err: fmt.Errorf("check: interrupted by %s", signalName(sig))}
	}
	if err != nil {
		return usageError("check: %v", err)
	}
	if f.out != "" {
		if err := sweep.WriteFile(f.out, rows); err != nil {
			if werr := writeError("--out", err); werr != nil {
				return werr
			}
			return usageError("--out: %v", err)
		}
	}

	w := c.OutOrStdout()
	if f.update {
		if baseline != nil {
			if cmp, err := sweep.Compare(baseline, rows, f.tolerance); err == nil {
				printComparison(w, cfg, &cmp, f)
			}
		}
		if err := sweep.WriteFile(f.baseline, rows); err != nil {
			if werr := writeError("--baseline", err); werr != nil {
				return werr
			}
			return usageError("--baseline: %v", err)
		}
		fmt.Fprintf(w, "check: recorded %s: %d configurations\n", f.baseline, len(rows))
		return nil
	}
	cmp, err := sweep.Compare(baseline, rows, f.tolerance)
	if err != nil {
		return usageError("--baseline %s: %v", f.baseline, err)
	}
	printComparison(w, cfg, &cmp, f)
	if cmp.Regressed > 0 {
		return &exitError{status: 1, err: fmt.Errorf("check: %s regressed against %s", plural(cmp.Regressed, "configuration"), f.baseline)}
	}
	return nil
}

// printComparison prints the table of what moved and the summary line.
func printComparison(w io.Writer, cfg *sweep.Config, cmp *sweep.Comparison, f *checkFlags) {
	if len(cmp.Changes) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "CONFIGURATION\tMETRIC\tBASELINE\tCURRENT\tCHANGE\tTOLERANCE\tVERDICT")
		for _, ch := range cmp.Changes {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", cfg.Label(cfg.Point(ch.Index)), ch.Metric,
				ch.Baseline, ch.Current, orDash(ch.Delta), ch.Tolerance, ch.Verdict)
		}
		tw.Flush()
	}
	verdict := "ok"
	if cmp.Regressed > 0 {
		verdict = "FAIL"
	}
	t := f.tolerance
	fmt.Fprintf(w, "check: %s: %d of %d configurations regressed, %d improved, %d moved within tolerance (baseline %s; tolerances: miss rate ±%g, misses ±%s, hits ±%s, cycles ±%s)\n",
		verdict, cmp.Regressed, cmp.Configs, cmp.Improved, cmp.Moved-cmp.Regressed-cmp.Improved, f.baseline,
		t.MissRate, pct(t.Misses), pct(t.Hits), pct(t.Cycles))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// plural spells n things.
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
