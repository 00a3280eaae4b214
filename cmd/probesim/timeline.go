package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/probesim/probesim/demo"
)

type timelineFlags struct {
	from, to uint64
	probe    string
	htmlPath string
	noColor  bool
}

func newTimelineCmd() *cobra.Command {
	var f timelineFlags
	c := &cobra.Command{
		Use:   "timeline EVENTS.jsonl [--from CYCLE] [--to CYCLE] [--html FILE]",
		Short: "Draw the timeline of a run's probe events (run --events), as the demo does",
		Long: `Draw the timeline of an event log that 'probesim run --events' wrote (- for
standard input): a lane per vCPU over a range of cycles, with the windows in
which the probe's original byte was back in the text, every hit, every miss
and the #DB that closed each window.

Without --from and --to the range is a typical miss of the log (of the
windows another vCPU ran through, the one nearest the median length), or
else the first window, or else the first events. --html writes the
timeline as a self-contained page to zoom and hover, as the demo's; a range
of more than 20,000 events must be narrowed. --probe picks the probe of a
log of several.

Errors (an unreadable log, a line that is not an event, an empty range)
print one line and exit 125.`,
		Example: `  probesim run --cpus 4 --probe probed --strategy inline --events ev.jsonl fixtures/bin/x86_64/threads 4 1000
  probesim timeline ev.jsonl
  probesim timeline ev.jsonl --from 2000000 --to 2010000 --html ev.html
  probesim run -q --cpus 2 --probe probed --strategy inline --events - fixtures/bin/x86_64/threads 2 200 | probesim timeline -`,
		Args: exactArgs(1, "EVENTS.jsonl"),
		RunE: func(c *cobra.Command, args []string) error {
			if err := drawTimeline(c, &f, args[0]); err != nil {
				return &exitError{status: exitUsage, err: err}
			}
			return nil
		},
	}
	fl := c.Flags()
	fl.Uint64Var(&f.from, "from", 0, "the first `CYCLE` shown (default: a typical miss's range)")
	fl.Uint64Var(&f.to, "to", 0, "the last `CYCLE` shown")
	fl.StringVar(&f.probe, "probe", "", "the probe `SPEC` to draw, in a log of several")
	fl.StringVar(&f.htmlPath, "html", "", "also write the timeline as a self-contained HTML page to `FILE`")
	fl.BoolVar(&f.noColor, "no-color", false, "no ANSI colours, even on a terminal (so does a non-empty NO_COLOR)")
	return c
}

func drawTimeline(c *cobra.Command, f *timelineFlags, path string) error {
	var r io.Reader = c.InOrStdin()
	name := "standard input"
	if path != stdoutName {
		file, err := os.Open(path)
		if err != nil {
			return err
		}
		defer file.Close()
		r, name = file, path
	}
	events, err := demo.ReadEvents(r)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	probe, err := demo.ProbeOf(events, f.probe)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	var view *demo.Story
	fl := c.Flags()
	switch {
	case fl.Changed("from") || fl.Changed("to"):
		from, to := f.from, f.to
		if !fl.Changed("from") {
			from = events[0].Cycle
		}
		if !fl.Changed("to") {
			to = events[len(events)-1].Cycle
		}
		view, err = demo.NewView(events, probe, from, to)
	default:
		view, err = demo.DefaultView(events, probe)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	var page bytes.Buffer
	if f.htmlPath != "" {
		if err := view.WriteTimelineHTML(&page, "probesim timeline: "+filepath.Base(path)); err != nil {
			return fmt.Errorf("--html: %w", err)
		}
	}
	out := c.OutOrStdout()
	if err := view.WriteTimelineText(out, useColor(out, f.noColor)); err != nil {
		return err
	}
	if f.htmlPath != "" {
		if err := writeWhole(f.htmlPath, page.Bytes()); err != nil {
			return fmt.Errorf("--html %v", err)
		}
		fmt.Fprintf(out, "Wrote %s.\n", f.htmlPath)
	}
	return nil
}

// writeWhole writes data to path through a temporary file renamed over
// it, so the file is whole or absent.
func writeWhole(path string, data []byte) error {
	o := &outFile{flag: "", path: path}
	if err := o.open(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer o.abort()
	if _, err := o.Write(data); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := o.commit(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
