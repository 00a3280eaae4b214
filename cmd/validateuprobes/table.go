package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
)

// row is one case's result, as the table and the JSON show it.
type row struct {
	Arch         string   `json:"arch"`
	Fixture      string   `json:"fixture"`
	Args         []string `json:"args"`
	Probe        string   `json:"probe"`
	File         string   `json:"file,omitempty"`
	FileOffset   uint64   `json:"file_offset,omitempty"`
	Instruction  string   `json:"instruction,omitempty"`
	LockPrefixed bool     `json:"lock_prefixed,omitempty"`
	// SetupError: the site could not be found (no fixture, no symbol).
	SetupError string `json:"setup_error,omitempty"`
	// LinuxHits is perf stat's count; LinuxError why there is none.
	LinuxHits  *uint64 `json:"linux_hits,omitempty"`
	LinuxError string  `json:"linux_error,omitempty"`
	// ProgramCount is the count the program printed of its own calls.
	ProgramCount *uint64 `json:"program_count,omitempty"`
	// ProbesimExecutions (hits + misses) under --strategy xol;
	// ProbesimError why there are none.
	ProbesimExecutions *uint64  `json:"probesim_executions,omitempty"`
	ProbesimHits       uint64   `json:"probesim_hits"`
	ProbesimMisses     uint64   `json:"probesim_misses"`
	ProbesimError      string   `json:"probesim_error,omitempty"`
	Unsupported        []string `json:"unsupported_syscalls,omitempty"`
	Result             string   `json:"result"`
	OK                 bool     `json:"ok"`
}

// Results of a row; an error's text follows its prefix.
const (
	resultEqual   = "equal"
	resultRefused = "refused by Linux"
	resultDiffer  = "DIFFER"
)

// verdict says what a row shows, and whether it is what Linux and
// probesim should agree on. A LOCK-prefixed instruction that Linux counted
// no hits of is refused by Linux (arch_uprobe_analyze_insn in
// arch/x86/kernel/uprobes.c rejects the prefix, so the probe is never
// installed), not a mismatch: probesim accepts it, and counts its
// executions. A program's own count, when it prints one, must equal both.
func verdict(r row) (string, bool) {
	switch {
	case r.SetupError != "":
		return "setup: " + r.SetupError, false
	case r.LinuxError != "":
		return "linux: " + r.LinuxError, false
	case r.ProbesimError != "":
		return "probesim: " + r.ProbesimError, false
	}
	linux, sim := *r.LinuxHits, *r.ProbesimExecutions
	if r.LockPrefixed && linux == 0 {
		if r.ProgramCount != nil && sim != *r.ProgramCount {
			return resultRefused + "; probesim DIFFERS from the program's count", false
		}
		return resultRefused, true
	}
	if linux != sim {
		d := resultDiffer
		if len(r.Unsupported) > 0 {
			d += " (ENOSYS: " + strings.Join(r.Unsupported, ",") + ")"
		}
		return d, false
	}
	if r.ProgramCount != nil && linux != *r.ProgramCount {
		return resultDiffer + " from the program's count", false
	}
	return resultEqual, true
}

func count(p *uint64) string {
	if p == nil {
		return "-"
	}
	return strconv.FormatUint(*p, 10)
}

// writeTable prints the rows, one line each, and a summary line.
func writeTable(w io.Writer, rows []row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "fixture\targs\tprobe\tinstruction\tLinux hits\tprobesim executions\tprogram's count\tresult")
	for _, r := range rows {
		insn := r.Instruction
		if insn == "" {
			insn = "-"
		}
		fmt.Fprintf(tw, "%s/%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Arch, r.Fixture, strings.Join(r.Args, " "), r.Probe, insn,
			count(r.LinuxHits), count(r.ProbesimExecutions), count(r.ProgramCount), r.Result)
	}
	tw.Flush()
	var equal, refused, bad int
	for _, r := range rows {
		switch {
		case !r.OK:
			bad++
		case r.Result == resultRefused:
			refused++
		default:
			equal++
		}
	}
	fmt.Fprintf(w, "%d rows: %d equal, %d refused by Linux, %d not equal or not run\n", len(rows), equal, refused, bad)
}

// writeJSON records the rows for CI artefacts.
func writeJSON(path string, rows []row) error {
	doc := struct {
		Strategy string `json:"strategy"`
		Rows     []row  `json:"rows"`
	}{Strategy: "xol", Rows: rows}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
