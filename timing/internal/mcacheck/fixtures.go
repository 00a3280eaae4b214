package mcacheck

import (
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
)

// FixtureBlock names one block of a fixture binary (fixtures/bin/<Arch>/<Bin>).
type FixtureBlock struct {
	Arch string // "x86_64" or "i386"
	Bin  string // fixture name: loop, qsort, ...
	Sym  string // function symbol
	Loop int    // >= 0: the Loop-th single-block loop of Sym in address order; -1: Sym's entry block
	Why  string // what the block is, for the Source field
}

// Name is "fixture/<arch>/<bin>/<sym>.loop<N>" or ".entry".
func (f FixtureBlock) Name() string {
	sel := "entry"
	if f.Loop >= 0 {
		sel = fmt.Sprintf("loop%d", f.Loop)
	}
	return fmt.Sprintf("fixture/%s/%s/%s.%s", f.Arch, f.Bin, f.Sym, sel)
}

// ExtractFixture reads the block f names from the fixture binaries under binDir
// (fixtures/bin).
func ExtractFixture(binDir string, f FixtureBlock) (Block, error) {
	path := filepath.Join(binDir, f.Arch, f.Bin)
	fn, err := readFunction(path, f.Sym)
	if err != nil {
		return Block{}, fmt.Errorf("block %s: %v", f.Name(), err)
	}
	sp, err := pickBlock(fn, f.Loop)
	if err != nil {
		return Block{}, fmt.Errorf("block %s: %s %s: %v", f.Name(), path, f.Sym, err)
	}
	return Block{
		Name: f.Name(), Mode: fn.mode, Hex: hex.EncodeToString(fn.code[sp.start:sp.end]),
		Source: fmt.Sprintf("fixtures/bin/%s/%s %s+%#x: %s", f.Arch, f.Bin, f.Sym, sp.start, f.Why),
	}, nil
}

// pickBlock finds the entry block (loop < 0) or the loop-th single-block loop of fn.
func pickBlock(fn function, loop int) (span, error) {
	// A function may end in bytes x86asm rejects (padding, data in code): the instructions
	// decoded before them are still the function's.
	insns, _ := decodeAll(fn.code, fn.mode, false)
	if len(insns) == 0 {
		return span{}, fmt.Errorf("no decodable instruction")
	}
	if loop < 0 {
		return entryBlock(insns)
	}
	loops := selfLoops(insns)
	if loop >= len(loops) {
		return span{}, fmt.Errorf("has %d single-block loops, want loop %d", len(loops), loop)
	}
	return loops[loop], nil
}

// DescribeFunction lists the entry block and every single-block loop of a function symbol
// of an ELF file, with their bytes and disassembly: the tool for choosing corpus blocks.
func DescribeFunction(path, sym string) (string, error) {
	fn, err := readFunction(path, sym)
	if err != nil {
		return "", err
	}
	insns, _ := decodeAll(fn.code, fn.mode, false)
	var sb strings.Builder
	show := func(title string, sp span) {
		fmt.Fprintf(&sb, "%s: %s+%#x..%#x mode %d\n  hex: %s\n", title, sym, sp.start, sp.end, fn.mode,
			hex.EncodeToString(fn.code[sp.start:sp.end]))
		for _, in := range insns {
			if in.off >= sp.start && in.off < sp.end {
				fmt.Fprintf(&sb, "  %4x: %s\n", in.off, in.text)
			}
		}
	}
	if sp, err := entryBlock(insns); err == nil {
		show("entry", sp)
	}
	for i, sp := range selfLoops(insns) {
		show(fmt.Sprintf("loop%d", i), sp)
	}
	return sb.String(), nil
}
