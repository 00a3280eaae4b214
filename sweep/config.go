package sweep

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/probesim/probesim"
	"github.com/probesim/probesim/internal/inputfile"
	"github.com/probesim/probesim/probes"
	"github.com/probesim/probesim/smp"
	"github.com/probesim/probesim/timing"
)

// DefaultMaxCycles is the per-run cycle budget when a config names none:
// 10 G cycles, 3.3 s of guest time at the default profile's 3 GHz. The
// host time that takes depends on the code: about 15 s for a register-only
// loop but up to about 10 minutes for a loop of stores (measured on a
// loaded 2-core host: 1.3 s and 49 s per G cycles); docs/sweep.md says so.
// A runaway configuration (a program that never ends under some schedule)
// then ends with SIGXCPU and a row that says cycle_budget, instead of
// holding a sweep forever. Rows record the budget, so changing this value
// would make every existing results file one of another sweep.
const DefaultMaxCycles = 10_000_000_000

// MaxConfigBytes bounds a config file: a million seeds listed one by one
// fit, /dev/zero named by mistake does not.
const MaxConfigBytes = 16 << 20

// GuestDir is where sweeps and checks run their program in the guest's
// view: GuestDir + "/" + the base name of the config's program, whatever
// its host path, so that a configuration measures the same from any
// checkout or working directory (argv[0] and AT_EXECFN are on the stack,
// and /proc/self/exe names it).
const GuestDir = "/probesim"

// MaxProgramBytes bounds the program a sweep reads into memory once.
const MaxProgramBytes = 1 << 30

// MaxConfigs bounds a sweep's Cartesian product, so that a typo such as
// seeds: {from: 1, to: 100000000} is an error rather than a run of years.
const MaxConfigs = 1_000_000

// DefaultProfile names the built-in timing profile in profile lists.
const DefaultProfile = "skylake"

// Keys are a config file's top-level keys, in the order docs/sweep.md
// lists them: the program, the settings (axisKeys), include and exclude.
var Keys = append(append([]string{"program"}, axisKeys...), "include", "exclude")

// axisKeys are the keys of the run settings, each a list of values (an
// axis of the sweep), in the configuration order.
var axisKeys = []string{
	"args", "env", "probes", "stack_limit", "max_cycles", "profile", "params",
	"quantum", "strategies", "cpus", "seeds",
}

// Config is a parsed sweep config file: what to run and the lists of
// values whose Cartesian products are the configurations.
type Config struct {
	// File is the config's path as given to Load, for messages.
	File string
	// Program is the program as the config spells it (rows record it);
	// ProgramPath is where it is: relative paths are taken relative to
	// the config file's directory.
	Program     string
	ProgramPath string
	// Axes are the top level's values of every setting, each in the
	// order the config lists them (defaults filled in).
	Axes
	// Include are the include entries' products, each with the top
	// level's values for the settings it does not name; Exclude the
	// filters taken out of the top level's product.
	Include []Axes
	Exclude []Filter

	// image is the program's bytes, read once by Load: every run starts
	// from them under GuestPath, so that a run (argv[0], AT_EXECFN,
	// /proc/self/exe and so the initial stack) does not depend on where
	// the program or the config lie, nor on the path the config was
	// loaded by.
	image    []byte
	blocks   []block
	profiles map[string]*timing.Profile // by Profiles entry
	lines    map[string]int             // line of each top-level key
	sweepID  string
}

