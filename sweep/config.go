package sweep

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
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

// MaxConfigs bounds a sweep's Cartesian product, so that a typo such as
// seeds: {from: 1, to: 100000000} is an error rather than a run of years.
const MaxConfigs = 1_000_000

// DefaultProfile names the built-in timing profile in profile lists.
const DefaultProfile = "skylake"

// Keys are a config file's keys, in the order docs/sweep.md lists them.
var Keys = []string{
	"program", "args", "probes", "env", "cpus", "strategies", "seeds",
	"quantum", "profile", "params", "max_cycles", "stack_limit",
}

// Config is a parsed sweep config file: what to run and the lists of
// values whose Cartesian product are the configurations.
type Config struct {
	// File is the config's path as given to Load, for messages.
	File string
	// Program is the program as the config spells it (rows record it);
	// ProgramPath is where it is: relative paths are taken relative to
	// the config file's directory.
	Program     string
	ProgramPath string
	Args        []string
	Probes      []string
	Env         []string
	MaxCycles   uint64 // 0 = no budget
	StackLimit  uint64

	// The dimensions, each in the order the config lists its values.
	CPUs       []int
	Strategies []probesim.Strategy
	Seeds      []uint64
	Quanta     []uint64 // default: [smp.DefaultQuantum]
	Profiles   []string // "skylake" or a profile JSON path as written
	Params     []Param  // in name order

	profiles map[string]*timing.Profile // by Profiles entry
	lines    map[string]int             // line of each top-level key
}

// Param is one profile parameter and the values a sweep gives it.
type Param struct {
	Name   string
	Values []string
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
	c := &Config{
		File: name, Args: []string{}, Env: []string{},
		MaxCycles: DefaultMaxCycles, StackLimit: smp.DefaultStackLimit,
		Quanta: []uint64{smp.DefaultQuantum}, Profiles: []string{DefaultProfile},
		lines: map[string]int{},
	}
	for _, p := range pairs {
		c.lines[p.key] = p.kn.Line
		if err := c.set(d, p); err != nil {
			return nil, err
		}
	}
	for _, k := range []string{"program", "probes", "cpus", "strategies", "seeds"} {
		if _, ok := c.lines[k]; !ok {
			return nil, fmt.Errorf("%s: missing key %q", name, k)
		}
	}
	c.ProgramPath = c.Program
	if !filepath.IsAbs(c.Program) {
		c.ProgramPath = filepath.Join(filepath.Dir(name), c.Program)
	}
	if err := c.loadProfiles(d); err != nil {
		return nil, err
	}
	if n, ok := c.count(); !ok {
		return nil, fmt.Errorf("%s: %s configurations; at most %d are allowed", name, n, MaxConfigs)
	}
	return c, nil
}

