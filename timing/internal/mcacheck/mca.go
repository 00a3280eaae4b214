package mcacheck

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// MCA settings of the validation (see doc.go).
const (
	MCABinary     = "llvm-mca-14"
	MCACPU        = "skylake"
	MCAIterations = 100
)

// mcaTriple is the target triple llvm-mca assembles a block of mode for.
func mcaTriple(mode int) string {
	if mode == 32 {
		return "i386-unknown-linux-gnu"
	}
	return "x86_64-unknown-linux-gnu"
}

// MCACommand is the command line recorded in the golden file, with <arch> for the triple's
// architecture.
func MCACommand(mca string) string {
	return fmt.Sprintf("%s -mtriple=<x86_64|i386>-unknown-linux-gnu -mcpu=%s -iterations=%d block.s",
		mca, MCACPU, MCAIterations)
}

// MCAResult is llvm-mca's summary of one block.
type MCAResult struct {
	Iterations   uint64
	Instructions uint64
	TotalCycles  uint64
	RThroughput  float64 // "Block RThroughput"
	// Placeholders counts the instructions llvm-mca has no model for: its Instruction Info
	// gives them latency 100 (the scheduling model's placeholder, e.g. movs, lods, cmps
	// without REP), so its cycles for the block measure the placeholder, not the machine.
	Placeholders int
}

// placeholderLatency is llvm-mca's latency for instructions its Skylake model does not
// describe (the same constant cmd/mkinsntable overrides).
const placeholderLatency = 100

// CyclesPerIter is Total Cycles / Iterations.
func (r MCAResult) CyclesPerIter() float64 {
	return float64(r.TotalCycles) / float64(r.Iterations)
}

// RunMCA runs llvm-mca on a block's AT&T lines and reads its summary. An assembler error,
// which llvm-mca reports on stderr while going on without the line, is an error, and so is a
// summary whose instruction count shows a line was dropped.
func RunMCA(mca string, b Block, lines []string) (MCAResult, error) {
	dir, err := os.MkdirTemp("", "mcacheck")
	if err != nil {
		return MCAResult{}, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "block.s")
	if err := os.WriteFile(path, []byte(MCASource(lines)), 0o644); err != nil {
		return MCAResult{}, err
	}
	cmd := exec.Command(mca, "-mtriple="+mcaTriple(b.Mode), "-mcpu="+MCACPU,
		"-iterations="+strconv.Itoa(MCAIterations), path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return MCAResult{}, fmt.Errorf("block %s: %s: %v: %s", b.Name, mca, err, firstLine(stderr.String()))
	}
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(l, "error:") {
			return MCAResult{}, fmt.Errorf("block %s: %s: %s", b.Name, mca, strings.TrimSpace(l))
		}
	}
	r, err := ParseMCASummary(stdout.String())
	if err != nil {
		return MCAResult{}, fmt.Errorf("block %s: %v", b.Name, err)
	}
	if want := uint64(len(lines)) * r.Iterations; r.Instructions != want {
		return MCAResult{}, fmt.Errorf("block %s: llvm-mca ran %d instructions, want %d (a line was dropped)",
			b.Name, r.Instructions, want)
	}
	return r, nil
}

// ParseMCASummary reads the summary at the top of llvm-mca's default text output:
//
//	Iterations:        100
//	Instructions:      500
//	Total Cycles:      104
//	...
//	Block RThroughput: 1.3
func ParseMCASummary(out string) (MCAResult, error) {
	var r MCAResult
	seen := map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		key, val, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		var err error
		switch key {
		case "Iterations":
			r.Iterations, err = strconv.ParseUint(val, 10, 64)
		case "Instructions":
			r.Instructions, err = strconv.ParseUint(val, 10, 64)
		case "Total Cycles":
			r.TotalCycles, err = strconv.ParseUint(val, 10, 64)
		case "Block RThroughput":
			r.RThroughput, err = strconv.ParseFloat(val, 64)
		default:
			continue
		}
		if err != nil {
			return MCAResult{}, fmt.Errorf("llvm-mca summary: bad %s %q", key, val)
		}
		if seen[key] {
			return MCAResult{}, fmt.Errorf("llvm-mca summary: %s twice (more than one code region?)", key)
		}
		seen[key] = true
	}
	for _, k := range []string{"Iterations", "Instructions", "Total Cycles", "Block RThroughput"} {
		if !seen[k] {
			return MCAResult{}, fmt.Errorf("llvm-mca summary: no %q line", k)
		}
	}
	if r.Iterations == 0 {
		return MCAResult{}, fmt.Errorf("llvm-mca summary: 0 iterations")
	}
	rows, placeholders, err := parseInstructionInfo(out)
	if err != nil {
		return MCAResult{}, err
	}
	if rows != 0 && uint64(rows)*r.Iterations != r.Instructions {
		return MCAResult{}, fmt.Errorf("llvm-mca: %d Instruction Info rows for %d instructions over %d iterations",
			rows, r.Instructions, r.Iterations)
	}
	r.Placeholders = placeholders
	return r, nil
}

// parseInstructionInfo counts the rows of llvm-mca's Instruction Info view and those with the
// placeholder latency:
//
//	[1]    [2]    [3]    [4]    [5]    [6]    Instructions:
//	 1      100   0.25                  U     movsq	%ds:(%rsi), %es:(%rdi)
//
// A missing view (llvm-mca run with it disabled) gives 0 rows.
func parseInstructionInfo(out string) (rows, placeholders int, err error) {
	in := false
	for _, l := range strings.Split(out, "\n") {
		if !in {
			in = strings.HasPrefix(l, "[1]") && strings.HasSuffix(strings.TrimSpace(l), "Instructions:")
			continue
		}
		f := strings.Fields(l)
		if len(f) == 0 {
			break
		}
		if len(f) < 3 {
			return 0, 0, fmt.Errorf("llvm-mca Instruction Info: bad row %q", l)
		}
		lat, err := strconv.Atoi(f[1])
		if err != nil {
			return 0, 0, fmt.Errorf("llvm-mca Instruction Info: bad latency in %q", l)
		}
		rows++
		if lat == placeholderLatency {
			placeholders++
		}
	}
	return rows, placeholders, nil
}

// ToolVersion returns the first line of `name --version` containing want.
func ToolVersion(name, want string) (string, error) {
	out, err := exec.Command(name, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s --version: %v", name, err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, want) {
			return strings.TrimSpace(l), nil
		}
	}
	return "", fmt.Errorf("%s --version: no line containing %q", name, want)
}
