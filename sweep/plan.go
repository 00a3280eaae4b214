package sweep

import (
	"fmt"
	"iter"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/probesim/probesim"
)

// Point is one configuration: one value of every dimension.
type Point struct {
	// Index is the configuration's position in the sweep (0-based).
	Index    int
	CPUs     int
	Strategy probesim.Strategy
	Seed     uint64
	Quantum  uint64
	Profile  string
	Params   []string // NAME=VALUE, in name order
}

// Key spells the configuration as name=value pairs: cpus, strategy, seed,
// quantum, profile, then the params. It names a configuration in rows,
// messages and tables, and is how resume, merge and check match rows.
func (p Point) Key() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cpus=%d strategy=%s seed=%d quantum=%d profile=%s", p.CPUs, p.Strategy, p.Seed, p.Quantum, p.Profile)
	for _, a := range p.Params {
		b.WriteString(" " + a)
	}
	return b.String()
}

// radices are the lengths of the dimensions from the slowest varying to
// the fastest: profile, each param (in name order), quantum, strategy,
// cpus, seed. Seeds vary fastest so that a configuration's repetitions sit
// together in the results, as a reader averaging over seeds wants them.
func (c *Config) radices() []int {
	r := []int{len(c.Profiles)}
	for _, p := range c.Params {
		r = append(r, len(p.Values))
	}
	return append(r, len(c.Quanta), len(c.Strategies), len(c.CPUs), len(c.Seeds))
}

// Len is the number of configurations.
func (c *Config) Len() int {
	return len(c.Profiles) * c.combos() * len(c.Quanta) * len(c.Strategies) * len(c.CPUs) * len(c.Seeds)
}

// Point returns configuration i (0 <= i < Len()), decoding i as a
// mixed-radix number over the dimensions (radices).
func (c *Config) Point(i int) Point {
	p := Point{Index: i}
	p.Seed = c.Seeds[i%len(c.Seeds)]
	i /= len(c.Seeds)
	p.CPUs = c.CPUs[i%len(c.CPUs)]
	i /= len(c.CPUs)
	p.Strategy = c.Strategies[i%len(c.Strategies)]
	i /= len(c.Strategies)
	p.Quantum = c.Quanta[i%len(c.Quanta)]
	i /= len(c.Quanta)
	combos := c.combos()
	p.Params = c.paramsOf(i % combos)
	i /= combos
	p.Profile = c.Profiles[i]
	return p
}

// combos is the number of combinations of the params' values.
func (c *Config) combos() int {
	n := 1
	for _, q := range c.Params {
		n *= len(q.Values)
	}
	return n
}

// Indexes yields the configuration indexes of shard s in configuration
// order (all of them for the zero Shard), computing each as it goes: a
// sweep never holds its Cartesian product in memory.
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

// GuestDir is where sweeps and checks run their program in the guest's
// view: GuestDir/<base name>, whatever the program's host path, so that a
// configuration measures the same from any checkout or working directory
// (argv[0] and AT_EXECFN are on the stack, and /proc/self/exe names it).
const GuestDir = "/probesim"

// RunConfig is the library configuration that runs point p.
func (c *Config) RunConfig(p Point) probesim.Config {
	return probesim.Config{
		Program: c.ProgramPath, GuestPath: path.Join(GuestDir, filepath.Base(c.ProgramPath)),
		Args: c.Args, Env: c.Env, Seed: p.Seed,
		CPUs: p.CPUs, Quantum: p.Quantum,
		Profile: c.profiles[p.Profile], Params: p.Params,
		MaxCycles: c.MaxCycles, StackLimit: c.StackLimit,
		Probes: c.Probes, Strategy: p.Strategy,
	}
}

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

// Label names configuration p for a table: cpus, strategy and seed, and
// the other dimensions only when the config gives them several values.
func (c *Config) Label(p Point) string {
	s := fmt.Sprintf("cpus=%d strategy=%s seed=%d", p.CPUs, p.Strategy, p.Seed)
	if len(c.Quanta) > 1 {
		s += fmt.Sprintf(" quantum=%d", p.Quantum)
	}
	if len(c.Profiles) > 1 {
		s += " profile=" + p.Profile
	}
	for i, q := range c.Params {
		if len(q.Values) > 1 {
			s += " " + p.Params[i]
		}
	}
	return s
}
