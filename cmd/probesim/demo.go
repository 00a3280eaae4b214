package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/probesim/probesim/demo"
)

type demoFlags struct {
	htmlPath string
	noColor  bool
	seedBugs bool
}

func newDemoCmd() *cobra.Command {
	var f demoFlags
	c := &cobra.Command{
		Use:   "demo",
		Short: "Show the uprobe miss window on SMP (what `make demo` runs)",
		Long: `Run the built-in threaded workload (4 threads x 1,000 calls of probed(),
embedded in probesim) with a uprobe on probed(), under the inline and the
ssol-stack strategies on 1 and 4 vCPUs, and show:

  - a side-by-side table of executions, hits, misses, miss rate, cycles per
    hit and run cycles, with the program's own call count as a check;
  - the timeline of one real miss of inline on 4 vCPUs: a lane per vCPU,
    the window when the original byte was back in the text, and the vCPU
    that ran through it, then a walk through what happened.

With --seed-bugs it then runs the seed's code as posted in 2005
(ssol-stack-2005) and with the 2006 repost's global lock (ssol-stack-2006) on
1 and 4 vCPUs: a table of how each run ended against the run without probes,
the defects the 2005 code showed, detected where they happened, and what
the lock cost in spinning.

It needs no file and no argument, and prints the same thing every time.
Colours are used when standard output is a terminal, unless --no-color is
given or NO_COLOR is set. --html also writes the whole demo as one
self-contained web page with a timeline to zoom (mouse wheel, buttons,
drag) and hover.`,
		Example: `  probesim demo
  probesim demo --no-color > demo.txt
  probesim demo --html demo.html && xdg-open demo.html`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runDemo(c.OutOrStdout(), &f)
		},
	}
	c.Flags().StringVar(&f.htmlPath, "html", "", "also write the demo as a self-contained HTML page to `FILE`")
	c.Flags().BoolVar(&f.seedBugs, "seed-bugs", false, "also run the seed's code as posted (ssol-stack-2005) and with the 2006 repost's lock (ssol-stack-2006) on 1 and 4 vCPUs, and show what went wrong and what the lock cost")
	c.Flags().BoolVar(&f.noColor, "no-color", false, "no ANSI colours, even on a terminal (so does a non-empty NO_COLOR)")
	return c
}

func runDemo(out io.Writer, f *demoFlags) (err error) {
	// Create the page before the runs, so a bad path fails at once; a
	// failed demo leaves no page behind.
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
	d, err := demo.Run(demo.DefaultWorkload)
	if err != nil {
		return err
	}
	if err := d.WriteText(out, useColor(out, f.noColor)); err != nil {
		return err
	}
	if f.seedBugs {
		sb, err := demo.RunSeedBugsWorkload(demo.DefaultWorkload, []int{1, 4})
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
