package mcacheck

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/probesim/probesim/timing"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mcaOutput is llvm-mca-14's output for the fixture loop (trimmed after Instruction Info).
const mcaOutput = `Iterations:        100
Instructions:      500
Total Cycles:      204
Total uOps:        500

Dispatch Width:    6
uOps Per Cycle:    2.45
IPC:               2.45
Block RThroughput: 1.3


Instruction Info:
[1]: #uOps
[2]: Latency
[3]: RThroughput
[4]: MayLoad
[5]: MayStore
[6]: HasSideEffects (U)

[1]    [2]    [3]    [4]    [5]    [6]    Instructions:
 1      1     0.25                        addl	%ecx, %eax
 1      1     0.25                        xorl	%eax, %edx
 1      1     0.50                        roll	$5, %edx
 1      1     0.25                        decq	%rcx
 1      100   0.50                  U     movsq	%ds:(%rsi), %es:(%rdi)


Resources:
[0]   - SKLDivider
`

func TestParseMCASummary(t *testing.T) {
	r, err := ParseMCASummary(mcaOutput)
	require.NoError(t, err)
	assert.Equal(t, MCAResult{Iterations: 100, Instructions: 500, TotalCycles: 204, RThroughput: 1.3, Placeholders: 1}, r)
	assert.InDelta(t, 2.04, r.CyclesPerIter(), 1e-12)
}

