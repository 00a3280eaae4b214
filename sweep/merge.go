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
	Rows       int // rows written
	Duplicates int // configurations found again, identical, and dropped
	// Sweeps are the sweeps the rows come from, in the order their first
	// rows appear.
	Sweeps []SweepStats
}

// SweepStats count one sweep's configurations in a merge.
type SweepStats struct {
	ID      string // Row.Sweep
	File    string // the first input holding rows of it
	Configs int    // configurations of the sweep
	Rows    int    // of them, in some input
	// Missing are the indexes of the configurations no input has,
	// ascending.
	Missing []int
}

// Missing is the number of configurations of every sweep that no input
// has.
func (st MergeStats) Missing() int {
	n := 0
	for _, s := range st.Sweeps {
		n += len(s.Missing)
	}
	return n
}

// Merge joins results files into one table. Every row must be consistent
// (Row.Check) and every configuration's rows whole (one per probe of its
// set, describing one run), and all rows must set the same params.
//
// Files of one sweep (one fingerprint, Row.Sweep: its shards, say) give
// its rows in configuration order, one index always one configuration;
// the result is byte-identical to the unsharded sweep's file. Files of
// several sweeps (configs that differ in their values, run apart) give
// each sweep's rows in turn, in the order their first rows appear, each
// keeping its own index, configs and fingerprint.
//
// A configuration found twice is kept once when its rows are identical
// (runs are deterministic, so a re-run shard, a file given twice, or the
// same configuration in two sweeps repeats itself); rows that differ are
// a conflict, an error naming both files. Missing configurations are not
// an error here: MergeStats lists them for the caller to judge.
func Merge(inputs []Input) ([]Row, MergeStats, error) {
	st := MergeStats{Files: len(inputs)}
	type origin struct {
		rows []Row
		file string
	}
	type sweepRows struct {
		stats    *SweepStats
		byIndex  map[int]origin
		keyIndex map[string]int
	}
	var order []string
	sweeps := map[string]*sweepRows{}
	byKey := map[string]origin{} // every configuration, whatever its sweep
	var params []string
	var paramsFile string
	for _, in := range inputs {
		for n := 0; n < len(in.Rows); {
			g := groupOf(in.Rows[n:])
			r := &g[0]
			where := fmt.Sprintf("%s: row %d (%s)", in.Name, n+1, r.Key())
			n += len(g)
			for j := range g {
				if err := g[j].Check(); err != nil {
					return nil, st, fmt.Errorf("%s: %v", where, err)
				}
			}
			if err := checkGroup(g); err != nil {
				return nil, st, fmt.Errorf("%s: %v", where, err)
			}
			if names := paramNames(r.Params); paramsFile == "" {
				params, paramsFile = names, in.Name
			} else if !slices.Equal(names, params) {
				return nil, st, fmt.Errorf("%s sets the params %s, %s %s: a results file has one set of param columns", where, jsonList(names), paramsFile, jsonList(params))
			}
			sw := sweeps[r.Sweep]
			if sw == nil {
				sw = &sweepRows{stats: &SweepStats{ID: r.Sweep, File: in.Name, Configs: r.Configs},
					byIndex: map[int]origin{}, keyIndex: map[string]int{}}
				sweeps[r.Sweep] = sw
				order = append(order, r.Sweep)
			}
			if r.Configs != sw.stats.Configs {
				return nil, st, fmt.Errorf("%s: sweep %s of %d configurations, but %s has it of %d", where, r.Sweep, r.Configs, sw.stats.File, sw.stats.Configs)
			}
			key := r.Key()
			if i, ok := sw.keyIndex[key]; ok && i != r.Index {
				return nil, st, fmt.Errorf("%s: index %d, but %s has it at index %d of sweep %s", where, r.Index, sw.byIndex[i].file, i, r.Sweep)
			}
			if prev, ok := sw.byIndex[r.Index]; ok && prev.rows[0].Key() != key {
				return nil, st, fmt.Errorf("%s: index %d of sweep %s is %s in %s", where, r.Index, r.Sweep, prev.rows[0].Key(), prev.file)
			}
			if prev, ok := byKey[key]; ok {
				if d := groupDiff(prev.rows, g); d != "" {
					return nil, st, fmt.Errorf("%s conflicts with %s: %s", where, prev.file, d)
				}
				st.Duplicates++
				if _, ok := sw.byIndex[r.Index]; !ok {
					// The same configuration in another sweep: counted
					// there, present here.
					sw.keyIndex[key] = r.Index
					sw.byIndex[r.Index] = origin{nil, in.Name}
				}
				continue
			}
			byKey[key] = origin{g, in.Name}
			sw.byIndex[r.Index] = origin{g, in.Name}
			sw.keyIndex[key] = r.Index
		}
	}
	var rows []Row
	for _, id := range order {
		sw := sweeps[id]
		indexes := make([]int, 0, len(sw.byIndex))
		for i := range sw.byIndex {
			indexes = append(indexes, i)
		}
		slices.Sort(indexes)
		for _, i := range indexes {
			rows = append(rows, sw.byIndex[i].rows...)
		}
		sw.stats.Rows = len(indexes)
		for i := range sw.stats.Configs {
			if _, ok := sw.byIndex[i]; !ok {
				sw.stats.Missing = append(sw.stats.Missing, i)
			}
		}
		st.Sweeps = append(st.Sweeps, *sw.stats)
	}
	st.Rows = len(rows)
	return rows, st, nil
}

// groupDiff names the columns where two configurations' rows differ,
// with both values, their place in their sweeps aside; "" when they agree.
// Rows are compared as CSV records: a CSV file keeps six decimals of the
// rates, a JSON file all of them.
func groupDiff(a, b []Row) string {
	if len(a) != len(b) {
		return fmt.Sprintf("%d rows vs %d", len(a), len(b))
	}
	var out []string
	for j := range a {
		cols := Columns(paramNames(a[j].Params))
		ra, rb := a[j].record(), b[j].record()
		for i := 3; i < len(ra); i++ { // after index, configs and sweep
			if ra[i] != rb[i] {
				out = append(out, fmt.Sprintf("%s %s vs %s", cols[i], ra[i], rb[i]))
			}
		}
	}
	return strings.Join(out, ", ")
}
