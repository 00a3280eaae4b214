package plot

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/probesim/probesim/sweep"
)

// Options choose what a figure shows of a results file.
type Options struct {
	// X is the axis along x (default cpus), Facet the one whose values
	// each get a column of panels ("" for none).
	X, Facet string
	// XScale places X's values (default Auto).
	XScale Scale
	// XLabel names the x axis ("" = the axis' own label: "vCPUs",
	// "args[2]", a parameter's name).
	XLabel string
	// Metrics are the panels' quantities, in order (default miss_rate and
	// cycles_per_hit; Metrics lists them all).
	Metrics []string
	// Probe selects the rows of one probe; "" takes the only probe of
	// every configuration, or, when configurations have several, every
	// probe's counts summed (sweep.Totals).
	Probe string
	// Where are COL=VALUE filters on settings (any Axis name, or
	// strategy and seed): only matching rows are drawn.
	Where []string
}

// Metric is a quantity a panel can show, computed from a row's counts.
type Metric struct {
	Name  string // miss_rate, cycles_per_hit, ...
	Title string // the panel's title: "Miss rate"
	Label string // the y axis: "miss rate (%)"
	// Max caps the y axis (0 = none).
	Max   float64
	value func(*sweep.Row) (float64, bool) // false: the row does not measure it
}

// Metrics are the quantities a figure can show.
var Metrics = []Metric{
	{"miss_rate", "Miss rate", "miss rate (%)", 100, func(r *sweep.Row) (float64, bool) {
		return 100 * float64(r.Misses) / float64(r.Executions), r.Executions > 0
	}},
	{"cycles_per_hit", "Probe overhead per hit", "cycles per hit", 0, func(r *sweep.Row) (float64, bool) {
		return float64(r.OverheadCycles) / float64(r.Hits), r.Hits > 0
	}},
	{"misses", "Misses", "misses", 0, func(r *sweep.Row) (float64, bool) { return float64(r.Misses), true }},
	{"hits", "Hits", "hits", 0, func(r *sweep.Row) (float64, bool) { return float64(r.Hits), true }},
	{"window_cycles", "Time the original byte was back", "window cycles", 0, func(r *sweep.Row) (float64, bool) {
		return float64(r.WindowCycles), true
	}},
	{"cycles", "Run time", "cycles", 0, func(r *sweep.Row) (float64, bool) { return float64(r.Cycles), true }},
}

// MetricNames lists Metrics' names.
func MetricNames() []string {
	out := make([]string, len(Metrics))
	for i, m := range Metrics {
		out[i] = m.Name
	}
	return out
}

// Point is one strategy at one x value, summarised over the seeds that
// measured it: their mean, and the minimum and maximum.
type Point struct {
	X         int // index into Summary.XValues
	Seeds     int // how many rows the mean is over
	Mean      float64
	Min, Max  float64
	positionX float64
}

// Series is one strategy's points in one panel, in x order. An x value
// where no row measured the metric has no point.
type Series struct {
	Strategy string
	Points   []Point
}

// Panel is one metric at one facet value.
type Panel struct {
	Metric Metric
	Facet  string // the facet's value, "" without facets
	Series []Series
}

// Summary is what a figure shows: the panels (a row per metric and a
// column per facet value, or the metrics side by side without facets),
// over one x axis shared by all.
type Summary struct {
	Title   string // the settings every row shares
	X       Axis
	Scale   Scale     // resolved (never Auto)
	XValues []string  // in order along x
	XPos    []float64 // where each is drawn
	Facet   *Axis
	Facets  []string // the facet values, in order ([""] without facets)
	Metrics []Metric
	// Panels[m][f] is metric m at facet value f.
	Panels [][]Panel
	// Strategies are the series, in knownStrategies order (others
	// after, by name).
	Strategies []string
	// MinSeeds and MaxSeeds are the fewest and most rows behind a point.
	MinSeeds, MaxSeeds int
}

// ErrNoRows is Summarize's error for an empty results file.
var ErrNoRows = errors.New("no rows to plot")

