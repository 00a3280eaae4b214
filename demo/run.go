package demo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/probesim/probesim"
	"github.com/probesim/probesim/report"
)

// Trial is one configuration of the comparison and what its run produced.
type Trial struct {
	Strategy probesim.Strategy
	CPUs     int
	Report   *report.Run
	Events   []probesim.Event
	builtin  bool // the embedded workload, which counts its calls
}

// Probe is the trial's account of the workload's probe.
func (t *Trial) Probe() report.Probe { return t.Report.Probes[0] }

// ProgramCalls is the program's own count of probed() calls, read from
// the "calls=N" line it prints; ok is false if there is no such line.
func (t *Trial) ProgramCalls() (calls uint64, ok bool) {
	sc := bufio.NewScanner(strings.NewReader(t.Report.Stdout))
	for sc.Scan() {
		if v, found := strings.CutPrefix(sc.Text(), "calls="); found {
			n, err := strconv.ParseUint(v, 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// OutputAgrees says whether the program exited 0 and, for the embedded
// workload, counted as many calls as probesim saw executions of the
// probed instruction: the emulation ran the program correctly whatever
// the probes did. Another program is only asked to exit 0.
func (t *Trial) OutputAgrees() bool {
	if t.Report.ExitStatus != 0 {
		return false
	}
	if !t.builtin {
		return true
	}
	calls, ok := t.ProgramCalls()
	return ok && calls == t.Probe().Executions
}

// Demo is the comparison and the miss it follows.
type Demo struct {
	Options Options
	// Trials in table order: for each vCPU count, each strategy.
	Trials []Trial
	// Story is one real miss of the inline trial on the most vCPUs, or nil
	// when there is none to follow (NoStory says why).
	Story   *Story
	NoStory string
}

// Options choose what the demo compares.
type Options struct {
	Workload   Workload
	CPUs       []int               // the machine sizes, in table order
	Strategies []probesim.Strategy // in table order
	Seed       uint64
}

// DefaultOptions are what 'probesim demo' runs: the embedded workload on
// 1 vCPU, where inline cannot miss, and 4, where it does, with the seed's
// two strategies and mainline Linux's XOL page, seed 1.
func DefaultOptions() Options {
	return Options{Workload: DefaultWorkload, CPUs: []int{1, 4}, Strategies: append([]probesim.Strategy{}, probesim.Strategies...), Seed: 1}
}

// check refuses options the demo cannot run.
func (o Options) check() error {
	if len(o.CPUs) == 0 || len(o.Strategies) == 0 {
		return fmt.Errorf("no vCPU count or no strategy to compare")
	}
	for i, n := range o.CPUs {
		if n < 1 || n > probesim.MaxCPUs {
			return fmt.Errorf("--cpus %d: want 1 to %d", n, probesim.MaxCPUs)
		}
		if slices.Contains(o.CPUs[:i], n) {
			return fmt.Errorf("--cpus %d: listed twice", n)
		}
	}
	for i, s := range o.Strategies {
		if err := probesim.CheckStrategy(s); err != nil {
			return fmt.Errorf("--strategies: %w", err)
		}
		if slices.Contains(o.Strategies[:i], s) {
			return fmt.Errorf("--strategies %s: listed twice", s)
		}
	}
	if len(o.Workload.Image) == 0 || o.Workload.Probe == "" {
		return fmt.Errorf("no program or no probe")
	}
	return nil
}

// Run runs the workload with every strategy on every vCPU count and finds
// the miss to follow: a typical one of the inline run on the most vCPUs.
func Run(ctx context.Context, o Options) (*Demo, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	w := o.Workload
	d := &Demo{Options: o}
	for _, cpus := range o.CPUs {
		for _, s := range o.Strategies {
			res, err := probesim.Run(ctx, probesim.Config{
				Program:  w.Path,
				Image:    w.Image,
				Args:     w.Args,
				Seed:     o.Seed,
				CPUs:     cpus,
				Probes:   []string{w.Probe},
				Strategy: s,
			})
			var ce *probesim.ConfigError
			if errors.As(err, &ce) {
				return nil, err // the same for every run: a bad probe, say
			}
			if err != nil {
				return nil, fmt.Errorf("demo: %s on %s: %w", s, vcpuHeading(strconv.Itoa(cpus)), err)
			}
			rep := res.Report
			if len(rep.Probes) != 1 || (w.builtin() && rep.ExitStatus != 0) {
				return nil, fmt.Errorf("demo: %s on %s: %s %s", s, vcpuHeading(strconv.Itoa(cpus)), w.Name, ended(rep))
			}
			rep.Program, rep.Host = w.Name, nil
			d.Trials = append(d.Trials, Trial{Strategy: s, CPUs: cpus, Report: rep, Events: res.Events, builtin: w.builtin()})
		}
	}
	inline := d.inlineOnMost()
	switch {
	case inline == nil:
		d.NoStory = "inline is not among the strategies compared: no window to follow."
	case inline.CPUs == 1:
		d.NoStory = "inline ran on 1 vCPU only: no other vCPU can run through its windows, so it cannot miss."
	case inline.Probe().Misses == 0:
		d.NoStory = fmt.Sprintf("inline did not miss on %d vCPUs: no miss to follow.", inline.CPUs)
	default:
		s, err := FindStory(inline.Events, inline.CPUs)
		if err != nil {
			d.NoStory = fmt.Sprintf("inline on %d vCPUs: %v.", inline.CPUs, err)
		} else {
			d.Story = s
		}
	}
	return d, nil
}

// inlineOnMost is the inline trial on the most vCPUs, or nil.
func (d *Demo) inlineOnMost() *Trial {
	var best *Trial
	for i := range d.Trials {
		t := &d.Trials[i]
		if t.Strategy == probesim.Inline && (best == nil || t.CPUs > best.CPUs) {
			best = t
		}
	}
	return best
}

// Trial returns the trial of strategy s on cpus vCPUs, or nil.
func (d *Demo) Trial(s probesim.Strategy, cpus int) *Trial {
	for i := range d.Trials {
		if t := &d.Trials[i]; t.Strategy == s && t.CPUs == cpus {
			return t
		}
	}
	return nil
}

// ended says how a run that should have exited 0 ended: the fault line,
// the signal, or the exit status with the guest's last words; for the
// seed's 2005 code, the defects that did it.
func ended(rep *report.Run) string {
	var why string
	switch {
	case rep.Fault != nil:
		why = "faulted: " + rep.Fault.Message
	case rep.Signal != nil:
		why = "was killed by " + *rep.Signal
	default:
		why = fmt.Sprintf("exited with status %d", rep.ExitStatus)
		if msg := strings.TrimSpace(rep.Stderr); msg != "" {
			why += ": " + msg
		}
	}
	if o := rep.OutOfLine; o != nil && o.SeedDefects != nil {
		d := o.SeedDefects
		why += fmt.Sprintf(" (the seed's 2005 code as posted; copies over live stack: %d, hits with eip not moved: %d;"+
			" probesim run --strategy ssol-stack-2005 describes them)", d.LiveStackCopies, d.EIPNotMoved)
	}
	return why
}
