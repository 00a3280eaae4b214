package sweep

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// synthetic returns the rows of a sweep of n configurations.
func synthetic(n int) []Row {
	rows := make([]Row, n)
	for i := range rows {
		r := sampleRow()
		r.Index, r.Configs = i, n
		r.Key = fmt.Sprintf("cpus=%d strategy=inline seed=1 quantum=10000 profile=skylake a=1 b=2", i+1)
		r.CPUs = i + 1
		rows[i] = r
	}
	return rows
}

func TestMergeOrdersAndDropsIdenticalRepeats(t *testing.T) {
	rows := synthetic(5)
	a := []Row{rows[4], rows[0], rows[2]}
	b := []Row{rows[3], rows[1], rows[2]}
	merged, st, err := Merge([]Input{{"a.csv", a}, {"b.json", b}})
	require.NoError(t, err)
	assert.Equal(t, rows, merged)
	assert.Equal(t, MergeStats{Files: 2, Rows: 5, Duplicates: 1, Configs: 5}, st)

	// A repeat read from CSV (six decimals) is still identical.
	third := rows[1]
	third.MissRate = 0.7500000001
	_, st, err = Merge([]Input{{"a.csv", rows}, {"c.csv", []Row{third}}})
	require.NoError(t, err)
	assert.Equal(t, 1, st.Duplicates)
}

func TestMergeReportsMissing(t *testing.T) {
	rows := synthetic(6)
	merged, st, err := Merge([]Input{{"a.csv", []Row{rows[0], rows[3]}}})
	require.NoError(t, err)
	assert.Len(t, merged, 2)
	assert.Equal(t, []int{1, 2, 4, 5}, st.Missing)
}

func TestMergeRefusesMismatches(t *testing.T) {
	rows := synthetic(4)
	conflict := rows[2]
	conflict.Misses, conflict.Hits, conflict.MissRate, conflict.CyclesPerHit = 151, 49, 151.0/200, 5000.0/49
	otherArgs := rows[1]
	otherArgs.Args = []string{"8"}
	otherSize := rows[1]
	otherSize.Configs = 9
	badIndex := rows[1]
	badIndex.Index = 4
	moved := rows[1]
	moved.Index = 3
	swapped := rows[0]
	swapped.Index = 3
	for _, tc := range []struct {
		second Row
		want   string
	}{
		{conflict, "b.csv: row 1 (" + rows[2].Key + ") conflicts with a.csv: hits 50 vs 49, misses 150 vs 151, miss_rate 0.750000 vs 0.755000, cycles_per_hit 100.000000 vs 102.040816"},
		{otherArgs, "b.csv: row 1 (" + rows[1].Key + `) comes from another sweep (args ["8"] vs ["4","a b,\"c\""] in a.csv)`},
		{otherSize, "b.csv: row 1 (" + rows[1].Key + ") comes from a sweep of 9 configurations, a.csv from one of 4"},
		{badIndex, "b.csv: row 1 (" + rows[1].Key + "): index 4 is not in 0..3"},
		{moved, "b.csv: row 1 (" + rows[1].Key + "): index 3, but a.csv has it at index 1"},
		{swapped, "b.csv: row 1 (" + rows[0].Key + "): index 3, but a.csv has it at index 0"},
	} {
		_, _, err := Merge([]Input{{"a.csv", rows[:3]}, {"b.csv", []Row{tc.second}}})
		if assert.Error(t, err) {
			assert.Equal(t, tc.want, err.Error())
		}
	}
	// A different key at a taken index.
	renamed := rows[0]
	renamed.CPUs = 9
	renamed.Key = "cpus=9 strategy=inline seed=1 quantum=10000 profile=skylake a=1 b=2"
	_, _, err := Merge([]Input{{"a.csv", rows[:1]}, {"b.csv", []Row{renamed}}})
	require.EqualError(t, err, `b.csv: row 1 (`+renamed.Key+`): index 0 is "`+rows[0].Key+`" in a.csv`)
}
