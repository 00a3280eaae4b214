package demo

import (
	"github.com/probesim/probesim"
	"github.com/probesim/probesim/report"
)

// A small run on 3 vCPUs, by hand: TID 11 on cpu1 hits at 1,000 and its
// window stays open until 1,800; TIDs 10 (cpu0) and 12 (cpu2) run through
// it three times; TID 10 then hits at 2,100, window open until 2,500.
func syntheticEvents() []probesim.Event {
	ev := func(cycle uint64, vcpu, tid int, kind string) probesim.Event {
		return probesim.Event{Cycle: cycle, VCPU: vcpu, TID: tid, Probe: "probed", Kind: kind}
	}
	return []probesim.Event{
		ev(400, 0, 10, probesim.EventHit),
		ev(400, 0, 10, probesim.EventWindowOpen),
		ev(700, 0, 10, probesim.EventWindowClose),
		ev(1000, 1, 11, probesim.EventHit),
		ev(1000, 1, 11, probesim.EventWindowOpen),
		ev(1200, 0, 10, probesim.EventMiss),
		ev(1500, 2, 12, probesim.EventMiss),
		ev(1530, 0, 10, probesim.EventMiss),
		ev(1800, 1, 11, probesim.EventWindowClose),
		ev(2100, 0, 10, probesim.EventHit),
		ev(2100, 0, 10, probesim.EventWindowOpen),
		ev(2500, 0, 10, probesim.EventWindowClose),
	}
}

// syntheticTrial makes a trial of the built-in workload with the counts
// given and nothing else.
func syntheticTrial(s probesim.Strategy, cpus int, hits, misses, perHit, cycles uint64, stdout string) Trial {
	return Trial{Strategy: s, CPUs: cpus, builtin: true, Report: &report.Run{
		Cycles: cycles, Stdout: stdout,
		Probes: []report.Probe{{
			Spec: "probed", Instruction: "imul edi, edi, -0x61c8864f",
			Executions: hits + misses, Hits: hits, Misses: misses,
			Windows:        report.WindowStats{Count: hits, MaxCycles: 800},
			OverheadCycles: report.ProbeOverhead{PerHit: perHit},
		}},
	}}
}

// syntheticDemo is a whole demo around syntheticEvents.
func syntheticDemo() *Demo {
	ssol4 := syntheticTrial(probesim.SSOLStack, 3, 6, 0, 900, 9000, "calls=6\n")
	ssol4.Report.OutOfLine = &report.OutOfLine{NXFlips: 6}
	d := &Demo{
		Options: Options{Workload: Workload{Name: "threads", Args: []string{"3", "2"}, Threads: 3, Calls: 2, Probe: "probed"},
			CPUs: []int{1, 3}, Strategies: []probesim.Strategy{probesim.Inline, probesim.SSOLStack}, Seed: 7},
		Trials: []Trial{
			syntheticTrial(probesim.Inline, 1, 6, 0, 300, 5000, "threads=3 iters=2\ncalls=6\n"),
			syntheticTrial(probesim.SSOLStack, 1, 6, 0, 1200, 8000, "calls=6\n"),
			syntheticTrial(probesim.Inline, 3, 3, 3, 350, 3000, "calls=6\n"),
			ssol4,
		},
	}
	story, err := FindStory(syntheticEvents(), 3)
	if err != nil {
		panic(err)
	}
	d.Story = story
	return d
}
