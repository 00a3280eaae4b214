package sweep

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Matching rows read from a file to a config's configurations.
//
// A configuration's rows (one per probe of its set, in the set's order)
// are consecutive in every file this package writes; they are matched,
// kept or refused together, as a group.

// groupOf returns the rows at the start of rows that are one
// configuration's: consecutive rows of one sweep, index and settings, at
// most one per probe of its set (a configuration repeated is two groups).
func groupOf(rows []Row) []Row {
	n := 1
	for n < len(rows) && n < len(rows[0].Probes) && sameConfig(&rows[n], &rows[0]) {
		n++
	}
	return rows[:n]
}

// checkGroup checks the rows of one configuration against each other and
// against its probe set: one row per probe, in the set's order, all
// describing one run.
func checkGroup(g []Row) error {
	r := &g[0]
	for i := range g {
		if i < len(r.Probes) && g[i].Probe != r.Probes[i] {
			return fmt.Errorf("row for probe %q where probe %q of %s is due", g[i].Probe, r.Probes[i], jsonList(r.Probes))
		}
		if !sameRun(&g[i], r) {
			return fmt.Errorf("rows of configuration %d describe different runs (probe %q: cycles %d, exit %s %d; probe %q: cycles %d, exit %s %d)",
				r.Index, r.Probe, r.Cycles, r.StopReason, r.ExitStatus, g[i].Probe, g[i].Cycles, g[i].StopReason, g[i].ExitStatus)
		}
	}
	if len(g) != len(r.Probes) {
		return fmt.Errorf("%d rows for the %d probes %s of configuration %d", len(g), len(r.Probes), jsonList(r.Probes), r.Index)
	}
	return nil
}

// rowMatcher finds the configuration of c a group of rows is, from its
// setting columns, without a table of every configuration: memory grows
// with the config's value lists, not with the number of configurations.
type rowMatcher struct {
	c    *Config
	seen bitset
}

func newRowMatcher(c *Config) *rowMatcher {
	return &rowMatcher{c: c, seen: newBitset(c.Len())}
}

// match checks group g (read from a file: where names its first row) and
// returns its configuration index in c: every row consistent
// (Row.Check), the group whole (checkGroup), of c's program, a
// configuration c has, in shard s, and not seen before. The rows' own
// index, configs and sweep are not compared: they are the sweep that wrote
// them, which may be an earlier version of c.
func (m *rowMatcher) match(where string, g []Row, s Shard) (int, error) {
	for j := range g {
		if err := g[j].Check(); err != nil {
			return 0, fmt.Errorf("%s: %v", where, err)
		}
	}
	if err := checkGroup(g); err != nil {
		return 0, fmt.Errorf("%s: %v", where, err)
	}
	r, c := &g[0], m.c
	if r.Program != c.Program {
		return 0, fmt.Errorf("%s comes from another sweep (program %q, not %q of %s)", where, r.Program, c.Program, c.File)
	}
	i, ok := c.IndexOf(r.Point())
	if !ok {
		return 0, fmt.Errorf("%s: not a configuration of %s: %s", where, c.File, c.whyNot(r.Point()))
	}
	if !s.Has(i) {
		return 0, fmt.Errorf("%s: %s: configuration %d, not in shard %s", where, c.describe(r), i, s)
	}
	if m.seen.has(i) {
		return 0, fmt.Errorf("%s: %s: appears twice", where, c.describe(r))
	}
	m.seen.set(i)
	return i, nil
}

// describe names the configuration of r for a message: by its label in c
// when it is one of c's, else by its whole key.
func (c *Config) describe(r *Row) string {
	p := r.Point()
	if _, ok := c.IndexOf(p); ok {
		return c.Label(p)
	}
	return p.Key()
}

// whyNot says why p is not one of c's configurations: the first setting
// whose value no product of c lists, else the exclusion.
func (c *Config) whyNot(p Point) string {
	all := append([]Axes{c.Axes}, c.Include...)
	for _, k := range append(labelKeys(c), "strategies", "cpus", "seeds") {
		v := settingValue(&p, k)
		var have []string
		found := false
		for i := range all {
			for _, w := range all[i].values(k) {
				found = found || w == v
				if len(have) <= 8 && !slices.Contains(have, w) {
					have = append(have, w)
				}
			}
		}
		if !found {
			if len(have) > 8 {
				have = append(have[:8], "...")
			}
			name := labelColumn(k)
			switch k { // as the columns name them
			case "strategies":
				name = "strategy"
			case "seeds":
				name = "seed"
			}
			return fmt.Sprintf("%s %s is not one of its values (%s)", name, v, strings.Join(have, ", "))
		}
	}
	if len(p.Params) != len(c.Params) {
		return fmt.Sprintf("it sets the params %s, the config %d", jsonList(paramNames(p.Params)), len(c.Params))
	}
	return c.Label(p) + " is excluded"
}

