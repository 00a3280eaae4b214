// Command validatetiming compares the timing model's block costs with llvm-mca's.
//
//	go run ./timing/cmd/validatetiming                 # compare, exit 1 if the MAE exceeds 15%
//	go run ./timing/cmd/validatetiming -write-golden   # also rewrite timing/testdata/mca_skylake.json
//	go run ./timing/cmd/validatetiming -describe fixtures/bin/x86_64/qsort:main
//
// The corpus is the hot loops of the fixture binaries (mcacheck.Fixtures, read from
// fixtures/bin, so `make fixtures` first) and a curated list of real basic blocks
// (mcacheck.Curated). For each block it prints the model's cycles per execution (the built-in
// skylake profile, CostFP/256, default chain mode) next to llvm-mca's cycles per iteration
// (Total Cycles / 100 of `llvm-mca-14 -mtriple=<arch>-unknown-linux-gnu -mcpu=skylake
// -iterations=100`), the error, then the mean absolute percentage error and the five worst
// blocks. Needs llvm-mca-14 (Debian: llvm-14) and objdump (binutils). Exit status: 0 within
// target, 1 when the mean absolute error exceeds 15% or one block exceeds 50%, 2 on any error.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/probesim/probesim/timing"
	"github.com/probesim/probesim/timing/internal/mcacheck"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	fixtures, golden, mca, objdump, profile, describe string
	writeGolden                                       bool
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validatetiming", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.fixtures, "fixtures", "", "fixture binaries directory (default <module root>/fixtures/bin)")
	fs.StringVar(&o.golden, "golden", "", "golden file (default <module root>/timing/testdata/mca_skylake.json)")
	fs.BoolVar(&o.writeGolden, "write-golden", false, "write llvm-mca's results to the golden file")
	fs.StringVar(&o.mca, "mca", mcacheck.MCABinary, "llvm-mca binary")
	fs.StringVar(&o.objdump, "objdump", "objdump", "GNU objdump binary")
	fs.StringVar(&o.profile, "profile", "", "machine profile JSON (default: the built-in skylake profile)")
	fs.StringVar(&o.describe, "describe", "", "ELF:SYMBOL: list the symbol's entry block and single-block loops, then exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "validatetiming: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	code, err := validate(o, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "validatetiming:", err)
		return 2
	}
	return code
}

func validate(o options, out io.Writer) (int, error) {
	if o.describe != "" {
		path, sym, ok := strings.Cut(o.describe, ":")
		if !ok {
			return 0, fmt.Errorf("-describe wants ELF:SYMBOL, got %q", o.describe)
		}
		text, err := mcacheck.DescribeFunction(path, sym)
		if err != nil {
			return 0, err
		}
		fmt.Fprint(out, text)
		return 0, nil
	}
	if _, err := exec.LookPath(o.mca); err != nil {
		return 0, fmt.Errorf("%s not found: install llvm-14 (apt-get install llvm-14, or run make validate-timing)", o.mca)
	}
	if _, err := exec.LookPath(o.objdump); err != nil {
		return 0, fmt.Errorf("%s not found: install binutils", o.objdump)
	}
	root, err := moduleRoot()
	if err != nil {
		return 0, err
	}
	if o.fixtures == "" {
		o.fixtures = filepath.Join(root, "fixtures", "bin")
	}
	if o.golden == "" {
		o.golden = filepath.Join(root, "timing", "testdata", "mca_skylake.json")
	}
	prof := timing.Default()
	if o.profile != "" {
		if prof, err = timing.LoadProfile(o.profile); err != nil {
			return 0, err
		}
	}

	blocks, err := corpus(o.fixtures)
	if err != nil {
		return 0, err
	}
	g := &mcacheck.Golden{Command: mcacheck.MCACommand(o.mca), Cycles: mcacheck.CyclesDefinition,
		TargetMAEPct: mcacheck.TargetMAEPct, MaxBlockErrPct: mcacheck.MaxBlockErrPct}
	if g.MCAVersion, err = mcacheck.ToolVersion(o.mca, "LLVM version"); err != nil {
		return 0, err
	}
	if g.ObjdumpVersion, err = mcacheck.ToolVersion(o.objdump, "objdump"); err != nil {
		return 0, err
	}
	var rows []mcacheck.Row
	for _, b := range blocks {
		lines, err := mcacheck.Disassemble(o.objdump, b)
		if err != nil {
			return 0, err
		}
		res, err := mcacheck.RunMCA(o.mca, b, lines)
		if err != nil {
			return 0, err
		}
		row, err := mcacheck.CompareBlock(prof, b, res)
		if err != nil {
			return 0, err
		}
		rows = append(rows, row)
		g.Blocks = append(g.Blocks, mcacheck.GoldenBlock{Block: b, Asm: lines, MCA: mcacheck.Record(res)})
	}
	rep := mcacheck.NewReport(rows)
	fmt.Fprintf(out, "profile %s (issue width %d, chain %s) vs %s\n", prof.Name, prof.IssueWidth, prof.Chain, g.MCAVersion)
	fmt.Fprintf(out, "llvm-mca: %s\n\n", g.Command)
	mcacheck.PrintReport(out, rep, 5)
	if o.writeGolden {
		if err := g.Write(o.golden); err != nil {
			return 0, err
		}
		fmt.Fprintf(out, "wrote %s (%d blocks)\n", o.golden, len(g.Blocks))
	}
	failed := false
	if rep.MAEPct > mcacheck.TargetMAEPct {
		fmt.Fprintf(out, "FAIL: mean absolute error %.1f%% is above the %.0f%% target\n", rep.MAEPct, mcacheck.TargetMAEPct)
		failed = true
	}
	if w := rep.Worst(1); len(w) == 1 && math.Abs(w[0].ErrPct) > mcacheck.MaxBlockErrPct {
		fmt.Fprintf(out, "FAIL: %s is off by %+.1f%%, above the %.0f%% bound for one block\n",
			w[0].Name, w[0].ErrPct, mcacheck.MaxBlockErrPct)
		failed = true
	}
	if failed {
		return 1, nil
	}
	fmt.Fprintf(out, "ok: mean absolute error %.1f%% is within the %.0f%% target\n", rep.MAEPct, mcacheck.TargetMAEPct)
	return 0, nil
}

// corpus is the fixture blocks, extracted now, followed by the curated blocks.
func corpus(binDir string) ([]mcacheck.Block, error) {
	var blocks []mcacheck.Block
	for _, f := range mcacheck.Fixtures {
		b, err := mcacheck.ExtractFixture(binDir, f)
		if err != nil {
			return nil, fmt.Errorf("%v (build the fixtures first: make fixtures)", err)
		}
		blocks = append(blocks, b)
	}
	return append(blocks, mcacheck.Curated...), nil
}

// moduleRoot is the nearest directory at or above the working directory holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory: run from the probesim repository")
		}
		dir = parent
	}
}
