package probesim_test

import (
	"errors"
	"fmt"
	"log"
	"sort"

	"github.com/probesim/probesim"
)

// The seed's question on four vCPUs: does a probe on probed() see every
// call? Out-of-line single-stepping on the stack never misses.
func Example() {
	res, err := probesim.Run(probesim.Config{
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
	res, err := probesim.Run(probesim.Config{
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
	_, err := probesim.Run(probesim.Config{
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
	_, err := probesim.Run(probesim.Config{
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
