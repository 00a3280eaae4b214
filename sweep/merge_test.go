package sweep

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMergeOrdersAndDropsIdenticalRepeats(t *testing.T) {
	c, groups := syntheticSweep(t, 5, "f", "g")
	rows := flat(groups)
	a := flat([][]Row{groups[4], groups[0], groups[2]})
	b := flat([][]Row{groups[3], groups[1], groups[2]})
	merged, st, err := Merge([]Input{{"a.csv", a}, {"b.json", b}})
	require.NoError(t, err)
	assert.Equal(t, rows, merged)
	assert.Equal(t, MergeStats{Files: 2, Rows: 10, Duplicates: 1,
		Sweeps: []SweepStats{{ID: c.ID(), File: "a.csv", Configs: 5, Rows: 5}}}, st)

	// A repeat read from CSV (six decimals) is still identical.
	third := groups[1]
	third[0].MissRate = 0.2500000001
	_, st, err = Merge([]Input{{"a.csv", rows}, {"c.csv", third}})
	require.NoError(t, err)
	assert.Equal(t, 1, st.Duplicates)
}

func TestMergeReportsMissing(t *testing.T) {
	_, groups := syntheticSweep(t, 6)
	merged, st, err := Merge([]Input{{"a.csv", flat([][]Row{groups[0], groups[3]})}})
	require.NoError(t, err)
	assert.Len(t, merged, 2)
	assert.Equal(t, []int{1, 2, 4, 5}, st.Sweeps[0].Missing)
	assert.Equal(t, 4, st.Missing())
}

// TestMergeJoinsSweeps: rows of two sweeps (other seeds) are joined, one
// sweep after the other, a configuration both have kept once.
func TestMergeJoinsSweeps(t *testing.T) {
	c3, small := syntheticSweep(t, 3)
	c5, big := syntheticSweep(t, 5)
	merged, st, err := Merge([]Input{{"small.csv", flat(small)}, {"big.csv", flat(big)}})
	require.NoError(t, err)
	assert.Equal(t, 3, st.Duplicates, "seeds 1 to 3 are in both")
	assert.Equal(t, []SweepStats{{ID: c3.ID(), File: "small.csv", Configs: 3, Rows: 3}, {ID: c5.ID(), File: "big.csv", Configs: 5, Rows: 5}}, st.Sweeps)
	assert.Equal(t, append(flat(small), big[3][0], big[4][0]), merged)

	// The same configuration measured differently is a conflict, in
	// whichever sweep.
	bad := flat(big)
	bad[0].Cycles++
	_, _, err = Merge([]Input{{"small.csv", flat(small)}, {"big.csv", bad}})
	require.EqualError(t, err, "big.csv: row 1 ("+bad[0].Key()+") conflicts with small.csv: cycles 1000 vs 1001")
}

func TestMergeRefusesMismatches(t *testing.T) {
	_, groups := syntheticSweep(t, 4)
	rows := flat(groups)
	conflict := rows[2]
	conflict.Misses, conflict.Hits, conflict.MissRate, conflict.CyclesPerHit = 51, 149, 51.0/200, 0
	otherSize := rows[1]
	otherSize.Configs = 9
	badIndex := rows[1]
	badIndex.Index = 4
	moved := rows[1]
	moved.Index = 3
	renamed := rows[0]
	renamed.CPUs = 9
	otherParams := rows[1]
	otherParams.Params = []string{"issue_width=4"}
	for _, tc := range []struct {
		second Row
		want   string
	}{
		{conflict, "b.csv: row 1 (" + rows[2].Key() + ") conflicts with a.csv: hits 150 vs 149, misses 50 vs 51, miss_rate 0.250000 vs 0.255000"},
		{otherSize, "b.csv: row 1 (" + rows[1].Key() + "): sweep " + rows[0].Sweep + " of 9 configurations, but a.csv has it of 4"},
		{badIndex, "b.csv: row 1 (" + rows[1].Key() + "): index 4 is not in 0..3"},
		{moved, "b.csv: row 1 (" + rows[1].Key() + "): index 3, but a.csv has it at index 1 of sweep " + rows[0].Sweep},
		{renamed, "b.csv: row 1 (" + renamed.Key() + "): index 0 of sweep " + rows[0].Sweep + " is " + rows[0].Key() + " in a.csv"},
		{otherParams, "b.csv: row 1 (" + otherParams.Key() + `) sets the params ["issue_width"], a.csv []: a results file has one set of param columns`},
	} {
		_, _, err := Merge([]Input{{"a.csv", rows[:3]}, {"b.csv", []Row{tc.second}}})
		if assert.Error(t, err) {
			assert.Equal(t, tc.want, err.Error())
		}
	}
}
