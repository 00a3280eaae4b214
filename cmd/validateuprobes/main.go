// Command validateuprobes compares probesim's probe counts with real Linux
// uprobes on the same files (`make validate-uprobes`;
// docs/validate-uprobes.md).
//
//	go run ./cmd/validateuprobes [-json FILE] [-run REGEXP]
//
// For every row of its table (cases.go: a fixture, its arguments, a probe
// spec) it runs the fixture natively under a uprobe that perf probe -x
// places at the spec's file offset, counted by perf stat -e, and under
// probesim (the root package's Run) with --strategy xol, and prints the
// Linux hits, probesim's executions (hits + misses), the program's own
// count where it prints one, and whether they are equal. The table has
// probes in the main program and in libc.so.6 (malloc, free, and functions
// the threads call), static and dynamically linked fixtures, x86-64 and
// i386. A LOCK-prefixed instruction, which Linux refuses to probe (0 hits),
// is "refused by Linux", not a mismatch. A row probesim cannot run (a spec
// or program it refuses) shows probesim's one-line error.
//
// It needs root, perf (Debian: linux-perf) and the uprobe PMU
// (/sys/bus/event_source/devices/uprobe), and says in one line which is
// missing (exit 2). Every probe it creates is in the group
// probesim_validate<pid> and is deleted before it exits, on success, on
// failure and on SIGINT, SIGTERM or SIGHUP. Exit status: 0 when every row
// is equal or refused by Linux, 1 when some row is not, 2 on any other
// error.
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
	"regexp"
	"syscall"

	"github.com/probesim/probesim/calibrate"
	"github.com/probesim/probesim/fixtures"
	"github.com/probesim/probesim/internal/perfprobe"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validateuprobes", flag.ContinueOnError)
	fs.SetOutput(stderr)
	jsonOut := fs.String("json", "", "also write every row as JSON to this file")
	only := fs.String("run", "", "run only the rows whose ARCH/FIXTURE PROBE matches this regular expression")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintln(stderr, "validateuprobes: usage: validateuprobes [-json FILE] [-run REGEXP]")
		return 2
	}
	selected, err := selectCases(cases(), *only)
	if err != nil {
		fmt.Fprintln(stderr, "validateuprobes: "+err.Error())
		return 2
	}
	if why := perfprobe.Preflight(os.Geteuid(), exec.LookPath, calibrate.UprobePMUTypePath); why != "" {
		fmt.Fprintln(stderr, "validateuprobes: "+why)
		return 2
	}
	if _, err := fixtures.Dir(); err != nil {
		fmt.Fprintln(stderr, "validateuprobes: "+err.Error()+" (run it from the checkout, after make fixtures)")
		return 2
	}
	ok, err := validate(selected, *jsonOut, stdout, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "validateuprobes: "+err.Error())
		return 2
	}
	if !ok {
		return 1
	}
	return 0
}

// selectCases keeps the rows whose "ARCH/FIXTURE PROBE" matches pattern
// ("" keeps all).
func selectCases(all []probeCase, pattern string) ([]probeCase, error) {
	if pattern == "" {
		return all, nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("-run: %v", err)
	}
	var out []probeCase
	for _, c := range all {
		probe := c.Probe
		if c.Lock != "" {
			probe = c.Lock + "+lock"
		}
		if re.MatchString(c.Arch + "/" + c.Fixture + " " + probe) {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-run %q matches no row", pattern)
	}
	return out, nil
}

func validate(cs []probeCase, jsonOut string, stdout, stderr io.Writer) (bool, error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	probes := perfprobe.NewGroup(fmt.Sprintf("probesim_validate%d", os.Getpid()))
	// Deleted on every way out: after the last row, after an error, and
	// after a signal, which ends the running command or simulation first.
	defer func() {
		if err := probes.DeleteAll(); err != nil {
			fmt.Fprintln(stderr, "validateuprobes: "+err.Error())
		}
	}()
	var rows []row
	for i, c := range cs {
		r := runCase(ctx, c, i, probes, stderr)
		if ctx.Err() != nil {
			return false, errors.New("interrupted; the probes it made are deleted")
		}
		r.Result, r.OK = verdict(r)
		rows = append(rows, r)
	}
	writeTable(stdout, rows)
	if jsonOut != "" {
		if err := writeJSON(jsonOut, rows); err != nil {
			return false, err
		}
	}
	ok := true
	for _, r := range rows {
		ok = ok && r.OK
	}
	return ok, nil
}
