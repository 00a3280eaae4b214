package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"

	"github.com/schollz/progressbar/v3"
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
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return runSweep(c, &f, args[0])
		},
	}
	fl := c.Flags()
	fl.StringVarP(&f.out, "out", "o", "", "results `FILE` (.csv or .json); rows already in it are kept")
	fl.IntVarP(&f.jobs, "jobs", "j", runtime.NumCPU(), "run `N` configurations at once (the default is the number of CPUs here)")
	fl.StringVar(&f.shard, "shard", "", "run only shard `I/N` (1-based): the configurations whose index is I-1 modulo N")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print nothing but errors (no summary line)")
	c.MarkFlagRequired("out")
	return c
}

// usageError is a probesim usage error (exit 125).
func usageError(format string, a ...any) error {
	return &exitError{status: exitUsage, err: fmt.Errorf(format, a...)}
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
	// Opening --out locks it, reads the rows it has and saves them back,
	// which proves it writable before any run.
	out, err := sweep.OpenOutput(f.out, cfg, shard)
	if err != nil {
		if werr := writeError("--out", err); werr != nil {
			return werr
		}
		return usageError("--out %v; to start afresh, move the file away", err)
	}

	stop := catchSignals(c.ErrOrStderr(), "sweep")
	defer stop.release()
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

// writeError is the usage error for a results file that cannot be
// written (its directory missing, another probesim writing it, a full
// disk), naming the flag and the file, or nil for other errors.
func writeError(flag string, err error) error {
	var le *sweep.LockError
	if errors.As(err, &le) {
		return usageError("%s %v", flag, err)
	}
	var pe *fs.PathError
	if !errors.As(err, &pe) || (pe.Op != "lock" && pe.Op != "create" && pe.Op != "write") {
		return nil // not sweep's own write-side errors (lock.go, row.go)
	}
	if errors.Is(pe.Err, fs.ErrNotExist) {
		return usageError("%s %s: directory %s does not exist", flag, pe.Path, filepath.Dir(pe.Path))
	}
	return usageError("%s %s: cannot write it: %v", flag, pe.Path, pe.Err)
}

// signalCatcher turns SIGINT and SIGTERM into a cancelled context (the
// first) and a closed abandon channel (the second).
type signalCatcher struct {
	ctx     context.Context
	abandon chan struct{}
	release func()

	mu  sync.Mutex
	sig syscall.Signal
}

func catchSignals(stderr io.Writer, what string) *signalCatcher {
	ctx, cancel := context.WithCancel(context.Background())
	s := &signalCatcher{ctx: ctx, abandon: make(chan struct{})}
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	s.release = func() {
		signal.Stop(ch)
		close(done)
		cancel()
	}
	go func() {
		select {
		case sig := <-ch:
			s.mu.Lock()
			s.sig = sig.(syscall.Signal)
			s.mu.Unlock()
			fmt.Fprintf(stderr, "\n%s: %s: letting the runs in flight finish (signal again to drop them)\n", what, signalName(s.sig))
			cancel()
		case <-done:
			return
		}
		select {
		case <-ch:
			fmt.Fprintf(stderr, "%s: dropping the runs in flight\n", what)
			close(s.abandon)
		case <-done:
		}
	}()
	return s
}

// signalName spells the signals probesim catches as a shell does.
func signalName(s syscall.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

// caught is the first signal received, or 0.
func (s *signalCatcher) caught() syscall.Signal {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sig
}

// progress is a progress bar on a terminal, and nothing elsewhere.
type progress struct{ bar *progressbar.ProgressBar }

func newProgress(w io.Writer, what string, done, total int) *progress {
	if !isTerminal(w) || total == 0 {
		return &progress{}
	}
	bar := progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionFullWidth(),
	)
	bar.Set(done)
	return &progress{bar}
}

func (p *progress) update(done, _ int) {
	if p.bar != nil {
		p.bar.Set(done)
	}
}

func (p *progress) finish() {
	if p.bar != nil {
		p.bar.Finish()
	}
}
