package demo

import (
	"bufio"
	"context"
	"fmt"
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

// OutputAgrees says whether the program exited 0 and counted as many calls
// as probesim saw executions of the probed instruction: the emulation ran
// the program correctly whatever the probes did.
func (t *Trial) OutputAgrees() bool {
	calls, ok := t.ProgramCalls()
	return ok && t.Report.ExitStatus == 0 && calls == t.Probe().Executions
}

// Demo is the comparison and the miss it follows.
type Demo struct {
	Workload Workload
	// Trials in table order: for each vCPU count, inline then ssol-stack.
	Trials []Trial
	// Story is one real miss of the inline trial on the most vCPUs.
	Story *Story
}

// trialCPUs are the machine sizes compared: one vCPU, where inline cannot
// miss, and four, where it does.
var trialCPUs = []int{1, 4}

// trialStrategies are the seed's two: single-stepping in place, and out of
// line on the stack.
var trialStrategies = []probesim.Strategy{probesim.Inline, probesim.SSOLStack}

// Run runs the workload with every strategy on every vCPU count and finds
// the miss to follow.
func Run(ctx context.Context, w Workload) (*Demo, error) {
	d := &Demo{Workload: w}
	for _, cpus := range trialCPUs {
		for _, s := range trialStrategies {
			res, err := probesim.Run(ctx, probesim.Config{
				Program:  GuestPath,
				Image:    workloadELF,
				Args:     w.Args(),
				Seed:     w.Seed,
				CPUs:     cpus,
				Probes:   []string{w.Probe},
				Strategy: s,
			})
			if err != nil {
				return nil, fmt.Errorf("demo: %s on %d vCPUs: %w", s, cpus, err)
			}
			rep := res.Report
			if rep.ExitStatus != 0 || len(rep.Probes) != 1 {
				return nil, fmt.Errorf("demo: %s on %d vCPUs: %s exited with status %d: %s",
					s, cpus, w.Name, rep.ExitStatus, strings.TrimSpace(rep.Stderr))
			}
			rep.Program, rep.Host = w.Name, nil
			d.Trials = append(d.Trials, Trial{Strategy: s, CPUs: cpus, Report: rep, Events: res.Events})
		}
	}
	inline := d.Trial(probesim.Inline, trialCPUs[len(trialCPUs)-1])
	var err error
	if d.Story, err = FindStory(inline.Events, inline.CPUs); err != nil {
		return nil, fmt.Errorf("demo: inline on %d vCPUs: %w", inline.CPUs, err)
	}
	return d, nil
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
