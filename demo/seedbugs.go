package demo

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/probesim/probesim"
	"github.com/probesim/probesim/report"
)

// The demo's optional part (probesim demo --seed-bugs): the seed's code as
// posted in 2005 (ssol-stack-2005, probes/seed2005.go) going wrong, and
// the 2006 repost's global lock (ssol-stack-2006, probes/seedlock.go)
// that fixed its SMP race at a price. Each runs the workload on one vCPU
// and on several; the reference is the same program run without probes.
// What the runs show is measured, not scripted: the defects are the ones
// the engine detected where they happened (the report's
// out_of_line.seed_defects), and the explanation below the table is
// written only for the kinds that occurred.

// SeedStrategies are the seed's two historical variants, in the order the
// part shows them.
var SeedStrategies = []probesim.Strategy{probesim.SSOLStack2005, probesim.SSOLStack2006}

// SeedRun is one run of a seed variant.
type SeedRun struct {
	Strategy probesim.Strategy
	CPUs     int
	Report   *report.Run
}

// SeedBugs is the part's runs and their reference.
type SeedBugs struct {
	// Command is how the part shows the workload: "threads 4 1000".
	Command string
	// Probe is the probe spec every run places.
	Probe string
	// Reference is the workload run without probes on one vCPU.
	Reference *report.Run
	Runs      []SeedRun
}

// RunSeedBugsWorkload runs the part on the demo's workload w, with seed.
func RunSeedBugsWorkload(ctx context.Context, w Workload, seed uint64, cpus []int) (*SeedBugs, error) {
	return RunSeedBugs(ctx, probesim.Config{Program: w.Path, Image: w.Image, Args: w.Args, Seed: seed,
		Probes: []string{w.Probe}}, w.CommandLine(), cpus)
}

// RunSeedBugs runs base (a workload with one probe, its Strategy and CPUs
// ignored) without probes, then with each seed variant on each vCPU count.
func RunSeedBugs(ctx context.Context, base probesim.Config, command string, cpus []int) (*SeedBugs, error) {
	if len(base.Probes) != 1 {
		return nil, fmt.Errorf("demo --seed-bugs: want one probe, have %d", len(base.Probes))
	}
	sb := &SeedBugs{Command: command, Probe: base.Probes[0]}
	ref := base
	ref.Probes, ref.Strategy, ref.CPUs = nil, "", 1
	res, err := probesim.Run(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("demo --seed-bugs: the run without probes: %w", err)
	}
	sb.Reference = res.Report
	for _, s := range SeedStrategies {
		for _, n := range cpus {
			cfg := base
			cfg.Strategy, cfg.CPUs = s, n
			res, err := probesim.Run(ctx, cfg)
			if err != nil {
				return nil, fmt.Errorf("demo --seed-bugs: %s on %d vCPUs: %w", s, n, err)
			}
			sb.Runs = append(sb.Runs, SeedRun{Strategy: s, CPUs: n, Report: res.Report})
		}
	}
	return sb, nil
}

// outcome is how a run ended, as the table shows it.
func outcome(r *report.Run) string {
	switch {
	case r.Signal != nil:
		return *r.Signal
	case r.StopReason == "exit":
		return fmt.Sprintf("exit %d", r.ExitStatus)
	}
	return r.StopReason
}

// AsUnprobed says whether the run ended as the run without probes did,
// with the same output.
func (sb *SeedBugs) AsUnprobed(r *report.Run) bool {
	ref := sb.Reference
	return r.StopReason == ref.StopReason && r.ExitStatus == ref.ExitStatus &&
		r.Stdout == ref.Stdout && r.Stderr == ref.Stderr
}

// defects is the run's seed defects (zero for ssol-stack-2006).
func defects(r *report.Run) report.SeedDefects {
	if r.OutOfLine == nil || r.OutOfLine.SeedDefects == nil {
		return report.SeedDefects{}
	}
	return *r.OutOfLine.SeedDefects
}

// defectKinds are the 2005 code's defects: a column title, the count, and
// why the posted code does it.
var defectKinds = []struct {
	title string
	count func(report.SeedDefects) uint64
	why   string
}{
	{"live stack", func(d report.SeedDefects) uint64 { return d.LiveStackCopies },
		"PAGE_ALIGN(esp) rounds up, so the copy goes above esp, over live stack frames (and the free-space check, unsigned, always passes)"},
	{"no copy", func(d report.SeedDefects) uint64 { return d.EIPNotMoved },
		"with no VMA above PAGE_ALIGN(esp), or a copy that faults (a thread's mmapped stack, taken to grow up), the code returns before moving eip: the thread steps from inside the probed instruction"},
	{"foreign", func(d report.SeedDefects) uint64 { return d.ForeignSinglestepAddr },
		"singlestep_addr and uprobe_addr are globals for all CPUs: a fixup computed the new eip from another hit's copy"},
	{"no fixup", func(d report.SeedDefects) uint64 { return d.MissingFixups },
		"\"TODO : need to fixup special instructions\": a call's return address or an absolute target got only the delta"},
}