// Summarize reduces rows to the panels o asks for. Every row must be a
// sweep row; the rows drawn must differ only in the strategy, the seed, X
// and Facet (a setting that varies besides is an error naming it and its
// values, to filter with Where or to make the Facet); and each
// configuration must appear once.
func Summarize(rows []sweep.Row, o Options) (Summary, error) {
	var s Summary
	if len(rows) == 0 {
		return s, ErrNoRows
	}
	if o.X == "" {
		o.X = "cpus"
	}
	x, err := ParseAxis(o.X)
	if err != nil {
		return s, fmt.Errorf("--x: %w", err)
	}
	if o.XLabel != "" {
		x.Label = o.XLabel
	}
	s.X = x
	if o.Facet != "" {
		f, err := ParseAxis(o.Facet)
		if err != nil {
			return s, fmt.Errorf("--facet: %w", err)
		}
		if f.key == x.key && f.argAt == x.argAt {
			return s, fmt.Errorf("--facet %s: the x axis already", o.Facet)
		}
		s.Facet = &f
	}
	if s.Metrics, err = metricsOf(o.Metrics); err != nil {
		return s, err
	}
	for i := range rows {
		if err := checkRow(&rows[i], i+1); err != nil {
			return s, err
		}
	}
	if rows, err = selectProbe(rows, o.Probe); err != nil {
		return s, err
	}
	if rows, err = filter(rows, o.Where); err != nil {
		return s, err
	}
	if len(rows) == 0 {
		return s, fmt.Errorf("no row matches --where %s", strings.Join(o.Where, " --where "))
	}
	if err := s.collect(rows, o.XScale); err != nil {
		return s, err
	}
	return s, nil
}

// metricsOf resolves metric names (default miss_rate, cycles_per_hit).
func metricsOf(names []string) ([]Metric, error) {
	if len(names) == 0 {
		names = []string{"miss_rate", "cycles_per_hit"}
	}
	var out []Metric
	for _, n := range names {
		i := slices.IndexFunc(Metrics, func(m Metric) bool { return m.Name == n })
		if i < 0 {
			return nil, fmt.Errorf("--metric %s: want one of %s", n, strings.Join(MetricNames(), ", "))
		}
		if slices.ContainsFunc(out, func(m Metric) bool { return m.Name == n }) {
			return nil, fmt.Errorf("--metric %s: given twice", n)
		}
		out = append(out, Metrics[i])
	}
	return out, nil
}

// checkRow refuses what is not a sweep row (n counts from 1).
func checkRow(r *sweep.Row, n int) error {
	switch {
	case r.Strategy == "":
		return fmt.Errorf("row %d: no strategy (not a sweep results row)", n)
	case r.CPUs < 1:
		return fmt.Errorf("row %d: cpus %d, want at least 1 (not a sweep results row)", n, r.CPUs)
	}
	return nil
}

// selectProbe keeps the rows of probe, or folds each configuration's
// probes into one row when probe is "" and some configuration has
// several.
func selectProbe(rows []sweep.Row, probe string) ([]sweep.Row, error) {
	if probe != "" {
		var out []sweep.Row
		for _, r := range rows {
			if r.Probe == probe {
				out = append(out, r)
			}
		}
		if len(out) == 0 {
			var have []string
			for _, r := range rows {
				if !slices.Contains(have, r.Probe) {
					have = append(have, r.Probe)
				}
			}
			return nil, fmt.Errorf("--probe %s: no row of that probe (the probes: %s)", probe, strings.Join(have, ", "))
		}
		return out, nil
	}
	for _, r := range rows {
		if len(r.Probes) > 1 {
			return sweep.Totals(rows), nil
		}
	}
	return rows, nil
}

// filter keeps the rows matching every COL=VALUE of where.
func filter(rows []sweep.Row, where []string) ([]sweep.Row, error) {
	type cond struct {
		value func(*sweep.Row) (string, bool)
		want  string
	}
	var conds []cond
	for _, w := range where {
		col, want, ok := strings.Cut(w, "=")
		if !ok {
			return nil, fmt.Errorf("--where %s: want COLUMN=VALUE, such as quantum=1000", w)
		}
		switch col {
		case "strategy":
			conds = append(conds, cond{func(r *sweep.Row) (string, bool) { return r.Strategy, true }, want})
		case "seed":
			conds = append(conds, cond{func(r *sweep.Row) (string, bool) { return strconv.FormatUint(r.Seed, 10), true }, want})
		default:
			a, err := ParseAxis(col)
			if err != nil {
				return nil, fmt.Errorf("--where %s: %w", w, err)
			}
			conds = append(conds, cond{a.value, want})
		}
	}
	var out []sweep.Row
	for i := range rows {
		keep := true
		for _, c := range conds {
			if v, ok := c.value(&rows[i]); !ok || v != c.want {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, rows[i])
		}
	}
	return out, nil
}

