package demo

import (
	"strconv"
	"strings"
)

// trialCells is one trial, a row of the table, formatted once for both
// the text and the HTML page.
type trialCells struct {
	Strategy   string
	VCPUs      string
	Executions string
	Hits       string
	Misses     string
	MissRate   string
	PerHit     string // overhead cycles per hit
	RunCycles  string // the run's simulated time
	Check      string // ✓ or ✗: the program's output agrees
	CheckTitle string // what was checked
	Missed     bool   // some executions went unseen
	OutputOK   bool
}

// tableColumns are the table's columns after the vCPU count: a heading
// and how to read the cell off a row.
var tableColumns = []struct {
	name string
	cell func(trialCells) string
}{
	{"strategy", func(r trialCells) string { return r.Strategy }},
	{"executions", func(r trialCells) string { return r.Executions }},
	{"hits", func(r trialCells) string { return r.Hits }},
	{"misses", func(r trialCells) string { return r.Misses + " (" + r.MissRate + ")" }},
	{"cycles/hit", func(r trialCells) string { return r.PerHit }},
	{"run cycles", func(r trialCells) string { return r.RunCycles }},
	{"✓", func(r trialCells) string { return r.Check }},
}

func (d *Demo) columns() []trialCells {
	rows := make([]trialCells, 0, len(d.Trials))
	for i := range d.Trials {
		rows = append(rows, newTrialCells(&d.Trials[i]))
	}
	return rows
}

func newTrialCells(t *Trial) trialCells {
	p := t.Probe()
	title := "exit " + strconv.Itoa(t.Report.ExitStatus)
	if t.builtin {
		if calls, ok := t.ProgramCalls(); ok {
			title = "calls=" + strconv.FormatUint(calls, 10) + ", " + title
		} else {
			title = "no calls= line, " + title
		}
	}
	check := "✗"
	if t.OutputAgrees() {
		check = "✓"
	}
	return trialCells{
		Strategy:   string(t.Strategy),
		VCPUs:      strconv.Itoa(t.CPUs),
		Executions: num(p.Executions),
		Hits:       num(p.Hits),
		Misses:     num(p.Misses),
		MissRate:   percent(p.Misses, p.Executions),
		PerHit:     num(p.OverheadCycles.PerHit),
		RunCycles:  num(t.Report.Cycles),
		Check:      check,
		CheckTitle: title,
		Missed:     p.Misses > 0,
		OutputOK:   t.OutputAgrees(),
	}
}

// vcpuHeading is the heading of a group of rows: "1 vCPU", "4 vCPUs".
func vcpuHeading(cpus string) string {
	if cpus == "1" {
		return "1 vCPU"
	}
	return cpus + " vCPUs"
}

// renderTable lays the trials out one per row, grouped by vCPU count (the
// count written on the group's first row): misses are red, the check
// green or red. It stays within 80 columns for the default demo.
func renderTable(rows []trialCells, pal palette) string {
	headW := 0
	for _, r := range rows {
		headW = max(headW, width(vcpuHeading(r.VCPUs)))
	}
	widths := make([]int, len(tableColumns))
	for i, c := range tableColumns {
		widths[i] = width(c.name)
		for _, r := range rows {
			widths[i] = max(widths[i], width(c.cell(r)))
		}
	}
	const gap = "  "
	var b strings.Builder
	b.WriteString(strings.Repeat(" ", headW))
	for i, c := range tableColumns {
		cell := padLeft(c.name, widths[i])
		if i == 0 {
			cell = padRight(c.name, widths[i])
		}
		b.WriteString(gap + pal.paint(sgrBold, cell))
	}
	b.WriteString("\n")
	for k, r := range rows {
		head := ""
		if k == 0 || rows[k-1].VCPUs != r.VCPUs {
			head = vcpuHeading(r.VCPUs)
		}
		b.WriteString(pal.paint(sgrBold, padRight(head, headW)))
		for i, c := range tableColumns {
			cell := padLeft(c.cell(r), widths[i])
			switch {
			case i == 0:
				cell = padRight(c.cell(r), widths[i])
			case c.name == "misses" && r.Missed:
				cell = pal.paint(sgrMiss, cell)
			case c.name == "✓" && r.OutputOK:
				cell = pal.paint(sgrHit, cell)
			case c.name == "✓":
				cell = pal.paint(sgrMiss, cell)
			}
			b.WriteString(gap + cell)
		}
		b.WriteString("\n")
	}
	return b.String()
}
