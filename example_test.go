package probesim_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"sort"
	"syscall"

	"github.com/probesim/probesim"
)

// The seed's question on four vCPUs: does a probe on probed() see every
// call? Out-of-line single-stepping on the stack never misses.
func Example() {
	res, err := probesim.Run(context.Background(), probesim.Config{
		Program:  "fixtures/bin/x86_64/threads",
		Args:     []string{"4", "100"}, // 4 threads x 100 calls of probed()
		CPUs:     4,
		Seed:     1,
		Probes:   []string{"probed"},
		Strategy: probesim.SSOLStack,
	})
	if err != nil {
		log.Fatal(err)
	}
	p := res.Report.Probes[0]
	fmt.Printf("%s: %d executions, %d hits, %d misses\n", p.Spec, p.Executions, p.Hits, p.Misses)
	fmt.Printf("exit status %d, stack pages made executable for a step: %d\n",
		res.Report.ExitStatus, res.Report.OutOfLine.NXFlips)
	// Output:
	// probed: 400 executions, 400 hits, 0 misses
	// exit status 0, stack pages made executable for a step: 400
}

// Inline single-stepping puts the original byte back while one vCPU steps
// it; the other vCPUs run through the probe meanwhile. The miss list says
// when and where each miss happened.
func Example_inlineMisses() {
	res, err := probesim.Run(context.Background(), probesim.Config{
		Program:  "fixtures/bin/x86_64/threads",
		Args:     []string{"4", "100"},
		CPUs:     4,
		Seed:     1,
		Probes:   []string{"probed"},
		Strategy: probesim.Inline,
	})
	if err != nil {
		log.Fatal(err)
	}
	p := res.Report.Probes[0]
	fmt.Println("every execution is a hit or a miss:", p.Hits+p.Misses == p.Executions)
	fmt.Println("missed some:", p.Misses > 0)
	first := p.MissList[0]
	fmt.Println("first miss inside an open window:", insideWindow(res.Events, first.Cycle))
	// Output:
	// every execution is a hit or a miss: true
	// missed some: true
	// first miss inside an open window: true
}

// insideWindow reports whether cycle lies between a window_open and its
// window_close in the event log.
func insideWindow(events []probesim.Event, cycle uint64) bool {
	var open []uint64
	for _, ev := range events {
		switch ev.Kind {
		case "window_open":
			open = append(open, ev.Cycle)
		case "window_close":
			for _, start := range open {
				if start <= cycle && cycle <= ev.Cycle {
					return true
				}
			}
			open = open[:0]
		}
	}
	return false
}

// A Go handler runs on every hit, in global cycle order, and sees which
// vCPU and thread trapped.
func ExampleConfig_onHit() {
	perThread := map[int]int{}
	_, err := probesim.Run(context.Background(), probesim.Config{
		Program: "fixtures/bin/x86_64/threads",
		Args:    []string{"3", "50"},
		CPUs:    2,
		Seed:    7,
		Probes:  []string{"probed"},
		OnHit:   func(h probesim.Hit) { perThread[h.TID]++ },
	})
	if err != nil {
		log.Fatal(err)
	}
	tids := make([]int, 0, len(perThread))
	for tid := range perThread {
		tids = append(tids, tid)
	}
	sort.Ints(tids)
	for _, tid := range tids {
		fmt.Printf("thread %d: %d hits\n", tid, perThread[tid])
	}
	// Output:
	// thread 1001: 50 hits
	// thread 1002: 50 hits
	// thread 1003: 50 hits
}

// A bad probe spec is a ConfigError that names the field at fault.
func ExampleConfigError() {
	_, err := probesim.Run(context.Background(), probesim.Config{
		Program: "fixtures/bin/x86_64/threads",
		Probes:  []string{"no_such_function"},
	})
	var ce *probesim.ConfigError
	if errors.As(err, &ce) {
		fmt.Println("field:", ce.Field)
	}
	fmt.Println(err)
	// Output:
	// field: probe
	// probe: probe "no_such_function": no symbol "no_such_function" in fixtures/bin/x86_64/threads
}

// OnEvent streams the probe event log while the program runs: here, the
// length of every window the inline strategy opened, without keeping the
// log.
func ExampleConfig_onEvent() {
	opened := map[int]uint64{} // tid -> cycle its window opened
	var windows, longest uint64
	res, err := probesim.Run(context.Background(), probesim.Config{
		Program:  "fixtures/bin/x86_64/threads",
		Args:     []string{"2", "100"},
		CPUs:     2,
		Seed:     1,
		Probes:   []string{"probed"},
		Strategy: probesim.Inline,
		OnEvent: func(e probesim.Event) {
			switch e.Kind {
			case probesim.EventWindowOpen:
				opened[e.TID] = e.Cycle
			case probesim.EventWindowClose:
				windows++
				longest = max(longest, e.Cycle-opened[e.TID])
			}
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("a window per hit:", windows == res.Report.Probes[0].Hits)
	fmt.Println("some window longer than 1000 cycles:", longest > 1000)
	// Output:
	// a window per hit: true
	// some window longer than 1000 cycles: true
}

// OnMiss sees each miss as it happens: which vCPU ran through the probe.
func ExampleConfig_onMiss() {
	perCPU := make([]int, 4)
	res, err := probesim.Run(context.Background(), probesim.Config{
		Program:  "fixtures/bin/x86_64/threads",
		Args:     []string{"4", "100"},
		CPUs:     4,
		Seed:     1,
		Probes:   []string{"probed"},
		Strategy: probesim.Inline,
		OnMiss:   func(e probesim.Event) { perCPU[e.VCPU]++ },
	})
	if err != nil {
		log.Fatal(err)
	}
	total := 0
	for _, n := range perCPU {
		total += n
	}
	fmt.Println("misses seen as they happened = misses in the report:", uint64(total) == res.Report.Probes[0].Misses)
	// Output:
	// misses seen as they happened = misses in the report: true
}

// OnProgress reports the run's clock as it goes, at deterministic points:
// a progress bar, or a check that a long run is still moving.
func ExampleConfig_onProgress() {
	var calls int
	var last uint64
	res, err := probesim.Run(context.Background(), probesim.Config{
		Program:        "fixtures/bin/x86_64/loop",
		Args:           []string{"50000000"},
		ProgressCycles: 50_000_000,
		OnProgress:     func(cycles uint64) { calls, last = calls+1, cycles },
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("called along the way:", calls > 2)
	fmt.Println("the last call is the run's end:", last == res.Report.Cycles)
	// Output:
	// called along the way: true
	// the last call is the run's end: true
}

// Cancelling the context ends a run cleanly: the result holds a complete
// report of the run so far, whose stop reason says it was interrupted. A
// front end that caught a signal names it as the cause.
func ExampleSimulation_Run_cancel() {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	sim, err := probesim.New(probesim.Config{
		Program:        "fixtures/bin/x86_64/loop", // 200 M iterations: seconds
		ProgressCycles: 10_000_000,
		OnProgress: func(cycles uint64) {
			if cycles >= 30_000_000 {
				cancel(&probesim.Interruption{Signal: syscall.SIGINT})
			}
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer sim.Close()
	res, err := sim.Run(ctx)
	fmt.Println(err)
	fmt.Println("cancelled:", errors.Is(err, context.Canceled))
	fmt.Println(res.Report.StopReason, res.Report.ExitStatus, *res.Report.Signal)
	// Output:
	// probesim: run interrupted by SIGINT
	// cancelled: true
	// interrupted 130 SIGINT
}
