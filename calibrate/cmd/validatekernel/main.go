// Command validatekernel checks probesim's predictions against the real
// kernel of this host (`make validate-kernel`; docs/calibrate.md).
//
//	go run ./calibrate/cmd/validatekernel -host host.json -ptrace ptrace-inline.json [-plot FILE]
//
// Part 1, mainline uprobes: every fixture case runs natively under a real
// uprobe (perf probe -x, counted by perf stat) and without it, -repeat
// times each, and under probesim with --strategy xol and the host profile.
// It prints per case the hits (which must be equal), the measured per-hit
// overhead (median host time with the probe minus without, divided by the
// hits), the predicted one (simulated time with minus without, divided by
// the hits, median over -seeds) and their ratio.
//
// Part 2, the inline mechanism: the threads fixture with two threads runs
// on 2 CPUs under the ptrace tracer of cmd/ptrace-inline at several duty
// cycles (its WORK argument), and under probesim with --strategy inline and
// the ptrace-inline profile; it prints the measured and predicted miss
// rates (misses = calls the program counted - hits) and window lengths, and
// draws them (-plot).
//
// It needs root, perf (Debian: linux-perf) and the uprobe PMU, and says in
// one line which is missing. Every probe it creates is in a group named
// after its pid and is deleted before it exits, on success, on failure and
// on SIGINT or SIGTERM. Exit status: 0 when every case's hits are equal,
// 1 when some are not, 2 on any error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/probesim/probesim/calibrate"
	"github.com/probesim/probesim/internal/perfprobe"
	"github.com/probesim/probesim/timing"
)

type options struct {
	host, ptrace, fixtures, plot, jsonOut string
	repeat, seeds                         int
	quick                                 bool
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("validatekernel", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.host, "host", "", "host profile from probesim calibrate --out (required)")
	fs.StringVar(&o.ptrace, "ptrace", "", "ptrace-inline profile from probesim calibrate --ptrace-out (required)")
	fs.StringVar(&o.fixtures, "fixtures", "fixtures/bin/x86_64", "directory of the x86-64 fixture binaries")
	fs.StringVar(&o.plot, "plot", "bin/validate-kernel-inline.svg", "draw the inline miss rates into this .svg or .png")
	fs.StringVar(&o.jsonOut, "json", "bin/validate-kernel.json", "write every result as JSON here")
	fs.IntVar(&o.repeat, "repeat", 5, "native runs per case and setting")
	fs.IntVar(&o.seeds, "seeds", 3, "probesim seeds per case")
	fs.BoolVar(&o.quick, "quick", false, "fewer calls per run (a smoke test, noisier)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.host == "" || o.ptrace == "" || fs.NArg() != 0 || o.repeat < 1 || o.seeds < 1 {
		fmt.Fprintln(stderr, "validatekernel: usage: validatekernel -host FILE -ptrace FILE [-plot FILE] [-repeat N] [-seeds N]")
		return 2
	}
	if why := perfprobe.Preflight(os.Geteuid(), exec.LookPath, calibrate.UprobePMUTypePath); why != "" {
		fmt.Fprintln(stderr, "validatekernel: "+why)
		return 2
	}
	host, err := timing.LoadProfile(o.host)
	if err == nil {
		var pi *timing.Profile
		if pi, err = timing.LoadProfile(o.ptrace); err == nil {
			var ok bool
			ok, err = validate(o, host, pi, stdout, stderr)
			if err == nil && !ok {
				return 1
			}
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "validatekernel: "+err.Error())
		return 2
	}
	return 0
}

func validate(o options, host, pi *timing.Profile, stdout, stderr io.Writer) (bool, error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	probes := perfprobe.NewGroup(fmt.Sprintf("probesim_vk%d", os.Getpid()))
	// Deleted on every way out: the deferred call after success or
	// failure, and the signal handler's context ends every command first.
	defer func() {
		if err := probes.DeleteAll(); err != nil {
			fmt.Fprintln(stderr, "validatekernel: "+err.Error())
		}
	}()
	cases := uprobeCases(o.fixtures, o.quick)
	rows, err := runUprobeCases(ctx, o, host, probes, cases, stderr)
	if err != nil {
		return false, interrupted(ctx, err)
	}
	writeUprobeTable(stdout, host, rows)
	inline, err := runInline(ctx, o, pi, stderr)
	if err != nil {
		return false, interrupted(ctx, err)
	}
	writeInlineTable(stdout, inline)
	if o.plot != "" {
		if err := plotInline(o.plot, pi, inline); err != nil {
			return false, err
		}
		fmt.Fprintf(stdout, "plot: %s\n", o.plot)
	}
	if o.jsonOut != "" {
		if err := writeJSON(o.jsonOut, host, pi, rows, inline); err != nil {
			return false, err
		}
	}
	ok := true
	for _, r := range rows {
		ok = ok && r.Hits == r.SimHits
	}
	return ok, nil
}

func interrupted(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return errors.New("interrupted; the probes it made are deleted")
	}
	return err
}

func fixture(dir, name string) string { return filepath.Join(dir, name) }
