package timing_test

import (
	"math"
	"strings"
	"testing"

	"github.com/probesim/probesim/timing"
	"github.com/probesim/probesim/timing/internal/mcacheck"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// goldenPath is written by `go run ./timing/cmd/validatetiming -write-golden` (needs llvm-14).
const goldenPath = "testdata/mca_skylake.json"

func readGolden(t *testing.T) *mcacheck.Golden {
	t.Helper()
	g, err := mcacheck.ReadGolden(goldenPath)
	require.NoError(t, err)
	return g
}

// TestModelTracksLLVMMCA checks the block model against llvm-mca's recorded cycles without
// needing llvm: the mean absolute percentage error over the corpus must stay within the
// validation target and no block may be off by more than MaxBlockErrPct.
func TestModelTracksLLVMMCA(t *testing.T) {
	g := readGolden(t)
	assert.Contains(t, g.MCAVersion, "LLVM version 14.")
	assert.Contains(t, g.Command, "llvm-mca-14 ")
	assert.Contains(t, g.Command, "-mcpu=skylake")
	assert.Contains(t, g.Command, "-iterations=100")
	assert.Equal(t, mcacheck.CyclesDefinition, g.Cycles)
	assert.Equal(t, mcacheck.TargetMAEPct, g.TargetMAEPct)
	assert.Equal(t, mcacheck.MaxBlockErrPct, g.MaxBlockErrPct)

	p := timing.Default()
	require.Equal(t, timing.ChainLoopCarried, p.Chain, "the validation uses the default chain mode")
	rep, err := mcacheck.CompareGolden(p, g)
	require.NoError(t, err)
	require.Len(t, rep.Rows, len(g.Blocks))

	for i, row := range rep.Rows {
		b := g.Blocks[i]
		assert.Equal(t, len(b.Asm), row.Insns, "%s: the model and llvm-mca must see the same instructions", row.Name)
		assert.Zero(t, row.Untabled, "%s: instruction without a table row", row.Name)
		assert.Zero(t, row.Undecoded, "%s: undecodable bytes", row.Name)
		if !row.Excluded {
			assert.LessOrEqual(t, math.Abs(row.ErrPct), mcacheck.MaxBlockErrPct,
				"%s: model %.2f cycles, llvm-mca %.2f", row.Name, row.Model, row.MCA)
		}
	}
	// Only the blocks with a movs, for which llvm-mca has no model, are left out.
	var excluded []string
	for _, row := range rep.Rows {
		if row.Excluded {
			excluded = append(excluded, row.Name)
		}
	}
	assert.Equal(t, []string{
		"fixture/x86_64/qsort/msort_with_tmp.part.0.loop0",
		"fixture/i386/qsort/msort_with_tmp.part.0.loop0",
	}, excluded)
	assert.Equal(t, len(rep.Rows)-2, rep.Included)
	assert.LessOrEqual(t, rep.MAEPct, mcacheck.TargetMAEPct, "mean absolute error against llvm-mca")
	t.Logf("%d blocks compared, mean absolute error %.1f%%", rep.Included, rep.MAEPct)
}

// TestGoldenCoversCorpus checks that the golden file holds exactly the corpus, in order, so a
// corpus change without regenerating the golden file (with llvm-14) fails here.
func TestGoldenCoversCorpus(t *testing.T) {
	g := readGolden(t)
	require.Len(t, g.Blocks, len(mcacheck.Fixtures)+len(mcacheck.Curated))
	for i, f := range mcacheck.Fixtures {
		b := g.Blocks[i]
		assert.Equal(t, f.Name(), b.Name)
		wantMode := 64
		if f.Arch == "i386" {
			wantMode = 32
		}
		assert.Equal(t, wantMode, b.Mode, b.Name)
	}
	for i, c := range mcacheck.Curated {
		b := g.Blocks[len(mcacheck.Fixtures)+i]
		assert.Equal(t, c, b.Block, "curated block %s differs from the golden file", c.Name)
	}
	for _, b := range g.Blocks {
		require.NotEmpty(t, b.Asm, b.Name)
		assert.Equal(t, uint64(len(b.Asm))*b.MCA.Iterations, b.MCA.Instructions, b.Name)
		assert.Equal(t, uint64(mcacheck.MCAIterations), b.MCA.Iterations, b.Name)
		// A block is a single-block loop (its last instruction jumps back to .Lblock) or ends
		// in a return (an entry block of a leaf function).
		last := b.Asm[len(b.Asm)-1]
		assert.True(t, strings.HasSuffix(last, " .Lblock") || strings.HasPrefix(last, "ret"),
			"%s ends in %q", b.Name, last)
	}
}

// TestValidationCorpusSize keeps the corpus at its documented size: 22 fixture blocks and at
// least 20 curated blocks, in both modes.
func TestValidationCorpusSize(t *testing.T) {
	assert.Len(t, mcacheck.Fixtures, 22)
	assert.GreaterOrEqual(t, len(mcacheck.Curated), 20)
	modes := map[int]int{}
	for _, b := range mcacheck.Curated {
		modes[b.Mode]++
	}
	assert.GreaterOrEqual(t, modes[32], 10)
	assert.GreaterOrEqual(t, modes[64], 10)
}

// TestValidationDetectsBrokenModel shows the check has teeth: a profile that issues one uop
// per cycle misses llvm-mca by far more than the target.
func TestValidationDetectsBrokenModel(t *testing.T) {
	g := readGolden(t)
	p := timing.Default()
	require.NoError(t, p.Set("issue_width", "1"))
	rep, err := mcacheck.CompareGolden(p, g)
	require.NoError(t, err)
	assert.Greater(t, rep.MAEPct, 3*mcacheck.TargetMAEPct)
	assert.Greater(t, math.Abs(rep.Worst(1)[0].ErrPct), mcacheck.MaxBlockErrPct)
}
