package demo

import (
	"fmt"
	"io"
	"strings"
)

// textWidth is the width the prose is wrapped to.
const textWidth = 78

// intro says what the demo is about and what runs, in one paragraph the
// text and the HTML share.
func (d *Demo) intro() string {
	w := d.Workload
	return fmt.Sprintf("A uprobe on %[1]s() replaces the first byte of its first instruction "+
		"with int3, so every call traps and the probe handler runs. The instruction must "+
		"still execute: the inline strategy puts the original byte back and single-steps it "+
		"in place, ssol-stack single-steps a copy of it out of line. On SMP, while the "+
		"original byte is back, other vCPUs can run %[1]s() without trapping: a miss. "+
		"The workload, %[2]s, is embedded in probesim (fixtures/src/c/threads.c, static "+
		"x86-64, musl): %[3]d threads each call %[1]s() %[4]s times, so the probe should see "+
		"%[5]s calls. Each column is one run, with seed %[6]d.",
		w.Probe, w.CommandLine(), w.Threads, num(uint64(w.Calls)), num(uint64(w.Threads*w.Calls)), w.Seed)
}

// columnNotes explain the table's columns.
const columnNotes = "executions: calls of probed() probesim saw run; each is a hit (int3 " +
	"trapped, the handler ran) or a miss (it ran without a trap). cycles per hit: what a hit " +
	"costs the trapping vCPU. run cycles: the run's simulated time. program output: the " +
	"program's own count of its calls, which must equal the executions."

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
	para(columnNotes)

	s := d.Story
	heading(fmt.Sprintf("One real miss: inline on %d vCPUs, cycles %s to %s", s.CPUs, num(s.From), num(s.To)))
	b.WriteString(renderTimeline(s, pal) + "\n")
	b.WriteString(legend(s.Probe, pal) + "\n")
	heading("What happened")
	for _, p := range d.walkthrough() {
		para(p)
	}
	b.WriteString(pal.paint(sgrDim, "The same timeline, zoomable: probesim demo --html demo.html") + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}
