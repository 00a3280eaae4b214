package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/probesim/probesim"
	"github.com/probesim/probesim/fixtures"
	"github.com/probesim/probesim/internal/perfprobe"
)

// runCase fills one row: the fixture natively under a perf probe at the
// site, then under probesim with the spec and --strategy xol. A failure of
// either side is the row's, not the run's: the other rows still run.
func runCase(ctx context.Context, c probeCase, index int, probes *perfprobe.Group, log io.Writer) row {
	r := row{Arch: c.Arch, Fixture: c.Fixture, Args: append([]string{}, c.Args...), Probe: c.Probe}
	if c.Lock != "" {
		r.Probe = c.Lock + "+lock"
	}
	prog, err := fixtures.Path(c.Arch, c.Fixture)
	if err != nil {
		r.SetupError = err.Error()
		return r
	}
	prog = relative(prog)
	s, err := locate(c, prog)
	if err != nil {
		r.SetupError = err.Error()
		return r
	}
	r.Probe, r.File, r.FileOffset, r.Instruction, r.LockPrefixed = s.Spec, s.Place.File, s.Place.FileOffset, s.Insn, s.Lock

	fmt.Fprintf(log, "validateuprobes: %s/%s %s: native, perf probe -x %s at %#x\n", c.Arch, c.Fixture, r.Probe, r.File, r.FileOffset)
	event, err := probes.AddAt(ctx, s.Place.File, s.Place.FileOffset, fmt.Sprintf("row%d", index), s.Spec)
	if err == nil {
		var out bytes.Buffer
		var hits uint64
		stat := perfprobe.Stat
		if c.Processes {
			stat = perfprobe.StatSystemWide
		}
		hits, _, err = stat(ctx, event, prog, c.Args, &out)
		if err == nil {
			r.LinuxHits = &hits
			if c.Count != nil {
				r.ProgramCount, err = programCount(c.Count, out.Bytes())
			}
		}
	}
	if err != nil {
		r.LinuxError = err.Error()
	}

	fmt.Fprintf(log, "validateuprobes: %s/%s %s: probesim --strategy xol --cpus %d\n", c.Arch, c.Fixture, r.Probe, c.CPUs)
	res, err := probesim.Run(ctx, probesim.Config{Program: prog, Args: c.Args, CPUs: c.CPUs, Seed: 1,
		Strategy: probesim.XOL, Probes: []string{s.Spec}})
	switch {
	case err != nil:
		r.ProbesimError = oneLine(err.Error())
	case res.Report.ExitStatus != 0:
		r.ProbesimError = fmt.Sprintf("the guest exited with status %d", res.Report.ExitStatus)
	case len(res.Report.Probes) != 1:
		r.ProbesimError = fmt.Sprintf("%d probes in the report", len(res.Report.Probes))
	default:
		p := res.Report.Probes[0]
		r.ProbesimExecutions, r.ProbesimHits, r.ProbesimMisses = &p.Executions, p.Hits, p.Misses
		for k := range res.Report.UnsupportedSyscalls {
			r.Unsupported = append(r.Unsupported, k)
		}
		slices.Sort(r.Unsupported)
	}
	return r
}

// programCount is the program's own count, from its standard output.
func programCount(re *regexp.Regexp, out []byte) (*uint64, error) {
	m := re.FindSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("no count in the program's output %q", perfprobe.FirstLine(out))
	}
	n, err := strconv.ParseUint(string(m[1]), 10, 64)
	if err != nil {
		return nil, err
	}
	return &n, nil
}

// relative is path relative to the working directory when it is below it
// (the fixtures, run from the checkout), so that the table and the JSON do
// not depend on where the checkout is.
func relative(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	rel, err := filepath.Rel(wd, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return path
	}
	return "./" + rel
}

func oneLine(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "\n", " ") }
