package demo

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// textWidth is the width the prose is wrapped to.
const textWidth = 78

// intro says what the demo is about and what runs, in one paragraph the
// text and the HTML share.
func (d *Demo) intro() string {
	o := d.Options
	w := o.Workload
	probe := callName(w.Probe)
	var names []string
	for _, s := range o.Strategies {
		names = append(names, string(s))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "A uprobe on %s replaces the first byte of its instruction with int3, so every "+
		"execution traps and the probe handler runs. The instruction must still execute: the inline "+
		"strategy puts the original byte back and single-steps it in place; ssol-stack single-steps a "+
		"copy on the trapping thread's stack, and xol (mainline Linux's) a copy in an executable page of "+
		"its own. On SMP, while the original byte is back, other vCPUs can run the instruction without "+
		"trapping: a miss. ", probe)
	if w.builtin() {
		fmt.Fprintf(&b, "The workload, %s, is embedded in probesim (fixtures/src/c/threads.c, static "+
			"x86-64, musl): %d threads each call %s %s times, so the probe should see %s calls. ",
			w.CommandLine(), w.Threads, probe, num(uint64(w.Calls)), num(uint64(w.Threads*w.Calls)))
	} else {
		fmt.Fprintf(&b, "The workload is %s. ", w.CommandLine())
	}
	fmt.Fprintf(&b, "Each row is one run: %s on %s, seed %d.", joinAnd(names), joinAnd(cpuNames(o.CPUs)), o.Seed)
	return b.String()
}

// callName is how the prose names a probe: a symbol as a call,
// "probed()"; an offset or an address as written.
func callName(spec string) string {
	if strings.Contains(spec, "+") || strings.HasPrefix(spec, "0x") || strings.HasPrefix(spec, "0X") {
		return spec
	}
	return spec + "()"
}

// cpuNames spell vCPU counts: "1 vCPU", "4 vCPUs".
func cpuNames(cpus []int) []string {
	out := make([]string, len(cpus))
	for i, n := range cpus {
		out[i] = vcpuHeading(strconv.Itoa(n))
	}
	return out
}

// columnNotes explain the table's columns.
func (d *Demo) columnNotes() string {
	check := "the program exited 0"
	if d.Options.Workload.builtin() {
		check = "the program's own count of its calls equals the executions and it exited 0"
	}
	return "executions: times the probed instruction ran; each is a hit (int3 trapped, the handler " +
		"ran) or a miss (it ran without a trap). cycles/hit: what a hit costs the trapping vCPU. " +
		"run cycles: the run's simulated time. ✓: " + check + "."
}

// WriteText writes the demo for a terminal: the table, the timeline of
// the miss and the walkthrough. color adds ANSI colours.
func (d *Demo) WriteText(w io.Writer, color bool) error {
	pal := palette{on: color}
	var b strings.Builder
	para := func(text string) {
		for _, l := range wrap(text, textWidth) {
			b.WriteString(l + "\n")
		}
		b.WriteString("\n")
	}
	heading := func(text string) {
		b.WriteString(pal.paint(sgrBold, text) + "\n\n")
	}
	heading("probesim demo: the uprobe miss window on SMP")
	para(d.intro())
	b.WriteString(renderTable(d.columns(), pal) + "\n")
	para(d.columnNotes())

	s := d.Story
	if s == nil {
		para(d.NoStory)
		_, err := io.WriteString(w, b.String())
		return err
	}
	heading(fmt.Sprintf("One real miss: inline on %d vCPUs, cycles %s to %s", s.CPUs, num(s.From), num(s.To)))
	b.WriteString(renderTimeline(s, pal) + "\n")
	b.WriteString(legend(s.Probe, true, pal) + "\n")
	heading("What happened")
	for _, p := range d.walkthrough() {
		para(p)
	}
	b.WriteString(pal.paint(sgrDim, "The same timeline, zoomable: probesim demo --html demo.html") + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}