func TestParseMCASummaryErrors(t *testing.T) {
	for name, out := range map[string]string{
		"missing total":  "Iterations: 100\nInstructions: 5\nBlock RThroughput: 1.0\n",
		"bad number":     "Iterations: x\nInstructions: 5\nTotal Cycles: 9\nBlock RThroughput: 1.0\n",
		"two regions":    "Iterations: 1\nInstructions: 1\nTotal Cycles: 9\nBlock RThroughput: 1.0\nIterations: 1\n",
		"zero":           "Iterations: 0\nInstructions: 0\nTotal Cycles: 9\nBlock RThroughput: 1.0\n",
		"rows mismatch":  "Iterations: 10\nInstructions: 20\nTotal Cycles: 9\nBlock RThroughput: 1.0\n\n[1]    [2]    Instructions:\n 1      1     0.25   addl %ecx, %eax\n",
		"bad info row":   "Iterations: 1\nInstructions: 1\nTotal Cycles: 9\nBlock RThroughput: 1.0\n\n[1]    [2]    Instructions:\n x\n",
		"bad info field": "Iterations: 1\nInstructions: 1\nTotal Cycles: 9\nBlock RThroughput: 1.0\n\n[1]    [2]    Instructions:\n 1 y 0.25 addl %ecx, %eax\n",
	} {
		_, err := ParseMCASummary(out)
		assert.Error(t, err, name)
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

// loopFunction is a prologue, then two single-block loops and a return:
//
//	0:  31 c0        xor eax, eax
//	2:  01 c8        add eax, ecx       <- loop 0
//	4:  ff c9        dec ecx
//	6:  75 fa        jnz 2
//	8:  83 c0 01     add eax, 1         <- a loop that calls out: not a single-block loop
//	b:  e8 00 00 00 00  call +0
//	10: 75 f6        jnz 8
//	12: 48 ff c2     inc rdx            <- loop 1
//	15: 75 fb        jnz 0x12
//	17: c3           ret
const loopFunction = "31c001c8ffc975fa83c001e80000000075f648ffc275fbc3"

func TestBlockDiscovery(t *testing.T) {
	code := mustHex(t, loopFunction)
	insns, err := decodeAll(code, 64, false)
	require.NoError(t, err)
	require.Len(t, insns, 10)
	entry, err := entryBlock(insns)
	require.NoError(t, err)
	assert.Equal(t, span{0, 8}, entry)
	assert.Equal(t, []span{{2, 8}, {0x12, 0x17}}, selfLoops(insns))

	_, err = entryBlock(insns[:2])
	assert.Error(t, err)
	_, err = decodeAll([]byte{0x0f, 0xff}, 64, false) // ud0 without ModRM: undecodable
	assert.Error(t, err)
	endbr, err := decodeAll(mustHex(t, "f30f1efac3"), 64, true)
	require.NoError(t, err)
	assert.Equal(t, []int{4, 1}, []int{endbr[0].len, endbr[1].len})
}

func TestPickBlock(t *testing.T) {
	fn := function{code: mustHex(t, loopFunction), mode: 64}
	sp, err := pickBlock(fn, 1)
	require.NoError(t, err)
	assert.Equal(t, span{0x12, 0x17}, sp)
	sp, err = pickBlock(fn, -1)
	require.NoError(t, err)
	assert.Equal(t, span{0, 8}, sp)
	_, err = pickBlock(fn, 2)
	assert.EqualError(t, err, "has 2 single-block loops, want loop 2")
}

func TestAttLinesRewritesBranches(t *testing.T) {
	// add %ecx,%eax; mov 0x10(%rip),%rax; call +0; bnd jne back to 0
	code := mustHex(t, "01c8488b0510000000e800000000f275ef")
	insns, err := decodeAll(code, 64, false)
	require.NoError(t, err)
	lines := []objdumpLine{
		{0x0, "add    %ecx,%eax"},
		{0x2, "mov    0x10(%rip),%rax        # 0x19"},
		{0x9, "call   0xe"},
		{0xe, "bnd jne 0x0"},
	}
	out, err := attLines("b", insns, lines)
	require.NoError(t, err)
	assert.Equal(t, []string{"add    %ecx,%eax", "mov    0x10(%rip),%rax", "call .Lend", "jne .Lblock"}, out)
	assert.Equal(t, ".Lblock:\n\tadd    %ecx,%eax\n\tjne .Lblock\n.Lend:\n", MCASource([]string{"add    %ecx,%eax", "jne .Lblock"}))

	_, err = attLines("b", insns, lines[:3])
	assert.EqualError(t, err, "block b: objdump found 3 instructions, x86asm 4")
	shifted := append([]objdumpLine(nil), lines...)
	shifted[1].off = 3
	_, err = attLines("b", insns, shifted)
	assert.ErrorContains(t, err, "disagree at offset 0x2")
	bad := append([]objdumpLine(nil), lines...)
	bad[0].text = "(bad)"
	_, err = attLines("b", insns, bad)
	assert.ErrorContains(t, err, "cannot decode")
}

func TestParseObjdump(t *testing.T) {
	out := "\nb.bin:     file format binary\n\n\nDisassembly of section .data:\n\n0000000000000000 <.data>:\n" +
		"   0:\tadd    %ecx,%eax\n   a:\tjne    0x0\n"
	lines, err := parseObjdump(out)
	require.NoError(t, err)
	assert.Equal(t, []objdumpLine{{0, "add    %ecx,%eax"}, {10, "jne    0x0"}}, lines)
	_, err = parseObjdump("nothing here\n")
	assert.Error(t, err)
}

func TestBlockCode(t *testing.T) {
	_, err := Block{Name: "x", Mode: 64, Hex: "zz"}.Code()
	assert.ErrorContains(t, err, "block x: bad hex")
	_, err = Block{Name: "x", Mode: 64}.Code()
	assert.EqualError(t, err, "block x: no bytes")
	_, err = Block{Name: "x", Mode: 16, Hex: "c3"}.Code()
	assert.EqualError(t, err, "block x: mode must be 32 or 64, got 16")
	code, err := Block{Name: "x", Mode: 32, Hex: "c3"}.Code()
	require.NoError(t, err)
	assert.Equal(t, []byte{0xc3}, code)
}

func TestCompareAndReport(t *testing.T) {
	p := timing.Default()
	loop := Block{Name: "loop", Mode: 64, Hex: "01c831c2c1c20548ffc975f4"} // 2-cycle chain through edx
	row, err := CompareBlock(p, loop, MCAResult{Iterations: 100, Instructions: 500, TotalCycles: 204})
	require.NoError(t, err)
	assert.Equal(t, 5, row.Insns)
	assert.Equal(t, 2.0, row.Model)
	assert.InDelta(t, -1.9608, row.ErrPct, 1e-3)
	_, err = CompareBlock(p, loop, MCAResult{})
	assert.Error(t, err)

	rep := NewReport([]Row{
		{Name: "b", ErrPct: -10}, {Name: "a", ErrPct: 10}, {Name: "c", ErrPct: 4},
		{Name: "x", ErrPct: -99, Excluded: true},
	})
	assert.Equal(t, 3, rep.Included)
	assert.InDelta(t, 8.0, rep.MAEPct, 1e-12)
	assert.InDelta(t, 30.75, rep.MAEAllPct, 1e-12)
	worst := rep.Worst(2)
	assert.Equal(t, []string{"a", "b"}, []string{worst[0].Name, worst[1].Name})
	assert.Len(t, rep.Worst(10), 3)
}

func TestGoldenRoundTrip(t *testing.T) {
	g := &Golden{MCAVersion: "Debian LLVM version 14.0.6", Command: MCACommand("llvm-mca-14"),
		Cycles: CyclesDefinition, TargetMAEPct: TargetMAEPct, MaxBlockErrPct: MaxBlockErrPct,
		Blocks: []GoldenBlock{{Block: Block{Name: "b", Mode: 64, Hex: "c3"}, Asm: []string{"ret"},
			MCA: Record(MCAResult{Iterations: 100, Instructions: 100, TotalCycles: 105, RThroughput: 1})}}}
	path := filepath.Join(t.TempDir(), "g.json")
	require.NoError(t, g.Write(path))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(data), "-mtriple=<x86_64|i386>-unknown-linux-gnu -mcpu=skylake -iterations=100")
	back, err := ReadGolden(path)
	require.NoError(t, err)
	assert.Equal(t, g, back)
	assert.Equal(t, 1.05, back.Blocks[0].MCA.CyclesPerIter)
	assert.Equal(t, uint64(105), back.Blocks[0].MCA.Result().TotalCycles)

	for name, bad := range map[string]string{
		"unknown field": `{"mca_version":"v","command":"c","blocks":[],"extra":1}`,
		"no version":    `{"command":"c","blocks":[{"name":"b","mode":64,"hex":"c3","mca":{"iterations":1,"total_cycles":1}}]}`,
		"no blocks":     `{"mca_version":"v","command":"c","blocks":[]}`,
		"duplicate":     `{"mca_version":"v","command":"c","blocks":[{"name":"b","mode":64,"hex":"c3","mca":{"iterations":1,"total_cycles":1}},{"name":"b","mode":64,"hex":"c3","mca":{"iterations":1,"total_cycles":1}}]}`,
		"no result":     `{"mca_version":"v","command":"c","blocks":[{"name":"b","mode":64,"hex":"c3","mca":{"iterations":1}}]}`,
		"bad hex":       `{"mca_version":"v","command":"c","blocks":[{"name":"b","mode":64,"hex":"q","mca":{"iterations":1,"total_cycles":1}}]}`,
		"trailing":      `{"mca_version":"v","command":"c","blocks":[{"name":"b","mode":64,"hex":"c3","mca":{"iterations":1,"total_cycles":1}}]} {}`,
	} {
		_, err := ParseGolden([]byte(bad))
		assert.Error(t, err, name)
	}
	_, err = ReadGolden(filepath.Join(t.TempDir(), "missing.json"))
	assert.Error(t, err)
}

func TestFixtureNames(t *testing.T) {
	assert.Equal(t, "fixture/i386/qsort/main.loop1", FixtureBlock{"i386", "qsort", "main", 1, ""}.Name())
	assert.Equal(t, "fixture/x86_64/threads/probed.entry", FixtureBlock{"x86_64", "threads", "probed", -1, ""}.Name())
	_, err := ExtractFixture(t.TempDir(), FixtureBlock{"x86_64", "nope", "main", 0, ""})
	assert.ErrorContains(t, err, "block fixture/x86_64/nope/main.loop0:")
}

func TestCuratedCorpusDecodes(t *testing.T) {
	names := map[string]bool{}
	for _, b := range Curated {
		assert.False(t, names[b.Name], "duplicate %s", b.Name)
		names[b.Name] = true
		code, err := b.Code()
		require.NoError(t, err)
		insns, err := decodeAll(code, b.Mode, false)
		require.NoError(t, err, b.Name)
		// Every curated block is a single-block loop: exactly one, covering all its bytes.
		assert.Equal(t, []span{{0, len(code)}}, selfLoops(insns), b.Name)
		assert.NotEmpty(t, b.Source, b.Name)
	}
}