// WriteText writes the part as text, 80 columns wide.
func (sb *SeedBugs) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "The seed as posted (2005), and the 2006 repost's lock\n%s, probe on %s\n\n", sb.Command, sb.Probe)
	fmt.Fprintf(&b, "%-15s %4s %-8s %-6s %6s %5s %6s %7s %5s %8s\n",
		"strategy", "cpus", "outcome", "output", "hits", "live", "nocopy", "foreign", "nofix", "spin cyc")
	for _, r := range sb.Runs {
		d := defects(r.Report)
		out := "wrong"
		if sb.AsUnprobed(r.Report) {
			out = "right"
		}
		var hits uint64
		for _, p := range r.Report.Probes {
			hits += p.Hits
		}
		var spin uint64
		if o := r.Report.OutOfLine; o != nil {
			spin = o.LockSpinCycles
		}
		fmt.Fprintf(&b, "%-15s %4d %-8s %-6s %6d %5d %6d %7d %5d %8s\n", r.Strategy, r.CPUs, outcome(r.Report), out, hits,
			d.LiveStackCopies, d.EIPNotMoved, d.ForeignSinglestepAddr, d.MissingFixups, compactCycles(spin))
	}
	fmt.Fprintf(&b, "\noutput: right = the same exit and output as the run without probes (%s);\n"+
		"live, nocopy, foreign, nofix: the 2005 code's defects, below; spin cyc: the\n"+
		"cycles vCPUs spun for the 2006 lock.\n", outcome(sb.Reference))
	sb.writeDefects(&b)
	sb.writeLock(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeDefects explains the defects the 2005 runs showed, with the first
// examples of the run on the most vCPUs.
func (sb *SeedBugs) writeDefects(b *strings.Builder) {
	var last *SeedRun
	var total report.SeedDefects
	for i := range sb.Runs {
		r := &sb.Runs[i]
		if r.Strategy != probesim.SSOLStack2005 {
			continue
		}
		d := defects(r.Report)
		total.LiveStackCopies += d.LiveStackCopies
		total.EIPNotMoved += d.EIPNotMoved
		total.ForeignSinglestepAddr += d.ForeignSinglestepAddr
		total.MissingFixups += d.MissingFixups
		last = r
	}
	if last == nil {
		return
	}
	b.WriteString("\nWhat the 2005 code did wrong, detected where it happened:\n")
	any := false
	for _, k := range defectKinds {
		if k.count(total) > 0 {
			any = true
			bullet(b, k.title+": "+k.why+".")
		}
	}
	if !any {
		b.WriteString("  - nothing in these runs.\n")
		return
	}
	if total.ForeignSinglestepAddr == 0 {
		text := "No fixup read another hit's globals in these runs: the race needs two hits in flight at once, " +
			"and here the defects above ended the program first."
		b.WriteString("  " + strings.Join(wrap(text, 76), "\n  ") + "\n")
	}
	fmt.Fprintf(b, "\nOn %d vCPUs, in order:\n", last.CPUs)
	lines := defects(last.Report).Examples
	if f := last.Report.Fault; f != nil {
		lines = append(lines, "then the kernel: "+f.Message)
	}
	for _, e := range lines {
		bullet(b, e)
	}
}

// bullet writes text as a list item, wrapped to 80 columns.
func bullet(b *strings.Builder, text string) {
	b.WriteString("  - " + strings.Join(wrap(text, 76), "\n    ") + "\n")
}

// writeLock sums up what the 2006 lock cost.
func (sb *SeedBugs) writeLock(b *strings.Builder) {
	for _, r := range sb.Runs {
		if r.Strategy != probesim.SSOLStack2006 || r.CPUs == 1 {
			continue
		}
		o := r.Report.OutOfLine
		var spins, cycles uint64
		if o != nil {
			spins, cycles = o.LockSpins, o.LockSpinCycles
		}
		busy := r.Report.Cycles * uint64(r.CPUs)
		result := "the output is right"
		if !sb.AsUnprobed(r.Report) {
			result = "yet the output differs from the run without probes"
		}
		text := fmt.Sprintf("The 2006 repost holds one global spinlock, interrupts off, from the int3 to the end of the step: "+
			"on %d vCPUs %s hits spun for it, %s cycles in all (%s of the vCPUs' time), and %s.",
			r.CPUs, num(spins), num(cycles), percent(cycles, busy), result)
		b.WriteString("\n" + strings.Join(wrap(text, 78), "\n") + "\n")
	}
}

// compactCycles writes a cycle count in at most 8 columns: "-" for none.
func compactCycles(n uint64) string {
	switch {
	case n == 0:
		return "-"
	case n < 10_000_000:
		return fmt.Sprint(n)
	}
	return fmt.Sprintf("%.1fM", float64(n)/1e6)
}
