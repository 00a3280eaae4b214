package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/probesim/probesim/calibrate"
	"github.com/probesim/probesim/timing"
)

// exitInterrupted is the status of a calibrate ended by SIGINT or SIGTERM,
// as a shell reports a process killed by SIGINT.
const exitInterrupted = 128 + 2

type calibrateFlags struct {
	out, ptraceOut, name string
	cpus, repeat         int
	quiet                bool
}

func newCalibrateCmd() *cobra.Command {
	var f calibrateFlags
	c := &cobra.Command{
		Use:   "calibrate --out FILE [flags]",
		Short: "Measure this host's kernel costs and write a machine profile",
		Long: `Measure this host with real syscalls, page faults, mprotect shootdowns,
context switches, traps, cross-modifying code, and (as root, with the uprobe
PMU) real uprobe hits, and write a machine profile in the --profile format,
with the method, the median and the spread of every number. A table next
to the built-in skylake profile goes to standard output.

Parts the host cannot measure are skipped with a one-line reason that the
profile records (not root or no uprobe PMU: the uprobe hits). --ptrace-out
also writes the ptrace-inline profile: the same host, with traps, handler
and text writes as a ptrace tracer pays them (cmd/ptrace-inline).

The measurement is noisy: every number is the median of --repeat runs. An
interrupted calibrate leaves no probe or process behind and writes nothing.
See docs/calibrate.md.`,
		Example: `  probesim calibrate --out host.json
  probesim calibrate --out host.json --ptrace-out ptrace-inline.json --cpus 2 --repeat 7
  probesim run --profile host.json --strategy xol --probe probed fixtures/bin/x86_64/threads 1 1000`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runCalibrate(c, &f) },
	}
	fl := c.Flags()
	fl.StringVar(&f.out, "out", "", "write the host profile to `FILE` (required)")
	fl.StringVar(&f.ptraceOut, "ptrace-out", "", "also write the ptrace-inline profile to `FILE`")
	fl.StringVar(&f.name, "name", "host", "the host profile's `NAME`")
	fl.IntVar(&f.cpus, "cpus", 0, "CPUs the multi-CPU measurements use (0 = every CPU this process may run on)")
	fl.IntVar(&f.repeat, "repeat", 5, "run every measurement `K` times (median and spread over them)")
	fl.BoolVar(&f.quiet, "quiet", false, "no progress lines on standard error")
	return c
}

func runCalibrate(c *cobra.Command, f *calibrateFlags) error {
	if f.out == "" {
		return &exitError{status: exitUsage, err: fmt.Errorf("calibrate: --out FILE is required")}
	}
	if f.repeat < 1 || f.repeat > 1000 {
		return &exitError{status: exitUsage, err: fmt.Errorf("invalid argument %d for --repeat: want 1 to 1000", f.repeat)}
	}
	if f.cpus < 0 {
		return &exitError{status: exitUsage, err: fmt.Errorf("invalid argument %d for --cpus: want 0 or more", f.cpus)}
	}
	ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opt := calibrate.Options{CPUs: f.cpus, Repeat: f.repeat}
	if !f.quiet {
		opt.Progress = c.ErrOrStderr()
	}
	ms, err := calibrate.Run(ctx, opt)
	if ctx.Err() != nil {
		// Run has killed its helpers and closed its probes already.
		return &exitError{status: exitInterrupted, err: fmt.Errorf("calibrate: interrupted, nothing written")}
	}
	if err != nil {
		return &exitError{status: exitUsage, err: err}
	}
	for _, s := range ms.Skipped {
		fmt.Fprintf(c.ErrOrStderr(), "probesim: calibrate: %s\n", s)
	}
	host, err := calibrate.Build(ms, calibrate.Host, f.name)
	if err != nil {
		return &exitError{status: exitUsage, err: err}
	}
	type output struct {
		path string
		p    *timing.Profile
	}
	outs := []output{{f.out, host}}
	if f.ptraceOut != "" {
		pi, err := calibrate.Build(ms, calibrate.PtraceInline, "ptrace-inline")
		if err != nil {
			return &exitError{status: exitUsage, err: err}
		}
		outs = append(outs, output{f.ptraceOut, pi})
	}
	for _, o := range outs {
		if err := calibrate.WriteProfile(o.path, o.p); err != nil {
			return &exitError{status: exitUsage, err: fmt.Errorf("calibrate: %w", err)}
		}
		if err := calibrate.WriteTable(c.OutOrStdout(), o.p, timing.Default()); err != nil {
			return err
		}
	}
	return nil
}
