package sweep

import (
	"fmt"
	"math/bits"
	"slices"
	"sort"
	"strings"

	"github.com/probesim/probesim"
	"github.com/probesim/probesim/probes"
	"github.com/probesim/probesim/smp"
)

// fixedDiff names the first field of the fixed part of a sweep (program,
// args, probes, env, max_cycles, stack_limit) where a and b differ, as
// "args [...] vs [...]", or "" when they agree: rows that differ there come
// from different sweeps and are never mixed.
func fixedDiff(a, b *Row) string {
	switch {
	case a.Program != b.Program:
		return fmt.Sprintf("program %q vs %q", a.Program, b.Program)
	case !slices.Equal(a.Args, b.Args):
		return fmt.Sprintf("args %s vs %s", jsonList(a.Args), jsonList(b.Args))
	case !slices.Equal(a.Probes, b.Probes):
		return fmt.Sprintf("probes %s vs %s", jsonList(a.Probes), jsonList(b.Probes))
	case !slices.Equal(a.Env, b.Env):
		return fmt.Sprintf("env %s vs %s", jsonList(a.Env), jsonList(b.Env))
	case a.MaxCycles != b.MaxCycles:
		return fmt.Sprintf("max_cycles %d vs %d", a.MaxCycles, b.MaxCycles)
	case a.StackLimit != b.StackLimit:
		return fmt.Sprintf("stack_limit %d vs %d", a.StackLimit, b.StackLimit)
	}
	return ""
}

// template is a row carrying c's fixed part, for fixedDiff.
func (c *Config) template() *Row {
	return &Row{Program: c.Program, Args: orEmpty(c.Args), Probes: orEmpty(c.Probes), Env: orEmpty(c.Env),
		MaxCycles: c.MaxCycles, StackLimit: c.StackLimit}
}

// stopReasons are the report's stop_reason values (docs/report-schema.md).
var stopReasons = []string{"exit", "signal", "fault", "cycle_budget", "deadlock"}

// Check reports the first way r contradicts itself, so cannot be a row a
// sweep wrote: an index outside its sweep, a key that does not spell its
// dimension columns, a value no configuration can have, hits and misses
// that do not add up to the executions, rates that are not the ratios of
// the counts (to the six decimals a CSV file keeps), a window longer than
// all windows together, an exit that no run ends with. Resume, check and
// merge refuse such rows rather than pass tampered numbers on.
func (r *Row) Check() error {
	p := Point{CPUs: r.CPUs, Strategy: probesim.Strategy(r.Strategy), Seed: r.Seed, Quantum: r.Quantum,
		Profile: r.Profile, Params: r.Params}
	derived := *r
	derived.SetRates()
	missRate, perHit := derived.MissRate, derived.CyclesPerHit
	sum, carry := bits.Add64(r.Hits, r.Misses, 0)
	switch {
	case r.Configs < 1 || r.Configs > MaxConfigs:
		return fmt.Errorf("configs %d is not in 1..%d", r.Configs, MaxConfigs)
	case r.Index < 0 || r.Index >= r.Configs:
		return fmt.Errorf("index %d is not in 0..%d", r.Index, r.Configs-1)
	case r.Key != p.Key():
		return fmt.Errorf("key %q does not match the row's columns (%q)", r.Key, p.Key())
	case r.CPUs < 1 || r.CPUs > smp.MaxCPUs:
		return fmt.Errorf("cpus %d is not in 1..%d", r.CPUs, smp.MaxCPUs)
	case probes.CheckStrategy(p.Strategy) != nil:
		return fmt.Errorf("strategy %q is not one of %s", r.Strategy, probes.StrategyNames())
	case r.Quantum < 1:
		return fmt.Errorf("quantum 0 is not a quantum")
	case r.Profile == "":
		return fmt.Errorf("no profile")
	case carry != 0 || sum != r.Executions:
		return fmt.Errorf("hits %d + misses %d is not executions %d", r.Hits, r.Misses, r.Executions)
	case formatFloat(r.MissRate) != formatFloat(missRate):
		return fmt.Errorf("miss_rate %s is not misses/executions (%s)", formatFloat(r.MissRate), formatFloat(missRate))
	case formatFloat(r.CyclesPerHit) != formatFloat(perHit):
		return fmt.Errorf("cycles_per_hit %s is not overhead_cycles/hits (%s)", formatFloat(r.CyclesPerHit), formatFloat(perHit))
	case r.MaxWindowCycles > r.WindowCycles || (r.Windows == 0 && r.WindowCycles != 0):
		return fmt.Errorf("windows %d of %d cycles cannot have a longest of %d", r.Windows, r.WindowCycles, r.MaxWindowCycles)
	case !slices.Contains(stopReasons, r.StopReason):
		return fmt.Errorf("stop_reason %q is not one of %s", r.StopReason, strings.Join(stopReasons, ", "))
	case r.ExitStatus < 0 || r.ExitStatus > 255 || (r.StopReason != "exit" && r.ExitStatus <= 128):
		return fmt.Errorf("exit_status %d cannot end a run by %s", r.ExitStatus, r.StopReason)
	}
	return nil
}