// collect lays the rows out: the x and facet values, the points of every
// panel, and the title.
func (s *Summary) collect(rows []sweep.Row, scale Scale) error {
	type cellKey struct {
		facet, x int
		strategy string
	}
	var xs, facets, strategies []string
	restFirst := ""
	firstRow := -1
	values := map[cellKey][][]float64{} // per metric
	dup := map[string]int{}
	for i := range rows {
		r := &rows[i]
		xv, ok := s.X.value(r)
		if !ok {
			return missing(r, i+1, s.X)
		}
		fv := ""
		if s.Facet != nil {
			if fv, ok = s.Facet.value(r); !ok {
				return missing(r, i+1, *s.Facet)
			}
		}
		rest := restKey(r, s.X, s.Facet)
		if firstRow < 0 {
			restFirst, firstRow = rest, i
		} else if rest != restFirst {
			return differ(&rows[firstRow], r, firstRow+1, i+1, s.X, s.Facet)
		}
		id := fmt.Sprintf("%s\x00%s\x00%s\x00%d", fv, xv, r.Strategy, r.Seed)
		if prev, ok := dup[id]; ok {
			return fmt.Errorf("row %d: repeats row %d (strategy %s, %s %s, seed %d): merge shards with probesim merge, do not concatenate them",
				i+1, prev, r.Strategy, s.X.Name, xv, r.Seed)
		}
		dup[id] = i + 1
		xi := indexOrAdd(&xs, xv)
		fi := indexOrAdd(&facets, fv)
		indexOrAdd(&strategies, r.Strategy)
		k := cellKey{fi, xi, r.Strategy}
		if values[k] == nil {
			values[k] = make([][]float64, len(s.Metrics))
		}
		for m, met := range s.Metrics {
			if v, ok := met.value(r); ok {
				values[k][m] = append(values[k][m], v)
			}
		}
	}
	// Order the values: numerically when they all are numbers.
	xOrder := orderValues(xs)
	s.XValues = permute(xs, xOrder)
	fOrder := orderValues(facets)
	s.Facets = permute(facets, fOrder)
	s.Strategies = orderStrategies(strategies)
	var err error
	if s.Scale, s.XPos, err = positions(s.X, s.XValues, scale); err != nil {
		return err
	}
	executed := false
	s.Panels = make([][]Panel, len(s.Metrics))
	for m, met := range s.Metrics {
		s.Panels[m] = make([]Panel, len(s.Facets))
		for f, fv := range s.Facets {
			p := Panel{Metric: met, Facet: fv}
			for _, st := range s.Strategies {
				se := Series{Strategy: st}
				for x := range s.XValues {
					k := cellKey{fOrder[f], xOrder[x], st}
					if values[k] == nil || len(values[k][m]) == 0 {
						continue
					}
					pt := summarise(values[k][m])
					pt.X, pt.positionX = x, s.XPos[x]
					se.Points = append(se.Points, pt)
					executed = true
					s.noteSeeds(pt.Seeds)
				}
				p.Series = append(p.Series, se)
			}
			s.Panels[m][f] = p
		}
	}
	if !executed {
		return errors.New("no row has a probe execution: nothing to plot")
	}
	s.Title = title(&rows[0], s.X, s.Facet)
	return nil
}

func (s *Summary) noteSeeds(n int) {
	if s.MinSeeds == 0 || n < s.MinSeeds {
		s.MinSeeds = n
	}
	s.MaxSeeds = max(s.MaxSeeds, n)
}

// missing is the error for row n, which has no value of axis a.
func missing(r *sweep.Row, n int, a Axis) error {
	if a.key == "args" {
		return fmt.Errorf("row %d has no %s (args %s)", n, a.Name, strings.Join(r.Args, " "))
	}
	params := "none"
	if len(r.Params) > 0 {
		params = strings.Join(r.Params, " ")
	}
	return fmt.Errorf("row %d has no parameter %s (its params: %s): the axes are cpus, quantum, stack_limit, max_cycles, profile, probe, args[N] and param.NAME",
		n, a.Label, params)
}

// indexOrAdd is v's index in *l, appending it if new.
func indexOrAdd(l *[]string, v string) int {
	if i := slices.Index(*l, v); i >= 0 {
		return i
	}
	*l = append(*l, v)
	return len(*l) - 1
}

// orderValues returns the indexes of values in drawing order: ascending
// when every value is a number, else as they first appear.
func orderValues(values []string) []int {
	order := make([]int, len(values))
	for i := range order {
		order[i] = i
	}
	nums := make([]float64, len(values))
	for i, v := range values {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return order
		}
		nums[i] = f
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case nums[a] < nums[b]:
			return -1
		case nums[a] > nums[b]:
			return 1
		}
		return 0
	})
	return order
}

