package plot

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/probesim/probesim/sweep"
)

// Setting is what one figure's rows share: everything in a configuration
// but the strategy, the vCPU count and the seed.
type Setting struct {
	Program    string
	Args       []string
	Probes     []string
	Env        []string
	MaxCycles  uint64
	StackLimit uint64
	Quantum    uint64
	Profile    string
	Params     []string
}

func settingOf(r *sweep.Row) Setting {
	return Setting{Program: r.Program, Args: r.Args, Probes: r.Probes,
		Env: r.Env, MaxCycles: r.MaxCycles, StackLimit: r.StackLimit,
		Quantum: r.Quantum, Profile: r.Profile, Params: r.Params}
}

// key is a spelling of s that tells settings apart: %q keeps list
// elements that contain separators distinct.
func (s Setting) key() string {
	return fmt.Sprintf("%q %q %q %q %d %d %d %q %q", s.Program, s.Args, s.Probes, s.Env,
		s.MaxCycles, s.StackLimit, s.Quantum, s.Profile, s.Params)
}

// String spells s in full, for messages.
func (s Setting) String() string {
	var b strings.Builder
	b.WriteString(strings.Join(append([]string{s.Program}, s.Args...), " "))
	fmt.Fprintf(&b, "; probes %s", strings.Join(s.Probes, ","))
	if len(s.Env) > 0 {
		fmt.Fprintf(&b, "; env %s", strings.Join(s.Env, " "))
	}
	if s.MaxCycles != 0 {
		fmt.Fprintf(&b, "; max cycles %d", s.MaxCycles)
	}
	if s.StackLimit != 0 {
		fmt.Fprintf(&b, "; stack limit %d", s.StackLimit)
	}
	s.writeMachine(&b)
	return b.String()
}

// Title is the short form of s a figure shows: the program's base name,
// its arguments and the probes, then the machine settings (quantum,
// profile, parameters) that were set; the environment and limits, rarely
// what a figure is about, are left to String.
func (s Setting) Title() string {
	var b strings.Builder
	b.WriteString(strings.Join(append([]string{filepath.Base(s.Program)}, s.Args...), " "))
	noun := "probes"
	if len(s.Probes) == 1 {
		noun = "probe"
	}
	fmt.Fprintf(&b, " \u00b7 %s %s", noun, strings.Join(s.Probes, ", "))
	s.writeMachine(&b)
	return b.String()
}

func (s Setting) writeMachine(b *strings.Builder) {
	if s.Quantum != 0 {
		fmt.Fprintf(b, "; quantum %d", s.Quantum)
	}
	if s.Profile != "" {
		fmt.Fprintf(b, "; profile %s", s.Profile)
	}
	if len(s.Params) > 0 {
		fmt.Fprintf(b, "; %s", strings.Join(s.Params, " "))
	}
}

// Group is the rows of one setting.
type Group struct {
	Setting Setting
	Rows    []sweep.Row
}

// Split groups rows by setting, groups in the order their first row
// appears and rows in file order within a group.
func Split(rows []sweep.Row) []Group {
	var groups []Group
	index := map[string]int{}
	for i := range rows {
		s := settingOf(&rows[i])
		k := s.key()
		g, ok := index[k]
		if !ok {
			g = len(groups)
			index[k] = g
			groups = append(groups, Group{Setting: s})
		}
		groups[g].Rows = append(groups[g].Rows, rows[i])
	}
	return groups
}

// Point is one strategy at one vCPU count, summarised over the seeds
// that measured it.
type Point struct {
	CPUs  int
	Seeds int // how many rows the mean is over
	Mean  float64
	Min   float64
	Max   float64
}

// Series is one strategy's points, in ascending vCPU order. A vCPU count
// where no row measured the quantity has no point.
type Series struct {
	Strategy string
	// MissRate is misses / executions in percent.
	MissRate []Point
	// CyclesPerHit is the probes' overhead cycles / hits.
	CyclesPerHit []Point
}

// Summary is what a figure shows.
type Summary struct {
	Setting Setting
	// CPUs are the vCPU counts of the rows, ascending.
	CPUs []int
	// Series has one entry per strategy, in name order.
	Series []Series
}

// ErrNoRows is Summarize's error for an empty results file.
var ErrNoRows = errors.New("no rows to plot")