// Load reads and checks a sweep config file: syntax, every value, the
// profiles, and that the program loads and its probes resolve. Errors are
// one line: FILE:LINE: key: what is wrong.
func Load(path string) (*Config, error) {
	data, err := inputfile.Read(path, MaxConfigBytes, "a sweep config")
	if errors.Is(err, inputfile.ErrTooLarge) {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	if err := c.checkProgram(); err != nil {
		return nil, err
	}
	return c, nil
}

// Parse reads a config from data; name is its path (for messages, and the
// directory relative paths are resolved against). It loads the profiles
// but not the program (Load does).
func Parse(name string, data []byte) (*Config, error) {
	d := &decoder{file: name}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil && err != io.EOF {
		return nil, d.syntaxError(err)
	}
	// A config is one document: yaml.Unmarshal would silently drop what
	// follows a "---" (a second config appended by mistake, say).
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		return nil, fmt.Errorf("%s:%d: a second YAML document: a config is one document (remove the \"---\" and what follows, or merge them)", name, max(next.Line, 1))
	case err != io.EOF:
		return nil, d.syntaxError(err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: empty config: want a mapping with program, probes, cpus, strategies and seeds", name)
	}
	pairs, err := d.mapping(doc.Content[0], "config", Keys)
	if err != nil {
		// The top level reads better without the "config:" prefix.
		return nil, errors.New(strings.Replace(err.Error(), ": config: ", ": ", 1))
	}
	c := &Config{File: name, lines: map[string]int{}}
	var settings []pair
	var include, exclude *yaml.Node
	for _, p := range pairs {
		c.lines[p.key] = p.kn.Line
		switch p.key {
		case "program":
			if c.Program, err = d.scalar(p.value, p.key, "a program path"); err != nil {
				return nil, err
			}
		case "include":
			include = p.value
		case "exclude":
			exclude = p.value
		default:
			settings = append(settings, p)
		}
	}
	for _, k := range []string{"program", "probes", "cpus", "strategies", "seeds"} {
		if _, ok := c.lines[k]; !ok {
			return nil, fmt.Errorf("%s: missing key %q", name, k)
		}
	}
	set, err := d.axes(settings, "")
	if err != nil {
		return nil, err
	}
	c.Axes = set.over(defaultAxes())
	c.ProgramPath = c.Program
	if !filepath.IsAbs(c.Program) {
		c.ProgramPath = filepath.Join(filepath.Dir(name), c.Program)
	}
	if exclude != nil {
		if c.Exclude, err = c.filters(d, exclude); err != nil {
			return nil, err
		}
	}
	var includeLines []int
	if include != nil {
		if includeLines, err = c.includes(d, include); err != nil {
			return nil, err
		}
	}
	if err := c.loadProfiles(d); err != nil {
		return nil, err
	}
	if err := c.layout(includeLines); err != nil {
		return nil, err
	}
	return c, nil
}

// defaultAxes are the values of the settings a config does not give.
func defaultAxes() Axes {
	return Axes{
		Args: [][]string{{}}, Env: [][]string{{}},
		StackLimits: []uint64{smp.DefaultStackLimit}, MaxCycles: []uint64{DefaultMaxCycles},
		Profiles: []string{DefaultProfile}, Quanta: []uint64{smp.DefaultQuantum},
	}
}

// axisSet is a mapping's settings as parsed: the lists it gives (nil
// where it names none) and the lines of its keys.
type axisSet struct {
	Axes
	params map[string]Param // the params it names, by name
	lines  map[string]int
}

// given is the list a set gives, else the base's.
func given[T any](set, base []T) []T {
	if set != nil {
		return set
	}
	return base
}

// over returns base with the lists s gives in place of base's, params
// replaced by name.
func (s *axisSet) over(base Axes) Axes {
	a := base
	a.seeds = nil
	a.Args = given(s.Args, a.Args)
	a.Env = given(s.Env, a.Env)
	a.Probes = given(s.Probes, a.Probes)
	a.StackLimits = given(s.StackLimits, a.StackLimits)
	a.MaxCycles = given(s.MaxCycles, a.MaxCycles)
	a.Profiles = given(s.Profiles, a.Profiles)
	a.Quanta = given(s.Quanta, a.Quanta)
	a.Strategies = given(s.Strategies, a.Strategies)
	a.CPUs = given(s.CPUs, a.CPUs)
	a.Seeds = given(s.Seeds, a.Seeds)
	switch {
	case len(a.Params) == 0:
		a.Params = s.Params
	case len(s.params) > 0:
		params := slices.Clone(a.Params)
		for i, p := range params {
			if q, ok := s.params[p.Name]; ok {
				params[i] = q
			}
		}
		a.Params = params
	}
	return a
}

// axes parses the settings of one mapping (the top level, an include or
// an exclude entry); where prefixes keys in messages ("include 2: ").
func (d *decoder) axes(pairs []pair, where string) (*axisSet, error) {
	s := &axisSet{params: map[string]Param{}, lines: map[string]int{}}
	for _, p := range pairs {
		s.lines[p.key] = p.kn.Line
		key := where + p.key
		var err error
		switch p.key {
		case "args":
			s.Args, err = d.lists(p.value, key, "arguments", "an argument list such as [4, 500]", func(n *yaml.Node, v string) error { return nil }, true)
		case "env":
			s.Env, err = d.lists(p.value, key, "NAME=VALUE strings", "an environment such as [LANG=C]", func(n *yaml.Node, e string) error {
				if name, _, ok := strings.Cut(e, "="); !ok || name == "" {
					return d.errAt(n, key, "%q is not NAME=VALUE", e)
				}
				return nil
			}, true)
		case "probes":
			s.Probes, err = d.lists(p.value, key, "probe specs (symbol, symbol+offset or 0xADDRESS)", "a probe set such as [probed]", func(*yaml.Node, string) error { return nil }, false)
			for _, set := range s.Probes {
				if err == nil && len(set) == 0 {
					err = d.errAt(p.value, key, "an empty probe set: every configuration needs a probe")
				}
			}
		case "stack_limit":
			s.StackLimits, err = dimension(d, p, key, "byte counts such as 8M", func(t string) (uint64, bool) {
				v, perr := probesim.ParseBytes(t)
				return v, perr == nil && v >= 64<<10
			}, "is not a stack size of at least 64K (a byte count such as 8388608 or 8M)")
		case "max_cycles":
			s.MaxCycles, err = dimension(d, p, key, "cycle counts (0 = no budget)", parseCount, "is not a cycle count (0 = no budget)")
		case "cpus":
			s.CPUs, err = dimension(d, p, key, "vCPU counts", func(t string) (int, bool) {
				v, ok := parseCount(t)
				return int(v), ok && v >= 1 && v <= smp.MaxCPUs
			}, fmt.Sprintf("is not a vCPU count (1..%d)", smp.MaxCPUs))
		case "strategies":
			s.Strategies, err = dimension(d, p, key, "strategies", func(t string) (probesim.Strategy, bool) {
				st := probesim.Strategy(t)
				return st, probes.CheckStrategy(st) == nil
			}, "is not a strategy ("+probes.StrategyNames()+")")
		case "seeds":
			s.Seeds, err = seeds(d, p, key)
		case "quantum":
			// 0 is the default quantum, as in probesim run and the
			// library; rows record the quantum the run had.
			s.Quanta, err = dimension(d, p, key, "cycle counts", func(t string) (uint64, bool) {
				v, ok := parseCount(t)
				if v == 0 {
					v = smp.DefaultQuantum
				}
				return v, ok
			}, "is not a quantum in cycles (0 = the default, 10000)")
		case "profile":
			s.Profiles, err = dimension(d, p, key, `profile JSON paths or "skylake"`, func(t string) (string, bool) {
				return t, t != ""
			}, "is not a profile")
		case "params":
			s.Params, err = d.params(p, key)
			for _, q := range s.Params {
				s.params[q.Name] = q
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

// lists reads a setting whose values are lists (args, env, probes): a list
// of scalars is one value, a list of lists one value per inner list, and
// "[]" one empty value (when emptyOK). each checks every element.
func (d *decoder) lists(n *yaml.Node, key, want, example string, each func(*yaml.Node, string) error, emptyOK bool) ([][]string, error) {
	n = resolve(n)
	switch {
	case isNull(n) && emptyOK:
		return [][]string{{}}, nil
	case n.Kind == yaml.ScalarNode && !emptyOK && !isNull(n):
		n = &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{n}, Line: n.Line}
	case n.Kind != yaml.SequenceNode:
		return nil, d.errAt(n, key, "want %s, or a list of them, got %s", example, describe(n))
	}
	if len(n.Content) == 0 {
		if !emptyOK {
			return nil, d.errAt(n, key, "empty list: want %s", want)
		}
		return [][]string{{}}, nil
	}
	nested := resolve(n.Content[0]).Kind == yaml.SequenceNode
	groups := [][]*yaml.Node{n.Content}
	if nested {
		groups = groups[:0]
		for _, c := range n.Content {
			c = resolve(c)
			if c.Kind != yaml.SequenceNode {
				return nil, d.errAt(c, key, "%s among lists: write one list such as %s, or a list of them", describe(c), example)
			}
			groups = append(groups, c.Content)
		}
	}
	out := make([][]string, 0, len(groups))
	var canon []string
	for _, g := range groups {
		l := make([]string, 0, len(g))
		var nodes []*yaml.Node
		for _, c := range g {
			c = resolve(c)
			if c.Kind == yaml.SequenceNode {
				return nil, d.errAt(c, key, "a list among %s: write a list of lists such as [%s, %s]", want, example, example)
			}
			v, err := d.scalar(c, key, want)
			if err != nil {
				return nil, err
			}
			if err := each(c, v); err != nil {
				return nil, err
			}
			l, nodes = append(l, v), append(nodes, c)
		}
		if key == "probes" || strings.HasSuffix(key, " probes") {
			if err := noRepeats(d, key, nodes, l); err != nil {
				return nil, err
			}
		}
		out = append(out, l)
		canon = append(canon, jsonList(l))
	}
	if nested {
		if err := noRepeats(d, key, n.Content, canon); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// dimension reads a list of values of one setting (a scalar is a list of
// one), parsing each with parse and refusing repeats: a value listed twice
// would give two rows of one configuration.
func dimension[T any](d *decoder, p pair, key, want string, parse func(string) (T, bool), bad string) ([]T, error) {
	texts, nodes, err := d.strings(p.value, key, want, true)
	if err != nil {
		return nil, err
	}
	out := make([]T, len(texts))
	for i, s := range texts {
		v, ok := parse(s)
		if !ok {
			return nil, d.errAt(nodes[i], key, "%s %s", s, bad)
		}
		out[i] = v
	}
	canon := make([]string, len(out))
	for i, v := range out {
		canon[i] = fmt.Sprint(v)
	}
	return out, noRepeats(d, key, nodes, canon)
}

// noRepeats refuses a value listed twice.
func noRepeats(d *decoder, key string, nodes []*yaml.Node, values []string) error {
	seen := map[string]bool{}
	for i, v := range values {
		if seen[v] {
			return d.errAt(resolve(nodes[i]), key, "%s is listed twice", v)
		}
		seen[v] = true
	}
	return nil
}

// seeds reads a list of seeds or the range form {from: A, to: B}
// (inclusive).
func seeds(d *decoder, p pair, key string) ([]uint64, error) {
	if resolve(p.value).Kind != yaml.MappingNode {
		return dimension(d, p, key, "seeds", parseCount, "is not a seed (an integer 0..2^64-1)")
	}
	pairs, err := d.mapping(p.value, key, []string{"from", "to"})
	if err != nil {
		return nil, err
	}
	var bounds [2]uint64
	var have [2]bool
	for _, q := range pairs {
		s, err := d.scalar(q.value, key+": "+q.key, "a seed")
		if err != nil {
			return nil, err
		}
		v, ok := parseCount(s)
		if !ok {
			return nil, d.errAt(q.value, key+": "+q.key, "%s is not a seed (an integer 0..2^64-1)", s)
		}
		i := 0
		if q.key == "to" {
			i = 1
		}
		bounds[i], have[i] = v, true
	}
	if !have[0] || !have[1] {
		return nil, d.errAt(p.value, key, "a range needs both from and to, as {from: 1, to: 100}")
	}
	if bounds[0] > bounds[1] {
		return nil, d.errAt(p.value, key, "from %d is greater than to %d", bounds[0], bounds[1])
	}
	if bounds[1]-bounds[0] >= MaxConfigs {
		return nil, d.errAt(p.value, key, "%d..%d is more than %d seeds", bounds[0], bounds[1], MaxConfigs)
	}
	out := make([]uint64, 0, bounds[1]-bounds[0]+1)
	for s := bounds[0]; ; s++ {
		out = append(out, s)
		if s == bounds[1] {
			return out, nil
		}
	}
}

// params reads the map of profile parameter name -> values.
func (d *decoder) params(p pair, key string) ([]Param, error) {
	pairs, err := d.mapping(p.value, key, nil)
	if err != nil {
		return nil, err
	}
	out := make([]Param, 0, len(pairs))
	for _, q := range pairs {
		qkey := key + ": " + q.key
		if strings.ContainsAny(q.key, "= ;") || q.key == "" {
			return nil, fmt.Errorf("%s:%d: %s: %q is not a parameter name", d.file, q.kn.Line, key, q.key)
		}
		values, nodes, err := d.strings(q.value, qkey, "values", true)
		if err != nil {
			return nil, err
		}
		for i, v := range values {
			// Each value alone must suit the default profile; whole
			// combinations on every profile are checked by loadProfiles.
			if err := timing.Default().Set(q.key, v); err != nil {
				return nil, fmt.Errorf("%s:%d: %s: %s", d.file, nodes[i].Line, key, strings.TrimPrefix(err.Error(), "set "))
			}
		}
		if err := noRepeats(d, qkey, nodes, values); err != nil {
			return nil, err
		}
		out = append(out, Param{q.key, values})
	}
	slices.SortFunc(out, func(a, b Param) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// includes reads the include list: each entry a mapping of settings whose
// product is added to the sweep, with the top level's values for the
// settings it does not name. It returns the entries' lines.
func (c *Config) includes(d *decoder, n *yaml.Node) ([]int, error) {
	entries, err := d.items(n, "include", "mappings of settings, such as {cpus: 16, seeds: 1}", false)
	if err != nil {
		return nil, err
	}
	var lines []int
	for i, e := range entries {
		where := fmt.Sprintf("include %d: ", i+1)
		s, err := c.entry(d, e, where)
		if err != nil {
			return nil, err
		}
		c.Include = append(c.Include, s.over(c.Axes))
		lines = append(lines, e.Line)
	}
	return lines, nil
}

// filters reads the exclude list: each entry a mapping of settings to a
// value or a list of values.
func (c *Config) filters(d *decoder, n *yaml.Node) ([]Filter, error) {
	entries, err := d.items(n, "exclude", "mappings of settings, such as {cpus: 1, strategies: xol}", false)
	if err != nil {
		return nil, err
	}
	var out []Filter
	for i, e := range entries {
		s, err := c.entry(d, e, fmt.Sprintf("exclude %d: ", i+1))
		if err != nil {
			return nil, err
		}
		f := Filter{values: map[string][]string{}}
		add := func(key string, vs []string) {
			f.keys = append(f.keys, key)
			f.values[key] = vs
		}
		spell := func(key string, n int, at func(int) string) {
			if n > 0 {
				vs := make([]string, n)
				for i := range vs {
					vs[i] = at(i)
				}
				add(key, vs)
			}
		}
		spell("args", len(s.Args), func(i int) string { return jsonList(s.Args[i]) })
		spell("env", len(s.Env), func(i int) string { return jsonList(s.Env[i]) })
		spell("probes", len(s.Probes), func(i int) string { return jsonList(s.Probes[i]) })
		spell("stack_limit", len(s.StackLimits), func(i int) string { return u(s.StackLimits[i]) })
		spell("max_cycles", len(s.MaxCycles), func(i int) string { return u(s.MaxCycles[i]) })
		spell("profile", len(s.Profiles), func(i int) string { return s.Profiles[i] })
		spell("quantum", len(s.Quanta), func(i int) string { return u(s.Quanta[i]) })
		spell("strategies", len(s.Strategies), func(i int) string { return string(s.Strategies[i]) })
		spell("cpus", len(s.CPUs), func(i int) string { return strconv.Itoa(s.CPUs[i]) })
		spell("seeds", len(s.Seeds), func(i int) string { return u(s.Seeds[i]) })
		for _, p := range s.Params {
			add("params."+p.Name, p.Values)
		}
		sort.Strings(f.keys)
		out = append(out, f)
	}
	return out, nil
}

// entry parses one include or exclude entry: settings only, and params
// the top level has.
func (c *Config) entry(d *decoder, e *yaml.Node, where string) (*axisSet, error) {
	pairs, err := d.mapping(e, strings.TrimSuffix(where, ": "), axisKeys)
	if err != nil {
		return nil, err
	}
	if len(pairs) == 0 {
		return nil, d.errAt(e, strings.TrimSuffix(where, ": "), "an empty entry: name at least one setting")
	}
	s, err := d.axes(pairs, where)
	if err != nil {
		return nil, err
	}
	for _, p := range s.Params {
		if !slices.ContainsFunc(c.Params, func(q Param) bool { return q.Name == p.Name }) {
			return nil, fmt.Errorf("%s:%d: %sparams: %s: not a parameter of the top level's params (every configuration sets the same parameters)", d.file, s.lines["params"], where, p.Name)
		}
	}
	return s, nil
}

// layout builds the blocks of configurations and the sweep's
// fingerprint.
func (c *Config) layout(includeLines []int) error {
	all := []*Axes{&c.Axes}
	for i := range c.Include {
		all = append(all, &c.Include[i])
	}
	sizes := make([]int, len(all))
	for i, a := range all {
		n, ok := a.size(MaxConfigs)
		if !ok {
			what := c.File
			if i > 0 {
				what = fmt.Sprintf("%s:%d: include %d", c.File, includeLines[i-1], i)
			}
			return fmt.Errorf("%s: more than %d configurations; at most %d are allowed", what, MaxConfigs, MaxConfigs)
		}
		sizes[i] = n
	}
	var added []int
	c.blocks, added = buildBlocks(&c.Axes, all[1:], c.Exclude, sizes)
	for i, n := range added {
		if n == 0 {
			return fmt.Errorf("%s:%d: include %d: adds no configuration (every one it names is already in the sweep)", c.File, includeLines[i], i+1)
		}
	}
	if n := c.Len(); n == 0 {
		return fmt.Errorf("%s:%d: exclude: leaves no configuration", c.File, c.lines["exclude"])
	} else if n > MaxConfigs {
		return fmt.Errorf("%s: %d configurations; at most %d are allowed", c.File, n, MaxConfigs)
	}
	canon := []any{c.Program}
	for _, a := range all {
		canon = append(canon, a.canonical())
	}
	for _, f := range c.Exclude {
		canon = append(canon, f.values)
	}
	b, err := json.Marshal(canon) // maps marshal with sorted keys
	if err != nil {
		return err
	}
	sum := sha256.Sum256(b)
	c.sweepID = hex.EncodeToString(sum[:8])
	return nil
}

// ID is the sweep's fingerprint: 16 hex digits of a hash of its program
// and its configurations' design (values, include, exclude). Rows carry
// it (the sweep column), so that merge tells shards of one sweep from
// rows of another.
func (c *Config) ID() string { return c.sweepID }

// loadProfiles reads the profile files and checks every combination of
// parameter values against every profile, so that no configuration fails
// at run time for a value the config gave.
func (c *Config) loadProfiles(d *decoder) error {
	c.profiles = map[string]*timing.Profile{}
	line := c.lines["profile"]
	all := append([]Axes{c.Axes}, c.Include...)
	for _, a := range all {
		for _, name := range a.Profiles {
			if c.profiles[name] != nil {
				continue
			}
			prof, err := loadProfile(c.File, name)
			if err != nil {
				return fmt.Errorf("%s:%d: profile: %s: %v", d.file, line, name, err)
			}
			c.profiles[name] = prof
		}
	}
	for _, a := range all {
		combos := 1
		for _, p := range a.Params {
			combos *= len(p.Values)
			if combos > MaxConfigs {
				return nil // layout reports the size
			}
		}
		for _, name := range a.Profiles {
			for i := range combos {
				prof := *c.profiles[name]
				for _, s := range paramsOf(a.Params, i) {
					if err := prof.Override(s); err != nil {
						return fmt.Errorf("%s:%d: params: with profile %s: %s", d.file, c.lines["params"], name, strings.TrimPrefix(err.Error(), "set "))
					}
				}
			}
		}
	}
	return nil
}

// loadProfile reads the profile a config names: the built-in one, or a
// JSON file relative to the config's directory.
func loadProfile(configFile, name string) (*timing.Profile, error) {
	if slices.Contains(probesim.BuiltinProfiles, name) {
		return probesim.LoadProfile(name)
	}
	path := name
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(configFile), path)
	}
	data, err := inputfile.Read(path, timing.MaxProfileBytes, "a profile")
	if errors.Is(err, inputfile.ErrTooLarge) {
		return nil, err
	}
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, err
	}
	return timing.ParseProfile(data)
}

// paramsOf returns combination i of the parameter values as NAME=VALUE,
// in name order; the first parameter varies slowest.
func paramsOf(params []Param, i int) []string {
	out := make([]string, len(params))
	for j := len(params) - 1; j >= 0; j-- {
		vs := params[j].Values
		out[j] = params[j].Name + "=" + vs[i%len(vs)]
		i /= len(vs)
	}
	return out
}

// checkProgram loads the program with each probe set of the sweep, so
// that a missing program, an unloadable one or a probe symbol it does not
// have is reported before anything runs.
func (c *Config) checkProgram() error {
	at := func(key string) string { return fmt.Sprintf("%s:%d: %s", c.File, c.lines[key], key) }
	checked := map[string]bool{}
	for _, a := range append([]Axes{c.Axes}, c.Include...) {
		for _, set := range a.Probes {
			if checked[jsonList(set)] {
				continue
			}
			checked[jsonList(set)] = true
			p := c.Point(0)
			p.Probes = set
			sim, err := probesim.New(c.RunConfig(p))
			if err != nil {
				var ce *probesim.ConfigError
				switch {
				case errors.Is(err, fs.ErrNotExist):
					return fmt.Errorf("%s: %s: no such file (relative paths start at the config's directory)", at("program"), c.ProgramPath)
				case errors.As(err, &ce) && ce.Field == "probe":
					return fmt.Errorf("%s: %v", at("probes"), ce.Err)
				case errors.As(err, &ce) && ce.Field == "param":
					return fmt.Errorf("%s: %v", at("params"), ce.Err)
				case errors.As(err, new(*probes.UnresolvableError)):
					// The program runs, but its section headers are damaged.
					return fmt.Errorf("%s: %v", at("probes"), err)
				}
				// The loader's errors start with the path already.
				return fmt.Errorf("%s: %s: %s", at("program"), c.ProgramPath, strings.TrimPrefix(err.Error(), c.ProgramPath+": "))
			}
			if err := sim.Close(); err != nil {
				return fmt.Errorf("%s: %s: %v", at("program"), c.ProgramPath, err)
			}
		}
	}
	image, err := inputfile.Read(c.ProgramPath, MaxProgramBytes, "a sweep's program")
	if err != nil {
		return fmt.Errorf("%s: %s: %v", at("program"), c.ProgramPath, err)
	}
	c.image = image
	return nil
}