func permute(values []string, order []int) []string {
	out := make([]string, len(order))
	for i, j := range order {
		out[i] = values[j]
	}
	return out
}

// orderStrategies puts the strategies in knownStrategies' order, any
// other after, by name: the order of the legend, the same in every figure.
func orderStrategies(have []string) []string {
	var out []string
	for _, s := range knownStrategies {
		if slices.Contains(have, string(s)) {
			out = append(out, string(s))
		}
	}
	var rest []string
	for _, s := range have {
		if !slices.Contains(out, s) {
			rest = append(rest, s)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// positions resolves the scale and places the x values.
func positions(x Axis, values []string, scale Scale) (Scale, []float64, error) {
	nums := make([]float64, len(values))
	numeric := true
	for i, v := range values {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			numeric = false
			break
		}
		nums[i] = f
	}
	if scale == Auto {
		switch {
		case !numeric:
			scale = Category
		case x.key == "cpus" && nums[0] > 0:
			scale = Log2
		case evenlySpaced(nums):
			scale = Linear
		default:
			// Design points such as 0, 1000, 2000, 4000, 8000: a linear
			// axis would crowd the small ones together.
			scale = Category
		}
	}
	pos := make([]float64, len(values))
	switch scale {
	case Category:
		for i := range pos {
			pos[i] = float64(i)
		}
	case Linear, Log2:
		if !numeric {
			return 0, nil, fmt.Errorf("--x-scale %s: %s has values that are not numbers (%s)", scale, x.Name, strings.Join(values, ", "))
		}
		for i, f := range nums {
			if scale == Log2 {
				if f <= 0 {
					return 0, nil, fmt.Errorf("--x-scale log2: %s has the value %s: a log scale needs positive values (try --x-scale linear or category)", x.Name, values[i])
				}
				f = math.Log2(f)
			}
			pos[i] = f
		}
	}
	return scale, pos, nil
}

// evenlySpaced says whether ascending values step by one amount (within
// 1%), as 100, 200, 300 do.
func evenlySpaced(v []float64) bool {
	if len(v) < 3 {
		return true
	}
	step := v[1] - v[0]
	for i := 2; i < len(v); i++ {
		if math.Abs((v[i]-v[i-1])-step) > 0.01*math.Abs(step) {
			return false
		}
	}
	return true
}

// summarise is the mean, minimum and maximum of vs (not empty).
func summarise(vs []float64) Point {
	p := Point{Seeds: len(vs), Min: vs[0], Max: vs[0]}
	total := 0.0
	for _, v := range vs {
		total += v
		p.Min = min(p.Min, v)
		p.Max = max(p.Max, v)
	}
	p.Mean = total / float64(len(vs))
	return p
}

// title names what every drawn row shares: the program's base name and
// its arguments (the x or facet argument as its axis name), the probe,
// and the machine settings set.
func title(r *sweep.Row, x Axis, facet *Axis) string {
	args := slices.Clone(r.Args)
	for _, a := range []*Axis{&x, facet} {
		if a != nil && a.key == "args" && a.argAt < len(args) {
			args[a.argAt] = a.Name
		}
	}
	var b strings.Builder
	b.WriteString(strings.Join(append([]string{filepath.Base(r.Program)}, args...), " "))
	probe := r.Probe
	if probe == sweep.AllProbes {
		probe = strings.Join(r.Probes, " + ")
	}
	fmt.Fprintf(&b, " \u00b7 probe %s", probe)
	if len(r.Env) > 0 {
		fmt.Fprintf(&b, " \u00b7 env %s", strings.Join(r.Env, " "))
	}
	var machine []string
	if x.key != "quantum" && (facet == nil || facet.key != "quantum") {
		machine = append(machine, "quantum "+strconv.FormatUint(r.Quantum, 10))
	}
	if x.key != "profile" && (facet == nil || facet.key != "profile") && r.Profile != "" {
		machine = append(machine, "profile "+r.Profile)
	}
	for _, p := range r.Params {
		name, _, _ := strings.Cut(p, "=")
		if x.key != sweep.ParamColumnPrefix+name && (facet == nil || facet.key != sweep.ParamColumnPrefix+name) {
			machine = append(machine, p)
		}
	}
	if len(machine) > 0 {
		b.WriteString(" \u00b7 " + strings.Join(machine, ", "))
	}
	return b.String()
}