// set stores one top-level key.
func (c *Config) set(d *decoder, p pair) error {
	var err error
	switch p.key {
	case "program":
		c.Program, err = d.scalar(p.value, p.key, "a program path")
	case "args":
		if isNull(p.value) {
			return nil
		}
		if resolve(p.value).Kind != yaml.SequenceNode {
			return d.errAt(p.value, p.key, `want a list such as ["4", "500"], got %s`, describe(p.value))
		}
		if len(resolve(p.value).Content) > 0 {
			c.Args, _, err = d.strings(p.value, p.key, "arguments", false)
		}
	case "probes":
		var nodes []*yaml.Node
		c.Probes, nodes, err = d.strings(p.value, p.key, "probe specs (symbol, symbol+offset or 0xADDRESS)", true)
		for i, s := range c.Probes {
			if err == nil && strings.Contains(s, ",") {
				err = d.errAt(nodes[i], p.key, "%q: one spec per list item, without commas", s)
			}
		}
		if err == nil {
			err = noRepeats(d, p.key, nodes, c.Probes)
		}
	case "env":
		var nodes []*yaml.Node
		c.Env, nodes, err = d.strings(p.value, p.key, "NAME=VALUE strings", true)
		for i, e := range c.Env {
			if name, _, ok := strings.Cut(e, "="); err == nil && (!ok || name == "") {
				err = d.errAt(nodes[i], p.key, "%q is not NAME=VALUE", e)
			}
		}
	case "cpus":
		c.CPUs, err = dimension(d, p, "vCPU counts", func(s string) (int, bool) {
			v, ok := parseCount(s)
			return int(v), ok && v >= 1 && v <= smp.MaxCPUs
		}, fmt.Sprintf("is not a vCPU count (1..%d)", smp.MaxCPUs))
	case "strategies":
		c.Strategies, err = dimension(d, p, "strategies", func(s string) (probesim.Strategy, bool) {
			st := probesim.Strategy(s)
			return st, probes.CheckStrategy(st) == nil
		}, "is not a strategy ("+probes.StrategyNames()+")")
	case "seeds":
		c.Seeds, err = c.seeds(d, p)
	case "quantum":
		c.Quanta, err = dimension(d, p, "cycle counts", func(s string) (uint64, bool) {
			v, ok := parseCount(s)
			return v, ok && v >= 1
		}, "is not a quantum in cycles (at least 1)")
	case "profile":
		c.Profiles, err = dimension(d, p, `profile JSON paths or "skylake"`, func(s string) (string, bool) {
			return s, s != ""
		}, "is not a profile")
	case "params":
		c.Params, err = c.params(d, p)
	case "max_cycles":
		var s string
		if s, err = d.scalar(p.value, p.key, "a cycle count (0 = no budget)"); err == nil {
			var ok bool
			if c.MaxCycles, ok = parseCount(s); !ok {
				err = d.errAt(p.value, p.key, "%q is not a cycle count (0 = no budget)", s)
			}
		}
	case "stack_limit":
		var s string
		if s, err = d.scalar(p.value, p.key, "a byte count such as 8M"); err == nil {
			var perr error
			if c.StackLimit, perr = probesim.ParseBytes(s); perr != nil || c.StackLimit < 64<<10 {
				err = d.errAt(p.value, p.key, "%q is not a stack size of at least 64K (a byte count such as 8388608 or 8M)", s)
			}
		}
	}
	return err
}

// dimension reads a list of values of one sweep dimension (a scalar is a
// list of one), parsing each with parse and refusing repeats: a value
// listed twice would give two rows with one key.
func dimension[T any](d *decoder, p pair, want string, parse func(string) (T, bool), bad string) ([]T, error) {
	texts, nodes, err := d.strings(p.value, p.key, want, true)
	if err != nil {
		return nil, err
	}
	out := make([]T, len(texts))
	for i, s := range texts {
		v, ok := parse(s)
		if !ok {
			return nil, d.errAt(nodes[i], p.key, "%s %s", s, bad)
		}
		out[i] = v
	}
	canon := make([]string, len(out))
	for i, v := range out {
		canon[i] = fmt.Sprint(v)
	}
	return out, noRepeats(d, p.key, nodes, canon)
}

// noRepeats refuses a value listed twice.
func noRepeats(d *decoder, key string, nodes []*yaml.Node, values []string) error {
	seen := map[string]bool{}
	for i, v := range values {
		if seen[v] {
			return d.errAt(nodes[i], key, "%s is listed twice", v)
		}
		seen[v] = true
	}
	return nil
}

