// Command ptrace-inline runs a program under a ptrace tracer that probes
// one function with the seed's inline single-step: on every hit the
// original byte goes back, the thread steps it in place and int3 is
// written again, while the other threads run (internal/ptraceinline).
// It measures, on the real kernel, the hits an inline strategy sees;
// the program's own count of executions gives the misses.
//
//	ptrace-inline [--json FILE] --probe SYMBOL PROGRAM [ARGS...]
//
// The program's output passes through. The summary goes to standard
// error, and as JSON to --json FILE. The program must be a static
// (ET_EXEC) x86-64 executable whose symbol table has SYMBOL. Exit status:
// the program's, or 125 for the tool's own errors. Needs ptrace
// permission over its own children (the default Yama scope allows it).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/probesim/probesim/internal/ptraceinline"
)

const exitUsage = 125

// summary is the --json document.
type summary struct {
	Program       string   `json:"program"`
	Args          []string `json:"args"`
	Probe         string   `json:"probe"`
	Address       uint64   `json:"address"`
	Hits          uint64   `json:"hits"`
	Queued        uint64   `json:"queued"`
	Threads       int      `json:"threads"`
	Windows       int      `json:"windows_sampled"`
	WindowTotalNS uint64   `json:"window_total_ns"`
	WindowMedNS   uint64   `json:"window_median_ns"`
	ElapsedNS     int64    `json:"elapsed_ns"`
	ExitStatus    int      `json:"exit_status"`
}

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	fs := flag.NewFlagSet("ptrace-inline", flag.ContinueOnError)
	probe := fs.String("probe", "", "function `SYMBOL` to probe")
	jsonPath := fs.String("json", "", "write the summary as JSON to `FILE`")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *probe == "" || fs.NArg() < 1 {
		fmt.Fprintln(os.Stderr, "ptrace-inline: usage: ptrace-inline [--json FILE] --probe SYMBOL PROGRAM [ARGS...]")
		return exitUsage
	}
	prog := fs.Arg(0)
	addr, err := ptraceinline.SymbolAddr(prog, *probe)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ptrace-inline: %v\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := ptraceinline.Run(ctx, ptraceinline.Config{Program: prog, Args: fs.Args()[1:], Addr: addr,
		Stdout: os.Stdout, Stderr: os.Stderr})
	if err != nil {
		fmt.Fprintf(os.Stderr, "ptrace-inline: %v\n", err)
		return exitUsage
	}
	s := summary{Program: prog, Args: append([]string{}, fs.Args()[1:]...), Probe: *probe, Address: addr,
		Hits: res.Hits, Queued: res.Queued, Threads: res.Threads, Windows: len(res.WindowSamplesNS),
		WindowTotalNS: res.WindowTotalNS, WindowMedNS: median(res.WindowSamplesNS),
		ElapsedNS: res.Elapsed.Nanoseconds(), ExitStatus: res.ExitStatus}
	fmt.Fprintf(os.Stderr, "ptrace-inline: probe %s (%#x): %d hits (%d waited for another step), %d threads, window median %d ns, %.3f s\n",
		s.Probe, s.Address, s.Hits, s.Queued, s.Threads, s.WindowMedNS, res.Elapsed.Seconds())
	if *jsonPath != "" {
		data, _ := json.MarshalIndent(s, "", "  ")
		if err := os.WriteFile(*jsonPath, append(data, '\n'), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "ptrace-inline: --json: %v\n", err)
			return exitUsage
		}
	}
	return res.ExitStatus
}

func median(v []uint64) uint64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
