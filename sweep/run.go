package sweep

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/probesim/probesim"
	"github.com/probesim/probesim/report"
)

// ErrAbandoned is Run's error when Options.Abandon closed before the runs
// in flight ended.
var ErrAbandoned = errors.New("abandoned the runs in flight")

// Options tune Run. The zero value runs every configuration on
// runtime.NumCPU() workers and returns the rows.
type Options struct {
	// Jobs is the number of configurations run at once (0 = NumCPU).
	Jobs int
	// Shard selects the configurations to run (zero = all).
	Shard Shard
	// Done, if set, reports the configurations already measured (such as
	// Output.Has): they are not run again.
	Done func(index int) bool
	// Progress, if set, is called after each run with the number of
	// configurations of the shard done (Done ones included) and their
	// total.
	Progress func(done, total int)
	// Emit, if set, receives every row as its run ends, in the order the
	// runs end, and Run returns no rows: the caller keeps them (Output.Add
	// saves them), so a sweep of any size holds only the rows in flight.
	// An error from Emit stops the sweep like a run failing in probesim.
	Emit func(Row) error
	// Abandon, when closed, makes Run return at once with ErrAbandoned
	// (and, without Emit, the rows finished so far). The runs in flight go
	// on in their goroutines until they end and are dropped; it is for a
	// process on its way out (a second Ctrl-C).
	Abandon <-chan struct{}
}

// Stats count what Run did.
type Stats struct {
	Total  int // configurations in the shard
	Kept   int // of them, Done before Run
	Ran    int // configurations run
	Failed int // rows run whose program failed (Row.Failed)
}

type outcome struct {
	row Row
	err error
}

// Run runs the configurations of o.Shard not o.Done, o.Jobs at a time.
// Without o.Emit it returns their rows in configuration order, whatever
// order the runs finished in. The configurations are computed one at a
// time as workers take them, never listed.
//
// Cancelling ctx stops starting runs; the runs in flight finish and Run
// returns with ctx's error. A run that fails inside probesim (not the
// program: a program's exit status, signal or fault is measured, in
// Row.ExitStatus and Row.StopReason) stops the sweep the same way and is
// returned as an error naming the configuration.
func Run(ctx context.Context, c *Config, o Options) ([]Row, Stats, error) {
	done := func(int) bool { return false }
	if o.Done != nil {
		done = o.Done
	}
	st := Stats{Total: c.ShardLen(o.Shard)}
	for i := range c.Indexes(o.Shard) {
		if done(i) {
			st.Kept++
		}
	}
	todo := st.Total - st.Kept
	jobs := o.Jobs
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	jobs = max(1, min(jobs, todo))

	ctx, stop := context.WithCancel(ctx)
	defer stop()
	// quit is closed when Run returns, so that no worker blocks for ever
	// on a result nobody collects (Abandon).
	quit := make(chan struct{})
	defer close(quit)
	feed := make(chan int)
	results := make(chan outcome, jobs)
	var wg sync.WaitGroup
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range feed {
				row, err := c.runPoint(c.Point(i))
				select {
				case results <- outcome{row, err}:
				case <-quit:
					return
				}
			}
		}()
	}
	go func() {
		defer close(feed)
		for i := range c.Indexes(o.Shard) {
			if done(i) {
				continue
			}
			select {
			case <-ctx.Done():
				return
			default:
			}
			select {
			case feed <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()

	var firstErr error
	var rows []Row
	fail := func(err error) {
		if firstErr == nil {
			firstErr = err
			stop()
		}
	}
	for {
		select {
		case out, ok := <-results:
			if !ok {
				err := firstErr
				if err == nil {
					err = ctx.Err() // the caller's cancellation, if any
				}
				return ordered(rows), st, err
			}
			if out.err != nil {
				fail(out.err)
				continue
			}
			st.Ran++
			if out.row.Failed() {
				st.Failed++
			}
			if o.Emit != nil {
				if err := o.Emit(out.row); err != nil {
					fail(err)
				}
			} else {
				rows = append(rows, out.row)
			}
			if o.Progress != nil {
				o.Progress(st.Kept+st.Ran, st.Total)
			}
		case <-o.Abandon:
			stop()
			return ordered(rows), st, ErrAbandoned
		}
	}
}

// ordered sorts rows into configuration order.
func ordered(rows []Row) []Row {
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
