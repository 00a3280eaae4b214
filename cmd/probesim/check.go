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
	missRate  string
	misses    string
	hits      string
	cycles    string
	tols      []string
	tolerance sweep.Tolerances
}

func newCheckCmd() *cobra.Command {
	var f checkFlags
	c := &cobra.Command{
		Use:   "check CONFIG.yaml --baseline FILE.csv|FILE.json",
		Short: "Fail when miss rates, hits or cycles move against a baseline",
		Long: `Run every configuration of CONFIG.yaml (the sweep config format, docs/sweep.md)
and compare its results, probe by probe, with the baseline FILE, a sweep
results file (.csv or .json). Print a table of every metric that moved and a
summary line.

Runs are deterministic, so the comparison is exact: a move of one cycle is a
move. A move in a metric's bad direction (more misses, cycles, cycles per
hit, overhead or window time; fewer hits) is a regression; so is a miss where
the baseline had none (whatever the tolerances), and any change in the
probed instruction's executions, address or instruction, the program's
instruction count or how it ended. Moves the other way are improvements:
reported, never failing, but they mean the baseline is out of date.

Tolerances are opt-in, per metric: --tol METRIC=TOL (repeatable), or the
shorthands below. TOL is a percentage of the baseline's value (5%) or an
absolute amount in the metric's units (100 cycles, 0.01 of a miss rate).

--update runs the configurations and writes them as the new baseline (after
printing what moved, if an old baseline of this config exists).

Exit status: 0 when nothing regressed (or after --update); 1 on a regression;
125 on a usage error: bad flags or config, a baseline that is missing (without
--update) or recorded for another config.`,
		Example: `  probesim check ci/misses.yaml --baseline ci/misses-baseline.csv
  probesim check ci/misses.yaml --baseline ci/misses-baseline.csv --update
  probesim check ci/misses.yaml --baseline base.csv --cycles-tol 1% --miss-rate-tol 0.01
  probesim check ci/misses.yaml --baseline base.csv --tol overhead_cycles=2% --tol windows=10`,
		Args: exactArgs(1, "CONFIG.yaml"),
		RunE: func(c *cobra.Command, args []string) error {
			if err := requireFlags(c, "baseline"); err != nil {
				return err
			}
			return runCheck(c, &f, args[0])
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.baseline, "baseline", "", "baseline results `FILE` (.csv or .json), as written by --update or 'probesim sweep'")
	fl.BoolVar(&f.update, "update", false, "write the results as the new baseline instead of failing on what moved")
	fl.IntVarP(&f.jobs, "jobs", "j", runtime.NumCPU(), "run `N` configurations at once (the default is the number of CPUs here)")
	fl.StringVarP(&f.out, "out", "o", "", "also write this run's results to `FILE` (.csv or .json), e.g. as a CI artifact")
	fl.StringArrayVar(&f.tols, "tol", nil, "allow `METRIC=TOL`, TOL a percentage of the baseline (5%) or an absolute amount (100); repeatable; metrics: "+strings.Join(sweep.MetricNames(), ", "))
	fl.StringVar(&f.missRate, "miss-rate-tol", "", "--tol miss_rate=`TOL` (0.01 = one percentage point; 5% = 5% of the baseline's rate)")
	fl.StringVar(&f.misses, "misses-tol", "", "--tol misses=`TOL` (a miss where the baseline had none always fails)")
	fl.StringVar(&f.hits, "hits-tol", "", "--tol hits=`TOL`")
	fl.StringVar(&f.cycles, "cycles-tol", "", "--tol cycles=`TOL` --tol cycles_per_hit=TOL")
	return c
}

// tolerances reads --tol and the shorthands.
func (f *checkFlags) tolerances() error {
	f.tolerance = sweep.Tolerances{}
	set := func(flag, metric, s string) error {
		t, err := sweep.ParseTolerance(s)
		if err != nil {
			return usageError("invalid argument %q for --%s: %v", s, flag, strings.TrimPrefix(err.Error(), strconv.Quote(s)+" is not a tolerance: "))
		}
		f.tolerance[metric] = t
		return nil
	}
	for _, a := range f.tols {
		metric, s, ok := strings.Cut(a, "=")
		if !ok {
			return usageError("invalid argument %q for --tol: want METRIC=TOL, such as cycles=1%% or misses=2", a)
		}
		if err := (sweep.Tolerances{metric: {}}).Check(); err != nil {
			return usageError("invalid argument %q for --tol: %v", a, err)
		}
		if err := set("tol", metric, s); err != nil {
			return err
		}
	}
	for _, t := range []struct {
		flag, s string
		metrics []string
	}{
		{"miss-rate-tol", f.missRate, []string{"miss_rate"}},
		{"misses-tol", f.misses, []string{"misses"}},
		{"hits-tol", f.hits, []string{"hits"}},
		{"cycles-tol", f.cycles, []string{"cycles", "cycles_per_hit"}},
	} {
		if t.s == "" {
			continue
		}
		for _, m := range t.metrics {
			if err := set(t.flag, m, t.s); err != nil {
				return err
			}
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
				printComparison(w, cfg, &cmp, f, true)
			}
		}
		if err := sweep.WriteFile(f.baseline, rows); err != nil {
			if werr := writeError("--baseline", err); werr != nil {
				return werr
			}
			return usageError("--baseline: %v", err)
		}
		fmt.Fprintf(w, "check: recorded %s: %d configurations\n", f.baseline, cfg.Len())
		return nil
	}
	cmp, err := sweep.Compare(baseline, rows, f.tolerance)
	if err != nil {
		return usageError("--baseline %s: %v", f.baseline, err)
	}
	printComparison(w, cfg, &cmp, f, false)
	if cmp.Regressed > 0 {
		return &exitError{status: 1, err: fmt.Errorf("check: %s regressed against %s", plural(cmp.Regressed, "configuration"), f.baseline)}
	}
	return nil
}

// printComparison prints the table of what moved and the summary line;
// updating, the line says what moved against the baseline being replaced
// (what the update commit records), not a verdict.
func printComparison(w io.Writer, cfg *sweep.Config, cmp *sweep.Comparison, f *checkFlags, updating bool) {
	if len(cmp.Changes) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "CONFIGURATION\tMETRIC\tBASELINE\tCURRENT\tCHANGE\tTOLERANCE\tVERDICT")
		for _, ch := range cmp.Changes {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", cfg.RowLabel(ch.Index, ch.Probe), ch.Metric,
				ch.Baseline, ch.Current, orDash(ch.Delta), ch.Tolerance, ch.Verdict)
		}
		tw.Flush()
	}
	verdict := "ok"
	if cmp.Regressed > 0 {
		verdict = "FAIL"
	}
	stale := ""
	if updating {
		fmt.Fprintf(w, "check: --update: against the baseline it replaces, %d of %d configurations regressed, %d improved, %d moved within tolerance (tolerances: %s)\n",
			cmp.Regressed, cmp.Configs, cmp.Improved, cmp.Moved-cmp.Regressed-cmp.Improved, f.tolerance)
		return
	}
	if cmp.Improved > 0 {
		stale = "; improvements mean the baseline is out of date: --update records them"
	}
	fmt.Fprintf(w, "check: %s: %d of %d configurations regressed, %d improved, %d moved within tolerance (baseline %s; tolerances: %s%s)\n",
		verdict, cmp.Regressed, cmp.Configs, cmp.Improved, cmp.Moved-cmp.Regressed-cmp.Improved, f.baseline,
		f.tolerance, stale)
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