// Check reports the first row that is not a sweep result (no strategy,
// no vCPU count) or that repeats a configuration of an earlier row. Rows
// count from 1 in rows' order, which is the file's order for the rows
// sweep.ReadFile returns.
func Check(rows []sweep.Row) error {
	type config struct {
		setting  string
		strategy string
		cpus     int
		seed     uint64
	}
	seen := map[config]int{}
	for i := range rows {
		r := &rows[i]
		n := i + 1
		if r.Strategy == "" {
			return fmt.Errorf("row %d: no strategy (not a sweep results row)", n)
		}
		if r.CPUs < 1 {
			return fmt.Errorf("row %d: cpus %d, want at least 1 (not a sweep results row)", n, r.CPUs)
		}
		c := config{settingOf(r).key(), r.Strategy, r.CPUs, r.Seed}
		if prev, dup := seen[c]; dup {
			return fmt.Errorf("row %d: repeats row %d (strategy %s, %d vCPUs, seed %d)", n, prev, r.Strategy, r.CPUs, r.Seed)
		}
		seen[c] = n
	}
	return nil
}

// Summarize reduces the rows of one setting to per-strategy series. It
// fails on rows Check refuses, on rows of several settings, and when no
// row has a probe execution to plot.
func Summarize(rows []sweep.Row) (Summary, error) {
	if len(rows) == 0 {
		return Summary{}, ErrNoRows
	}
	if err := Check(rows); err != nil {
		return Summary{}, err
	}
	type cell struct{ missRates, costs []float64 }
	cells := map[string]map[int]*cell{}
	cpus := []int{}
	first := settingOf(&rows[0])
	executed := false
	for i := range rows {
		r := &rows[i]
		if s := settingOf(r); s.key() != first.key() {
			return Summary{}, fmt.Errorf("row %d: setting %q differs from row 1's %q: plot one setting at a time", i+1, s, first)
		}
		if cells[r.Strategy] == nil {
			cells[r.Strategy] = map[int]*cell{}
		}
		ce := cells[r.Strategy][r.CPUs]
		if ce == nil {
			ce = &cell{}
			cells[r.Strategy][r.CPUs] = ce
		}
		if !slices.Contains(cpus, r.CPUs) {
			cpus = append(cpus, r.CPUs)
		}
		if r.Executions > 0 {
			executed = true
			ce.missRates = append(ce.missRates, 100*float64(r.Misses)/float64(r.Executions))
		}
		if r.Hits > 0 {
			ce.costs = append(ce.costs, float64(r.OverheadCycles)/float64(r.Hits))
		}
	}
	if !executed {
		return Summary{}, errors.New("no row has a probe execution: nothing to plot")
	}
	slices.Sort(cpus)
	strategies := make([]string, 0, len(cells))
	for s := range cells {
		strategies = append(strategies, s)
	}
	slices.Sort(strategies)
	sum := Summary{Setting: first, CPUs: cpus}
	for _, s := range strategies {
		se := Series{Strategy: s, MissRate: []Point{}, CyclesPerHit: []Point{}}
		for _, n := range cpus {
			ce := cells[s][n]
			if ce == nil {
				continue
			}
			if len(ce.missRates) > 0 {
				se.MissRate = append(se.MissRate, summarise(n, ce.missRates))
			}
			if len(ce.costs) > 0 {
				se.CyclesPerHit = append(se.CyclesPerHit, summarise(n, ce.costs))
			}
		}
		sum.Series = append(sum.Series, se)
	}
	return sum, nil
}

// summarise is the mean, minimum and maximum of vs (not empty).
func summarise(cpus int, vs []float64) Point {
	p := Point{CPUs: cpus, Seeds: len(vs), Min: vs[0], Max: vs[0]}
	total := 0.0
	for _, v := range vs {
		total += v
		p.Min = min(p.Min, v)
		p.Max = max(p.Max, v)
	}
	p.Mean = total / float64(len(vs))
	return p
}

// seedRange is the fewest and most seeds behind any point of s.
func (s Summary) seedRange() (lo, hi int) {
	for _, se := range s.Series {
		for _, pts := range [][]Point{se.MissRate, se.CyclesPerHit} {
			for _, p := range pts {
				if lo == 0 || p.Seeds < lo {
					lo = p.Seeds
				}
				hi = max(hi, p.Seeds)
			}
		}
	}
	return lo, hi
}