// seeds reads a list of seeds or the range form {from: A, to: B}
// (inclusive).
func (c *Config) seeds(d *decoder, p pair) ([]uint64, error) {
	if resolve(p.value).Kind != yaml.MappingNode {
		return dimension(d, p, "seeds", parseCount, "is not a seed (an integer 0..2^64-1)")
	}
	pairs, err := d.mapping(p.value, "seeds", []string{"from", "to"})
	if err != nil {
		return nil, err
	}
	var bounds [2]uint64
	var have [2]bool
	for _, q := range pairs {
		s, err := d.scalar(q.value, "seeds: "+q.key, "a seed")
		if err != nil {
			return nil, err
		}
		v, ok := parseCount(s)
		if !ok {
			return nil, d.errAt(q.value, "seeds: "+q.key, "%s is not a seed (an integer 0..2^64-1)", s)
		}
		i := 0
		if q.key == "to" {
			i = 1
		}
		bounds[i], have[i] = v, true
	}
	if !have[0] || !have[1] {
		return nil, d.errAt(p.value, "seeds", "a range needs both from and to, as {from: 1, to: 100}")
	}
	if bounds[0] > bounds[1] {
		return nil, d.errAt(p.value, "seeds", "from %d is greater than to %d", bounds[0], bounds[1])
	}
	if bounds[1]-bounds[0] >= MaxConfigs {
		return nil, d.errAt(p.value, "seeds", "%d..%d is more than %d seeds", bounds[0], bounds[1], MaxConfigs)
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
func (c *Config) params(d *decoder, p pair) ([]Param, error) {
	pairs, err := d.mapping(p.value, "params", nil)
	if err != nil {
		return nil, err
	}
	out := make([]Param, 0, len(pairs))
	for _, q := range pairs {
		key := "params: " + q.key
		if strings.ContainsAny(q.key, "= ;") || q.key == "" {
			return nil, fmt.Errorf("%s:%d: params: %q is not a parameter name", d.file, q.kn.Line, q.key)
		}
		values, nodes, err := d.strings(q.value, key, "values", true)
		if err != nil {
			return nil, err
		}
		for i, v := range values {
			if strings.Contains(v, ";") {
				return nil, d.errAt(nodes[i], key, "%q: values cannot hold ';'", v)
			}
			// Each value alone must suit the default profile; whole
			// combinations on every profile are checked by loadProfiles.
			if err := timing.Default().Set(q.key, v); err != nil {
				return nil, fmt.Errorf("%s:%d: params: %s", d.file, nodes[i].Line, strings.TrimPrefix(err.Error(), "set "))
			}
		}
		if err := noRepeats(d, key, nodes, values); err != nil {
			return nil, err
		}
		out = append(out, Param{q.key, values})
	}
	slices.SortFunc(out, func(a, b Param) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// loadProfiles reads the profile files and checks every combination of
// parameter values against every profile, so that no configuration fails
// at run time for a value the config gave.
func (c *Config) loadProfiles(d *decoder) error {
	c.profiles = map[string]*timing.Profile{}
	line := c.lines["profile"]
	for _, name := range c.Profiles {
		if name == DefaultProfile {
			c.profiles[name] = timing.Default()
			continue
		}
		path := name
		if !filepath.IsAbs(path) {
			path = filepath.Join(filepath.Dir(c.File), path)
		}
		data, err := inputfile.Read(path, timing.MaxProfileBytes, "a profile")
		if errors.Is(err, inputfile.ErrTooLarge) {
			return fmt.Errorf("%s:%d: profile: %s: %v", d.file, line, name, err)
		}
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return fmt.Errorf("%s:%d: profile: %s: %v", d.file, line, name, err)
		}
		prof, err := timing.ParseProfile(data)
		if err != nil {
			return fmt.Errorf("%s:%d: profile: %s: %v", d.file, line, name, err)
		}
		c.profiles[name] = prof
	}
	combos := 1
	for _, p := range c.Params {
		combos *= len(p.Values)
		if combos > MaxConfigs {
			return nil // count() reports the size
		}
	}
	for _, name := range c.Profiles {
		for i := range combos {
			prof := *c.profiles[name]
			for _, a := range c.paramsOf(i) {
				if err := prof.Override(a); err != nil {
					return fmt.Errorf("%s:%d: params: with profile %s: %s", d.file, c.lines["params"], name, strings.TrimPrefix(err.Error(), "set "))
				}
			}
		}
	}
	return nil
}

// paramsOf returns combination i of the parameter values as NAME=VALUE,
// in name order; the first parameter varies slowest.
func (c *Config) paramsOf(i int) []string {
	out := make([]string, len(c.Params))
	for j := len(c.Params) - 1; j >= 0; j-- {
		vs := c.Params[j].Values
		out[j] = c.Params[j].Name + "=" + vs[i%len(vs)]
		i /= len(vs)
	}
	return out
}

// count is the number of configurations, and whether it is within
// MaxConfigs (else its spelling is approximate: "more than N").
func (c *Config) count() (string, bool) {
	n := 1
	for _, l := range c.radices() {
		n *= l
		if n > MaxConfigs {
			return fmt.Sprintf("more than %d", MaxConfigs), false
		}
	}
	return fmt.Sprint(n), true
}

// checkProgram loads the program with the first configuration's probes,
// so that a missing program, an unloadable one or a probe symbol it does
// not have is reported before anything runs.
func (c *Config) checkProgram() error {
	at := func(key string) string { return fmt.Sprintf("%s:%d: %s", c.File, c.lines[key], key) }
	cfg := c.RunConfig(c.Point(0))
	sim, err := probesim.New(cfg)
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
	return nil
}