// rowMatcher finds the configuration of c a row is, from its dimension
// columns, without a table of every configuration: memory grows with the
// config's value lists, not with the number of configurations.
type rowMatcher struct {
	c     *Config
	tmpl  *Row
	seeds seedIndex
}

func newRowMatcher(c *Config) *rowMatcher {
	return &rowMatcher{c: c, tmpl: c.template(), seeds: newSeedIndex(c.Seeds)}
}

// match checks r (read from a file, row n counting from 1, already Checked
// for consistency) against the config and returns its configuration index
// in c. Rows of another sweep and configurations c does not have are
// errors.
func (m *rowMatcher) match(where string, r *Row) (int, error) {
	c := m.c
	if d := fixedDiff(r, m.tmpl); d != "" {
		return 0, fmt.Errorf("%s comes from another sweep (%s in %s)", where, d, c.File)
	}
	i, ok := m.index(r)
	if !ok {
		return 0, fmt.Errorf("%s: %q is not a configuration of %s", where, r.Key, c.File)
	}
	return i, nil
}

// index is the configuration whose values r's dimension columns hold: the
// inverse of Config.Point.
func (m *rowMatcher) index(r *Row) (int, bool) {
	c := m.c
	s, ok := m.seeds.position(r.Seed)
	if !ok {
		return 0, false
	}
	cpu := slices.Index(c.CPUs, r.CPUs)
	st := slices.Index(c.Strategies, probesim.Strategy(r.Strategy))
	q := slices.Index(c.Quanta, r.Quantum)
	prof := slices.Index(c.Profiles, r.Profile)
	if cpu < 0 || st < 0 || q < 0 || prof < 0 || len(r.Params) != len(c.Params) {
		return 0, false
	}
	combo := 0
	for j, p := range c.Params {
		name, value, _ := strings.Cut(r.Params[j], "=")
		v := slices.Index(p.Values, value)
		if name != p.Name || v < 0 {
			return 0, false
		}
		combo = combo*len(p.Values) + v
	}
	i := prof
	i = i*c.combos() + combo
	i = i*len(c.Quanta) + q
	i = i*len(c.Strategies) + st
	i = i*len(c.CPUs) + cpu
	i = i*len(c.Seeds) + s
	return i, true
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

// Reconcile checks rows read from file name (an earlier, possibly
// interrupted, sweep's output) against c and shard s, and returns them in
// configuration order: each row's Index and Configs are set from c, as the
// config may have gained values since (rows are matched by their
// dimension columns, which must spell their Key). Rows that contradict
// themselves (Row.Check), rows of a different sweep (another fixed part),
// of a configuration c does not have or shard s does not hold, and
// repeated rows are errors: keeping them would make the output something
// other than this sweep's. Output does the same for a file, streaming.
func Reconcile(c *Config, s Shard, name string, rows []Row) ([]Row, error) {
	m := newRowMatcher(c)
	seen := newBitset(c.Len())
	out := make([]Row, 0, len(rows))
	for n := range rows {
		r := rows[n]
		i, err := m.reconcile(fmt.Sprintf("%s: row %d", name, n+1), &r, s, seen)
		if err != nil {
			return nil, err
		}
		r.Index, r.Configs = i, c.Len()
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Row) int { return a.Index - b.Index })
	return out, nil
}

// reconcile is Reconcile's check of one row: its configuration index in c.
func (m *rowMatcher) reconcile(where string, r *Row, s Shard, seen bitset) (int, error) {
	if err := r.Check(); err != nil {
		return 0, fmt.Errorf("%s: %v", where, err)
	}
	i, err := m.match(where, r)
	if err != nil {
		return 0, err
	}
	if !s.Has(i) {
		return 0, fmt.Errorf("%s: %q is configuration %d, not in shard %s", where, r.Key, i, s)
	}
	if seen.has(i) {
		return 0, fmt.Errorf("%s: %q appears twice", where, r.Key)
	}
	seen.set(i)
	return i, nil
}

// Matches checks that rows from file name (a baseline) are exactly c's
// configurations: consistent rows (Row.Check), the same fixed part, each
// at the index and with the number of configurations c gives it, and one
// row per configuration.
func Matches(c *Config, name string, rows []Row) error {
	m := newRowMatcher(c)
	seen := newBitset(c.Len())
	var misplaced error
	for n := range rows {
		r := &rows[n]
		where := fmt.Sprintf("%s: row %d", name, n+1)
		i, err := m.reconcile(where, r, Shard{}, seen)
		if err != nil {
			return err
		}
		if (r.Index != i || r.Configs != c.Len()) && misplaced == nil {
			misplaced = fmt.Errorf("%s: %q is configuration %d of %d in %s, not %d of %d", where, r.Key, i, c.Len(), c.File, r.Index, r.Configs)
		}
	}
	if len(rows) != c.Len() {
		for i := range c.Len() {
			if !seen.has(i) {
				return fmt.Errorf("%s: has %d of the %d configurations of %s; missing %q", name, len(rows), c.Len(), c.File, c.Point(i).Key())
			}
		}
	}
	return misplaced
}

// bitset is a set of configuration indexes.
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

func (b bitset) has(i int) bool { return b[i/64]&(1<<(i%64)) != 0 }
func (b bitset) set(i int)      { b[i/64] |= 1 << (i % 64) }
