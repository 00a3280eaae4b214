package demo

import (
	"strconv"
	"strings"
)

// trialCells is one trial, a column of the table, formatted once for both
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
	Output     string // the program's own count, "calls=N ✓"
	Missed     bool   // some calls went unseen
	OutputOK   bool
}

// tableMetrics are the table's rows: a heading and how to read it off
// a column.
var tableMetrics = []struct {
	name string
	cell func(trialCells) string
}{
	{"executions", func(r trialCells) string { return r.Executions }},
	{"hits", func(r trialCells) string { return r.Hits }},
	{"misses", func(r trialCells) string { return r.Misses }},
	{"miss rate", func(r trialCells) string { return r.MissRate }},
	{"cycles per hit", func(r trialCells) string { return r.PerHit }},
	{"run cycles", func(r trialCells) string { return r.RunCycles }},
	{"program output", func(r trialCells) string { return r.Output }},
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
	out := "no calls= line ✗"
	if calls, ok := t.ProgramCalls(); ok {
		mark := " ✓"
		if !t.OutputAgrees() {
			mark = " ✗"
		}
		out = "calls=" + strconv.FormatUint(calls, 10) + mark
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
		Output:     out,
		Missed:     p.Misses > 0,
		OutputOK:   t.OutputAgrees(),
	}
}

// vcpuHeading is the heading of a group of columns: "1 vCPU", "4 vCPUs".
func vcpuHeading(cpus string) string {
	if cpus == "1" {
		return "1 vCPU"
	}
	return cpus + " vCPUs"
}

// renderTable lays the trials out side by side, one column each, under a
// heading per vCPU count; misses are red, the output check green or red.
func renderTable(rows []trialCells, pal palette) string {
	labelW := 0
	for _, m := range tableMetrics {
		labelW = max(labelW, width(m.name))
	}
	colW := 0
	for _, r := range rows {
		colW = max(colW, width(r.Strategy))
		for _, m := range tableMetrics {
			colW = max(colW, width(m.cell(r)))
		}
	}
	const gap = "  "
	var b strings.Builder
	// The vCPU headings, over the columns of their group.
	b.WriteString(strings.Repeat(" ", labelW))
	for i := 0; i < len(rows); {
		j := i
		for j < len(rows) && rows[j].VCPUs == rows[i].VCPUs {
			j++
		}
		span := (j-i)*(colW+len(gap)) - len(gap)
		h := vcpuHeading(rows[i].VCPUs)
		rule := strings.Repeat("─", max(0, span-width(h)-1))
		b.WriteString(gap + pal.paint(sgrBold, h) + " " + pal.paint(sgrDim, rule))
		i = j
	}
	b.WriteString("\n" + strings.Repeat(" ", labelW))
	for _, r := range rows {
		b.WriteString(gap + pal.paint(sgrBold, padLeft(r.Strategy, colW)))
	}
	b.WriteString("\n")
	for mi, m := range tableMetrics {
		b.WriteString(padRight(m.name, labelW))
		for _, r := range rows {
			c := padLeft(m.cell(r), colW)
			switch {
			case (mi == 2 || mi == 3) && r.Missed:
				c = pal.paint(sgrMiss, c)
			case mi == len(tableMetrics)-1 && r.OutputOK:
				c = pal.paint(sgrHit, c)
			case mi == len(tableMetrics)-1:
				c = pal.paint(sgrMiss, c)
			}
			b.WriteString(gap + c)
		}
		b.WriteString("\n")
	}
	return b.String()
}
