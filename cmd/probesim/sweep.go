package main

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/probesim/probesim/sweep"
)

type sweepFlags struct {
	out   string
	jobs  int
	shard string
	quiet bool
}

func newSweepCmd() *cobra.Command {
	var f sweepFlags
	c := &cobra.Command{
		Use:   "sweep CONFIG.yaml --out FILE.csv|FILE.json",
		Short: "Run a program over the Cartesian product of a config's values",
		Long: `Run the program of CONFIG.yaml once per configuration: every combination of
its cpus, strategies, seeds (and quantum, profile and params when given). Each
configuration becomes one row of --out (.csv or .json), in configuration order
(profile, params, quantum, strategy, cpus, seed; the last varies fastest),
whatever --jobs is: the output is byte-identical for any number of jobs.

The sweep is resumable: if --out already holds rows of this config, they are
kept and only the missing configurations run. Rows are saved every second or
so (atomically), so Ctrl-C or SIGTERM loses little: the first signal lets the
runs in flight finish, a second drops them; either way the finished rows are
saved and running the same command again carries on.

--shard I/N (1-based) runs the configurations whose index is I-1 modulo N;
'probesim merge' joins the shards' files. A progress bar shows when standard
error is a terminal. The config format is in docs/sweep.md.

Exit status: 0 when every configuration's program exited 0; 1 when some did
not (nonzero exit, signal, fault or cycle budget: their rows are recorded all
the same); 125 for a bad config, flag or --out file; 128+N after signal N.`,
		Example: `  probesim sweep sweep.yaml --out results.csv
  probesim sweep sweep.yaml --out results.json --jobs 4
  probesim sweep sweep.yaml --out shard-$SLURM_ARRAY_TASK_ID.csv --shard $SLURM_ARRAY_TASK_ID/8
  probesim merge results.csv shard-*.csv`,
		Args: exactArgs(1, "CONFIG.yaml"),
		RunE: func(c *cobra.Command, args []string) error {
			if err := requireFlags(c, "out"); err != nil {
				return err
			}
			return runSweep(c, &f, args[0])
		},
	}
	fl := c.Flags()
	fl.StringVarP(&f.out, "out", "o", "", "results `FILE` (.csv or .json); rows already in it are kept")
	fl.IntVarP(&f.jobs, "jobs", "j", runtime.NumCPU(), "run `N` configurations at once (the default is the number of CPUs here)")
	fl.StringVar(&f.shard, "shard", "", "run only shard `I/N` (1-based): the configurations whose index is I-1 modulo N")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print nothing but errors (no summary line)")
	return c
}

func checkJobs(jobs int) error {
	if jobs < 1 {
		return usageError("invalid argument %d for --jobs: want at least 1", jobs)
	}
	return nil
}

func runSweep(c *cobra.Command, f *sweepFlags, configPath string) error {
	if _, err := sweep.FormatOf(f.out); err != nil {
		return usageError("--out: %v", err)
	}
	if err := checkJobs(f.jobs); err != nil {
		return err
	}
	var shard sweep.Shard
	if f.shard != "" {
		var err error
		if shard, err = sweep.ParseShard(f.shard); err != nil {
			return usageError("invalid argument for --shard: %v", err)
		}
	}
	cfg, err := sweep.Load(configPath)
	if err != nil {
		return usageError("%v", err)
	}
	// Signals are caught from here on: reading and saving back a big --out
	// takes a while, and a Ctrl-C then must leave it as it was, with no
	// temporary file behind.
	stop := catchSignals(c.ErrOrStderr(), "sweep")
	defer stop.release()
	// Opening --out locks it, reads the rows it has and saves them back,
	// which proves it writable before any run.
	out, err := sweep.OpenOutputContext(stop.ctx, f.out, cfg, shard)
	if err != nil {
		if sig := stop.caught(); sig != 0 && errors.Is(err, context.Canceled) {
			return &exitError{status: 128 + int(sig), err: fmt.Errorf("sweep: interrupted by %s while reading %s: nothing ran, and the file is as it was",
				signalName(sig), f.out)}
		}
		if werr := writeError("--out", err); werr != nil {
			return werr
		}
		return usageError("--out %v; to start afresh, move the file away", err)
	}
	total := cfg.ShardLen(shard)
	bar := newProgress(c.ErrOrStderr(), "sweep", out.Kept(), total)
	_, st, err := sweep.Run(stop.ctx, cfg, sweep.Options{
		Jobs: f.jobs, Shard: shard, Done: out.Has,
		Progress: bar.update,
		Emit:     out.Add,
		Abandon:  stop.abandon,
	})
	bar.finish()
	if werr := out.Close(); werr != nil {
		if e := writeError("--out", werr); e != nil {
			return e
		}
		return usageError("--out %v", werr)
	}
	if sig := stop.caught(); sig != 0 {
		return &exitError{status: 128 + int(sig), err: fmt.Errorf("sweep: interrupted by %s: saved %d of %d rows to %s; run the same command again to resume",
			signalName(sig), out.Rows(), total, f.out)}
	}
	if err != nil {
		return usageError("sweep: %v (saved %d of %d rows to %s)", err, out.Rows(), total, f.out)
	}
	if !f.quiet {
		where := ""
		if shard.N > 0 {
			where = fmt.Sprintf(" (shard %s of %d)", shard, cfg.Len())
		}
		failed, _, _, _ := out.Failed()
		fmt.Fprintf(c.ErrOrStderr(), "sweep: %s: %d configurations%s: %d run, %d kept, %d failed\n",
			f.out, total, where, st.Ran, st.Kept, failed)
	}
	if n, key, reason, status := out.Failed(); n > 0 {
		return &exitError{status: 1, err: fmt.Errorf("sweep: %d of %d configurations did not exit 0 (first: %s: %s, status %d); their rows are recorded",
			n, out.Rows(), key, reason, status)}
	}
	return nil
}
