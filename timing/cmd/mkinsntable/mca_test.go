package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sampleOutput is llvm-mca-14 -mcpu=skylake --instruction-tables output, cut to three rows.
const sampleOutput = `
Instruction Info:
[1]: #uOps
[2]: Latency
[3]: RThroughput
[4]: MayLoad
[5]: MayStore
[6]: HasSideEffects (U)

[1]    [2]    [3]    [4]    [5]    [6]    Instructions:
 1      1     0.25                        addl	$1, %eax
 3      7     1.00    *      *            addl	%eax, (%rdi)
 8      18    2.00                  U     cpuid


Resources:
[0]   - SKLDivider
[1]   - SKLFPDivider
[2]   - SKLPort0
[3]   - SKLPort1
[4]   - SKLPort2
[5]   - SKLPort3
[6]   - SKLPort4
[7]   - SKLPort5
[8]   - SKLPort6
[9]   - SKLPort7


Resource pressure per iteration:
[0]    [1]    [2]    [3]    [4]    [5]    [6]    [7]    [8]    [9]    
 -      -     2.25   1.50   0.83   0.83   1.00   2.50   3.25   0.33   

Resource pressure by instruction:
[0]    [1]    [2]    [3]    [4]    [5]    [6]    [7]    [8]    [9]    Instructions:
 -      -     0.25   0.25    -      -      -     0.25   0.25    -     addl	$1, %eax
 -      -     0.25   0.25   0.83   0.83   1.00   0.25   0.25   0.33   addl	%eax, (%rdi)
 -      -     1.75   1.25    -      -      -     2.25   2.75    -     cpuid
`

func TestParseMCA(t *testing.T) {
	rows, err := parseMCA(sampleOutput)
	require.NoError(t, err)
	require.Len(t, rows, 3)
	assert.Equal(t, 1, rows[0].uops)
	assert.Equal(t, 1, rows[0].latency)
	assert.InDelta(t, 0.25, rows[0].rthroughput, 1e-9)
	assert.False(t, rows[0].load || rows[0].store || rows[0].side)
	assert.Equal(t, "addl $1, %eax", rows[0].text)
	assert.True(t, rows[1].load && rows[1].store && !rows[1].side)
	assert.True(t, !rows[2].load && !rows[2].store && rows[2].side)
	assert.Equal(t, map[string]float64{"SKLPort0": 1.75, "SKLPort1": 1.25, "SKLPort5": 2.25, "SKLPort6": 2.75},
		rows[2].pressure)

	c, err := costOf(rows[1])
	require.NoError(t, err)
	assert.Equal(t, []group{{ports(0, 1, 5, 6), 256}, {ports(2, 3, 7), 256}, {ports(2, 3), 256}, {ports(4), 256}},
		c.groups, "add to memory: ALU, store address, load, store data")
}

func TestParseMCAErrors(t *testing.T) {
	_, err := parseMCA("nothing here")
	require.Error(t, err)
	assert.Equal(t, "no instruction rows in llvm-mca output", err.Error())
	_, err = parseMCA(sampleOutput[:len(sampleOutput)-40])
	require.Error(t, err)
}

func TestDecompose(t *testing.T) {
	// cpuid's pressure does not split into whole uops: fractional groups, nothing left over.
	gs, err := decompose([8]float64{0: 1.75, 1: 1.25, 5: 2.25, 6: 2.75})
	require.NoError(t, err)
	assert.Equal(t, []group{{ports(0, 1, 5, 6), 5 * 256}, {ports(0, 5, 6), 384}, {ports(5, 6), 256}, {ports(6), 128}}, gs)

	gs, err = decompose([8]float64{1: 1})
	require.NoError(t, err)
	assert.Equal(t, []group{{ports(1), 256}}, gs)

	_, err = decompose([8]float64{4: 0.05})
	require.Error(t, err)
	assert.Equal(t, "port 4 pressure -0.03 left after decomposition", err.Error())
}

func TestProbesAreUnique(t *testing.T) {
	require.NoError(t, checkProbes(probeLines()))
	assert.Error(t, checkProbes([]string{"nop", "nop"}))
	assert.Contains(t, probeLines(), "lock cmpxchg dword ptr [rdi+8], ecx")
	assert.Contains(t, probeLines(), "shl eax, cl")
}
