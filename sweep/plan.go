package sweep

import (
	"fmt"
	"iter"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/probesim/probesim"
)

// Len is the number of configurations.
func (c *Config) Len() int {
	b := c.blocks[len(c.blocks)-1]
	return b.first + b.count
}

// Point returns configuration i (0 <= i < Len()): the i-th live position
// of the blocks (space.go), decoded as a mixed-radix number over its
// block's lists.
func (c *Config) Point(i int) Point {
	k := sort.Search(len(c.blocks), func(k int) bool { return c.blocks[k].first > i }) - 1
	b := &c.blocks[k]
	p := b.axes.point(b.selectLive(i - b.first))
	p.Index = i
	return p
}

// IndexOf is the index of the configuration with p's values (p.Index is
// ignored), or false if the sweep has none.
func (c *Config) IndexOf(p Point) (int, bool) { return findIndex(c.blocks, &p) }

// Indexes yields the configuration indexes of shard s in configuration
// order (all of them for the zero Shard), computing each as it goes: a
// sweep never holds its configurations in memory.
func (c *Config) Indexes(s Shard) iter.Seq[int] {
	first, step := 0, 1
	if s.N > 1 {
		first, step = s.I-1, s.N
	}
	n := c.Len()
	return func(yield func(int) bool) {
		for i := first; i < n; i += step {
			if !yield(i) {
				return
			}
		}
	}
}

// ShardLen is the number of configurations of shard s.
func (c *Config) ShardLen(s Shard) int {
	if s.N <= 1 {
		return c.Len()
	}
	return (c.Len() - (s.I - 1) + s.N - 1) / s.N
}

// RunConfig is the library configuration that runs point p: the
// program's bytes as Load read them (once, so that every run of a sweep
// runs the same program), under GuestPath, so that the run is the same
// wherever the program, the config and the current directory are.
func (c *Config) RunConfig(p Point) probesim.Config {
	return probesim.Config{
		Program: c.ProgramPath, Image: c.image, GuestPath: c.GuestPath(),
		Args: p.Args, Env: p.Env, Seed: p.Seed,
		CPUs: p.CPUs, Quantum: p.Quantum,
		Profile: c.profiles[p.Profile], Params: p.Params,
		MaxCycles: p.MaxCycles, StackLimit: p.StackLimit,
		Probes: p.Probes, Strategy: p.Strategy,
	}
}

// GuestPath is the path the guest sees its program at: GuestDir and the
// program's base name.
func (c *Config) GuestPath() string { return GuestDir + "/" + filepath.Base(c.Program) }

// Shard selects a deterministic share of a sweep's configurations: shard
// I of N (1-based, 1 <= I <= N) holds the configurations whose index is
// I-1 modulo N. Interleaving (rather than cutting the order into blocks)
// gives every shard the same mix of cheap and expensive configurations.
// The zero Shard holds everything.
type Shard struct{ I, N int }

// ParseShard reads "I/N".
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("%q is not I/N (shard I of N, 1-based, such as 1/4)", s)
	}
	if n < 1 || i < 1 || i > n {
		return Shard{}, fmt.Errorf("%q: want 1 <= I <= N (shards are numbered from 1)", s)
	}
	return Shard{i, n}, nil
}

// Has reports whether configuration index belongs to the shard.
func (s Shard) Has(index int) bool { return s.N <= 1 || index%s.N == s.I-1 }

func (s Shard) String() string {
	if s.N == 0 {
		return "all"
	}
	return fmt.Sprintf("%d/%d", s.I, s.N)
}

// Label names configuration p for a table: cpus, strategy and seed, then
// every other setting that has several values in the sweep (in any of its
// include entries too).
func (c *Config) Label(p Point) string {
	varies := c.Axes.varies()
	for i := range c.Include {
		for k, v := range c.Include[i].varies() {
			varies[k] = varies[k] || v
		}
		// A setting an include gives another value varies too.
		q := c.Include[i].point(0)
		t := c.Axes.point(0)
		for _, k := range labelKeys(c) {
			if settingValue(&q, k) != settingValue(&t, k) {
				varies[labelColumn(k)] = true
			}
		}
	}
	s := fmt.Sprintf("cpus=%d strategy=%s seed=%d", p.CPUs, p.Strategy, p.Seed)
	for _, k := range labelKeys(c) {
		if varies[labelColumn(k)] {
			s += " " + labelColumn(k) + "=" + settingValue(&p, k)
		}
	}
	return s
}

// RowLabel names the row of configuration i and probe for a table: the
// configuration's Label, then the probe when some configuration has
// several.
func (c *Config) RowLabel(i int, probe string) string {
	for _, a := range append([]Axes{c.Axes}, c.Include...) {
		for _, set := range a.Probes {
			if len(set) > 1 {
				return c.Label(c.Point(i)) + " probe=" + probe
			}
		}
	}
	return c.Label(c.Point(i))
}

// labelKeys are the settings Label may add, as settingValue names them,
// in the configuration order.
func labelKeys(c *Config) []string {
	keys := []string{"args", "env", "probes", "stack_limit", "max_cycles", "profile"}
	for _, q := range c.Params {
		keys = append(keys, "params."+q.Name)
	}
	return append(keys, "quantum")
}

// labelColumn is the column a setting's key names: params.X is param.X.
func labelColumn(k string) string {
	if name, ok := strings.CutPrefix(k, "params."); ok {
		return ParamColumnPrefix + name
	}
	return k
}