// Reconcile checks rows read from file name (an earlier, possibly
// interrupted, sweep's output) against c and shard s, and returns them in
// configuration order: each row's Index, Configs and Sweep are set from c,
// as the config may have gained values since (rows are matched by their
// setting columns). Rows that contradict themselves (Row.Check), a
// configuration's rows that do not make one run of its probe set, rows of
// another program, of a configuration c does not have or shard s does not
// hold, and repeated configurations are errors: keeping them would make
// the output something other than this sweep's. Output does the same for a
// file, streaming.
func Reconcile(c *Config, s Shard, name string, rows []Row) ([]Row, error) {
	m := newRowMatcher(c)
	out := make([]Row, 0, len(rows))
	for n := 0; n < len(rows); {
		g := groupOf(rows[n:])
		i, err := m.match(fmt.Sprintf("%s: row %d", name, n+1), g, s)
		if err != nil {
			return nil, err
		}
		for _, r := range g {
			r.Index, r.Configs, r.Sweep = i, c.Len(), c.sweepID
			out = append(out, r)
		}
		n += len(g)
	}
	slices.SortStableFunc(out, func(a, b Row) int { return a.Index - b.Index })
	return out, nil
}

// Matches checks that rows from file name (a baseline) are exactly c's
// configurations: consistent rows and groups, each at the index, with
// the number of configurations and the fingerprint c gives it, and every
// configuration once.
func Matches(c *Config, name string, rows []Row) error {
	m := newRowMatcher(c)
	var misplaced error
	groups := 0
	for n := 0; n < len(rows); {
		g := groupOf(rows[n:])
		where := fmt.Sprintf("%s: row %d", name, n+1)
		i, err := m.match(where, g, Shard{})
		if err != nil {
			return err
		}
		r := &g[0]
		if (r.Index != i || r.Configs != c.Len() || r.Sweep != c.sweepID) && misplaced == nil {
			misplaced = fmt.Errorf("%s: %s: configuration %d of %d of sweep %s (%s), not %d of %d of sweep %s",
				where, c.describe(r), i, c.Len(), c.sweepID, c.File, r.Index, r.Configs, r.Sweep)
		}
		n += len(g)
		groups++
	}
	if groups != c.Len() {
		for i := range c.Len() {
			if !m.seen.has(i) {
				return fmt.Errorf("%s: has %d of the %d configurations of %s; missing %s", name, groups, c.Len(), c.File, c.Label(c.Point(i)))
			}
		}
	}
	return misplaced
}

// seedIndex finds a seed's position in the config's list: by arithmetic
// for a range (seeds: {from, to}, up to MaxConfigs long), by binary search
// in a sorted copy otherwise.
type seedIndex struct {
	first  uint64
	n      int
	sorted []seedPos // nil for a consecutive run
}

type seedPos struct {
	seed uint64
	pos  int
}

func newSeedIndex(seeds []uint64) seedIndex {
	ix := seedIndex{n: len(seeds)}
	if len(seeds) > 0 {
		ix.first = seeds[0]
	}
	for i, s := range seeds {
		if s != ix.first+uint64(i) {
			ix.sorted = make([]seedPos, len(seeds))
			for j, s := range seeds {
				ix.sorted[j] = seedPos{s, j}
			}
			slices.SortFunc(ix.sorted, func(a, b seedPos) int { return cmpUint64(a.seed, b.seed) })
			break
		}
	}
	return ix
}

func (ix seedIndex) position(seed uint64) (int, bool) {
	if ix.sorted == nil {
		if seed < ix.first || seed-ix.first >= uint64(ix.n) {
			return 0, false
		}
		return int(seed - ix.first), true
	}
	j := sort.Search(len(ix.sorted), func(j int) bool { return ix.sorted[j].seed >= seed })
	if j == len(ix.sorted) || ix.sorted[j].seed != seed {
		return 0, false
	}
	return ix.sorted[j].pos, true
}

func cmpUint64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
