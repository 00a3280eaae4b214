package sweep

import (
	"fmt"
	"slices"
	"strings"
)

// Input is one results file to merge.
type Input struct {
	Name string
	Rows []Row
}

// MergeStats count what Merge found.
type MergeStats struct {
	Files      int
	Rows       int   // rows written
	Duplicates int   // identical repeats dropped
	Configs    int   // configurations of the sweep
	Missing    []int // indexes of configurations no input has, ascending
}

// Merge joins shard files of one sweep into its rows in configuration
// order. Every row must be consistent (Row.Check), have the fixed part and
// the Configs of the first row of the first input, and one configuration
// (Index) must always have one Key. A configuration in several inputs is kept once when the rows
// are identical (a run is deterministic, so a re-run shard or a file
// given twice repeats itself); rows that differ are a conflict, an error
// naming both files. Missing configurations are not an error here: they
// are listed in MergeStats.Missing for the caller to judge.
func Merge(inputs []Input) ([]Row, MergeStats, error) {
	st := MergeStats{Files: len(inputs)}
	var first *Row
	var firstFile string
	type origin struct {
		row  Row
		file string
	}
	byIndex := map[int]origin{}
	keyIndex := map[string]int{}
	for _, in := range inputs {
		for n := range in.Rows {
			r := in.Rows[n]
			where := fmt.Sprintf("%s: row %d (%s)", in.Name, n+1, r.Key)
			if first == nil {
				first, firstFile = &in.Rows[n], in.Name
				st.Configs = r.Configs
			}
			if d := fixedDiff(&r, first); d != "" {
				return nil, st, fmt.Errorf("%s comes from another sweep (%s in %s)", where, d, firstFile)
			}
			if r.Configs != first.Configs {
				return nil, st, fmt.Errorf("%s comes from a sweep of %d configurations, %s from one of %d", where, r.Configs, firstFile, first.Configs)
			}
			if err := r.Check(); err != nil {
				return nil, st, fmt.Errorf("%s: %v", where, err)
			}
			if i, ok := keyIndex[r.Key]; ok && i != r.Index {
				return nil, st, fmt.Errorf("%s: index %d, but %s has it at index %d", where, r.Index, byIndex[i].file, i)
			}
			if prev, ok := byIndex[r.Index]; ok {
				if prev.row.Key != r.Key {
					return nil, st, fmt.Errorf("%s: index %d is %q in %s", where, r.Index, prev.row.Key, prev.file)
				}
				// Compared as CSV records: a CSV file keeps six decimals of
				// the rates, a JSON file all of them.
				if !slices.Equal(prev.row.record(), r.record()) {
					return nil, st, fmt.Errorf("%s conflicts with %s: %s", where, prev.file, rowDiff(&prev.row, &r))
				}
				st.Duplicates++
				continue
			}
			byIndex[r.Index] = origin{r, in.Name}
			keyIndex[r.Key] = r.Index
		}
	}
	rows := make([]Row, 0, len(byIndex))
	for _, o := range byIndex {
		rows = append(rows, o.row)
	}
	slices.SortFunc(rows, func(a, b Row) int { return a.Index - b.Index })
	st.Rows = len(rows)
	for i := 0; i < st.Configs; i++ {
		if _, ok := byIndex[i]; !ok {
			st.Missing = append(st.Missing, i)
		}
	}
	return rows, st, nil
}

// rowDiff names the columns where two rows differ, with both values.
func rowDiff(a, b *Row) string {
	ra, rb := a.record(), b.record()
	var out []string
	for i := range ra {
		if ra[i] != rb[i] {
			out = append(out, fmt.Sprintf("%s %s vs %s", Columns[i], ra[i], rb[i]))
		}
	}
	return strings.Join(out, ", ")
}
