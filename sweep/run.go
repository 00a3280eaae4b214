package sweep

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/probesim/probesim"
	"github.com/probesim/probesim/report"
)

// ErrAbandoned is Run's error when Options.Abandon closed before the runs
// in flight ended.
var ErrAbandoned = errors.New("abandoned the runs in flight")

// Options tune Run. The zero value runs every configuration on
// runtime.NumCPU() workers with no checkpoints.
type Options struct {
	// Jobs is the number of configurations run at once (0 = NumCPU).
	Jobs int
	// Shard selects the configurations to run (zero = all).
	Shard Shard
	// Keep are rows already measured, from Reconcile: their
	// configurations are not run again and they are part of the result.
	Keep []Row
	// Progress, if set, is called after each run with the number of
	// configurations of the shard done (kept ones included) and their
	// total.
	Progress func(done, total int)
	// Save, if set, is called with every finished row in configuration
	// order, at most once per SaveEvery (1 s if zero; stretched to ten
	// times the last save's duration for big files) while runs go on, so
	// that an interrupted sweep loses at most that much work. Run does not
	// call it at the end: the caller writes the result.
	Save      func([]Row) error
	SaveEvery time.Duration
	// Abandon, when closed, makes Run return at once with the rows
	// finished so far and ErrAbandoned. The runs in flight go on in their
	// goroutines until they end and are dropped; it is for a process on
	// its way out (a second Ctrl-C).
	Abandon <-chan struct{}
}

// Stats count what Run did.
type Stats struct {
	Total  int // configurations in the shard
	Kept   int // rows taken from Options.Keep
	Ran    int // configurations run
	Failed int // rows whose program failed (Row.Failed), kept ones included
}

type outcome struct {
	row Row
	err error
}

// Run runs the configurations of o.Shard not already in o.Keep, o.Jobs at
// a time, and returns all rows of the shard in configuration order,
// whatever order the runs finished in.
//
// Cancelling ctx stops starting runs; the runs in flight finish and Run
// returns the rows done with ctx's error. A run that fails inside
// probesim (not the program: a program's exit status, signal or fault is
// measured, in Row.ExitStatus and Row.StopReason) stops the sweep the same
// way and is returned as an error naming the configuration.
func Run(ctx context.Context, c *Config, o Options) ([]Row, Stats, error) {
	points := c.Points(o.Shard)
	done := make(map[int]Row, len(points))
	for _, r := range o.Keep {
		done[r.Index] = r
	}
	var todo []Point
	for _, p := range points {
		if _, ok := done[p.Index]; !ok {
			todo = append(todo, p)
		}
	}
	st := Stats{Total: len(points), Kept: len(done)}
	jobs := o.Jobs
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	jobs = max(1, min(jobs, len(todo)))
	saveEvery := o.SaveEvery
	if saveEvery <= 0 {
		saveEvery = time.Second
	}

	ctx, stop := context.WithCancel(ctx)
	defer stop()
	feed := make(chan Point)
	// Room for every result, so that workers never block on a collector
	// that has returned (Abandon).
	results := make(chan outcome, len(todo))
	var wg sync.WaitGroup
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range feed {
				row, err := c.runPoint(p)
				results <- outcome{row, err}
			}
		}()
	}
	go func() {
		defer close(feed)
		for _, p := range todo {
			select {
			case <-ctx.Done():
				return
			default:
			}
			select {
			case feed <- p:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()

	var firstErr error
	lastSave := time.Now()
	for {
		select {
		case out, ok := <-results:
			if !ok {
				err := firstErr
				if err == nil {
					err = ctx.Err() // the caller's cancellation, if any
				}
				return finish(done, &st), st, err
			}
			if out.err != nil {
				if firstErr == nil {
					firstErr = out.err
					stop()
				}
				continue
			}
			done[out.row.Index] = out.row
			st.Ran++
			if o.Progress != nil {
				o.Progress(len(done), st.Total)
			}
			if o.Save != nil && time.Since(lastSave) >= saveEvery {
				start := time.Now()
				if err := o.Save(ordered(done)); err != nil && firstErr == nil {
					firstErr = fmt.Errorf("saving rows: %w", err)
					stop()
				}
				lastSave = time.Now()
				// Each save rewrites the whole file: keep the time spent
				// saving under a tenth of the sweep's, however big it grows.
				saveEvery = max(saveEvery, 10*lastSave.Sub(start))
			}
		case <-o.Abandon:
			stop()
			return finish(done, &st), st, ErrAbandoned
		}
	}
}

// finish orders the rows and counts the failed ones.
func finish(done map[int]Row, st *Stats) []Row {
	rows := ordered(done)
	for i := range rows {
		if rows[i].Failed() {
			st.Failed++
		}
	}
	return rows
}

// ordered returns the rows in configuration order.
func ordered(done map[int]Row) []Row {
	rows := make([]Row, 0, len(done))
	for _, r := range done {
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(a, b Row) int { return a.Index - b.Index })
	return rows
}

// runPoint runs one configuration through the library API.
func (c *Config) runPoint(p Point) (Row, error) {
	res, err := probesim.Run(c.RunConfig(p))
	if err != nil {
		return Row{}, fmt.Errorf("%s: %w", p.Key(), err)
	}
	return c.RowOf(p, res.Report), nil
}

// RowOf is the row of configuration p from its run report.
func (c *Config) RowOf(p Point, rep *report.Run) Row {
	r := Row{
		Index: p.Index, Configs: c.Len(), Key: p.Key(),
		Program: c.Program, Args: orEmpty(c.Args), Probes: orEmpty(c.Probes), Env: orEmpty(c.Env),
		MaxCycles: c.MaxCycles, StackLimit: c.StackLimit,
		Strategy: string(p.Strategy), CPUs: p.CPUs, Seed: p.Seed, Quantum: p.Quantum,
		Profile: p.Profile, Params: orEmpty(p.Params),
	}
	r.SetResults(rep)
	return r
}

// orEmpty gives nil lists one spelling ([] in JSON), so rows compare and
// encode the same whether built here or read back from a file.
func orEmpty(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}
