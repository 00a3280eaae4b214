package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/probesim/probesim"
	"github.com/probesim/probesim/demo"
)

type demoFlags struct {
	htmlPath   string
	noColor    bool
	cpus       []int
	strategies []string
	seed       uint64
	probe      string
	seedBugs   bool
}

func newDemoCmd() *cobra.Command {
	var f demoFlags
	c := &cobra.Command{
		Use:   "demo [flags] [--probe SPEC PROGRAM [ARGS...]]",
		Short: "Show the uprobe miss window on SMP (what `make demo` runs)",
		Long: `Run a threaded workload with a uprobe under each strategy (inline, ssol-stack
and xol by default) on each vCPU count (1 and 4 by default), and show:

  - a table of executions, hits, misses, miss rate, cycles per hit and run
    cycles, with a check of the program's own output;
  - the timeline of one real, typical miss of inline on the most vCPUs: a
    lane per vCPU, the window when the original byte was back in the text,
    and the vCPU that ran through it, then a walk through what happened.

Without PROGRAM the workload is built in (4 threads x 1,000 calls of
probed(), embedded in probesim): it needs no file and prints the same thing
every time. With --probe SPEC PROGRAM [ARGS...] any static program runs
instead, probed at SPEC (symbol, symbol+offset or 0xADDR).

With --seed-bugs it then runs the seed's code as posted in 2005
(ssol-stack-2005) and with the 2006 repost's global lock (ssol-stack-2006) on
the same workload and vCPU counts: a table of how each run ended against the
run without probes, the defects the 2005 code showed, detected where they
happened, and what the lock cost in spinning.

Colours are used when standard output is a terminal, unless --no-color is
given or NO_COLOR is set. --html also writes the whole demo as one
self-contained web page with a timeline to zoom (mouse wheel, buttons, drag)
and hover. 'probesim timeline' draws the same timeline for any run's
--events log.`,
		Example: `  probesim demo
  probesim demo --no-color > demo.txt
  probesim demo --html demo.html && xdg-open demo.html
  probesim demo --cpus 2,4,8 --strategies inline,xol --seed 3
  probesim demo --cpus 1,4 --probe probed fixtures/bin/x86_64/threads 8 500 2000
  probesim demo --seed-bugs`,
		RunE: func(c *cobra.Command, args []string) error {
			return runDemo(c, &f, args)
		},
	}
	c.Flags().SetInterspersed(false) // what follows PROGRAM is the program's
	fl := c.Flags()
	fl.StringVar(&f.htmlPath, "html", "", "also write the demo as a self-contained HTML page to `FILE`")
	fl.BoolVar(&f.noColor, "no-color", false, "no ANSI colours, even on a terminal (so does a non-empty NO_COLOR)")
	fl.IntSliceVar(&f.cpus, "cpus", []int{1, 4}, "the vCPU `COUNTS` compared, comma-separated")
	fl.StringSliceVar(&f.strategies, "strategies", strategyNames(), "the `STRATEGIES` compared, comma-separated")
	fl.Uint64Var(&f.seed, "seed", 1, "the `SEED` of every run")
	fl.StringVar(&f.probe, "probe", "", "probe PROGRAM at `SPEC` (with PROGRAM; the built-in workload's probe is probed)")
	fl.BoolVar(&f.seedBugs, "seed-bugs", false, "also run the seed's code as posted (ssol-stack-2005) and with the 2006 repost's lock (ssol-stack-2006) on the same workload and vCPU counts, and show what went wrong and what the lock cost")
	return c
}

// strategyNames are the strategies, in probesim's order.
func strategyNames() []string {
	out := make([]string, len(probesim.Strategies))
	for i, s := range probesim.Strategies {
		out[i] = string(s)
	}
	return out
}

func runDemo(c *cobra.Command, f *demoFlags, args []string) (err error) {
	o := demo.DefaultOptions()
	o.CPUs, o.Seed = f.cpus, f.seed
	o.Strategies = nil
	for _, s := range f.strategies {
		o.Strategies = append(o.Strategies, probesim.Strategy(s))
	}
	switch {
	case len(args) > 0 && f.probe == "":
		return argsError(c, "a PROGRAM needs --probe SPEC (what to probe in it)")
	case len(args) == 0 && f.probe != "":
		return argsError(c, "--probe needs a PROGRAM to probe (the built-in workload has its own probe)")
	case len(args) > 0:
		if o.Workload, err = demo.ProgramWorkload(args[0], args[1:], f.probe); err != nil {
			return cannotRun(err)
		}
	}
	// Create the page before the runs, so a bad path fails at once; a
	// failed demo leaves no page behind.
	out := c.OutOrStdout()
	var page *os.File
	if f.htmlPath != "" {
		if page, err = os.Create(f.htmlPath); err != nil {
			return &exitError{status: exitUsage, err: fmt.Errorf("--html: %w", err)}
		}
		defer func() {
			if cerr := page.Close(); err == nil && cerr != nil {
				err = fmt.Errorf("--html %s: %w", f.htmlPath, cerr)
			}
			if err != nil {
				os.Remove(f.htmlPath)
			}
		}()
	}
	d, err := demo.Run(context.Background(), o)
	var ce *probesim.ConfigError
	switch {
	case errors.As(err, &ce):
		msg := ce.Err.Error()
		if len(args) > 0 {
			msg = strings.ReplaceAll(msg, o.Workload.Path, args[0]) // the path the user gave
		}
		return usageError("--%s: %s", ce.Field, msg)
	case err != nil && strings.HasPrefix(err.Error(), "--"):
		return usageError("%v", err)
	case err != nil:
		return cannotRun(err)
	}
	if err := d.WriteText(out, useColor(out, f.noColor)); err != nil {
		return err
	}
	if f.seedBugs {
		sb, err := demo.RunSeedBugsWorkload(context.Background(), o.Workload, o.Seed, o.CPUs)
		if err != nil {
			return err
		}
		fmt.Fprintln(out)
		if err := sb.WriteText(out); err != nil {
			return err
		}
	}
	if page != nil {
		if err := d.WriteHTML(page); err != nil {
			return fmt.Errorf("--html %s: %w", f.htmlPath, err)
		}
		fmt.Fprintf(out, "Wrote %s.\n", f.htmlPath)
	}
	return nil
}

// useColor says whether to paint: only on a terminal, and neither with
// --no-color nor with NO_COLOR set to anything (https://no-color.org).
func useColor(out io.Writer, noColor bool) bool {
	if noColor || os.Getenv("NO_COLOR") != "" {
		return false
	}
	return isTerminal(out)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
