package sweep

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/probesim/probesim"
)

// Axes are the values a sweep gives every run setting: one list per
// setting, whose Cartesian product is a set of configurations. The top
// level of a config is one Axes; each include entry is another, which
// takes the top level's list for every setting it does not name.
//
// The lists are in the order the config gives them. The configuration
// order counts through them like a mixed-radix number, slowest first, in
// the order of the fields here: args, env, probes, stack_limit,
// max_cycles, profile, params (by name), quantum, strategy, cpus, seed.
// Seeds vary fastest so that a configuration's repetitions sit together.
type Axes struct {
	Args        [][]string // argument lists (argv[1:])
	Env         [][]string // whole environments, NAME=VALUE
	Probes      [][]string // probe sets: one row per probe of a set
	StackLimits []uint64
	MaxCycles   []uint64 // 0 = no budget
	Profiles    []string // "skylake" or a profile JSON path as written
	Params      []Param  // in name order
	Quanta      []uint64
	Strategies  []probesim.Strategy
	CPUs        []int
	Seeds       []uint64

	seeds *seedIndex // positions of Seeds, built on first use
}

// Param is one profile parameter and the values a sweep gives it.
type Param struct {
	Name   string
	Values []string
}

// Point is one configuration: one value of every setting.
type Point struct {
	// Index is the configuration's position in the sweep (0-based).
	Index      int
	Args       []string
	Env        []string
	Probes     []string
	StackLimit uint64
	MaxCycles  uint64
	Profile    string
	Params     []string // NAME=VALUE, in name order
	Quantum    uint64
	Strategy   probesim.Strategy
	CPUs       int
	Seed       uint64
}

// Key spells every setting of the configuration as name=value, in the
// configuration order (lists as JSON arrays, each param as
// param.NAME=VALUE). It names a configuration uniquely within any sweep;
// check and merge match rows by it (and the probe).
func (p Point) Key() string {
	var b strings.Builder
	fmt.Fprintf(&b, "args=%s env=%s probes=%s stack_limit=%d max_cycles=%d profile=%s",
		jsonList(p.Args), jsonList(p.Env), jsonList(p.Probes), p.StackLimit, p.MaxCycles, p.Profile)
	for _, a := range p.Params {
		b.WriteString(" " + ParamColumnPrefix + a)
	}
	fmt.Fprintf(&b, " quantum=%d strategy=%s cpus=%d seed=%d", p.Quantum, p.Strategy, p.CPUs, p.Seed)
	return b.String()
}

// radices are the lengths of the lists, slowest varying first.
func (a *Axes) radices() []int {
	r := []int{len(a.Args), len(a.Env), len(a.Probes), len(a.StackLimits), len(a.MaxCycles), len(a.Profiles)}
	for _, p := range a.Params {
		r = append(r, len(p.Values))
	}
	return append(r, len(a.Quanta), len(a.Strategies), len(a.CPUs), len(a.Seeds))
}

// size is the number of configurations of the product, and whether it is
// at most limit (else the number is not computed).
func (a *Axes) size(limit int) (int, bool) {
	n := 1
	for _, l := range a.radices() {
		n *= l
		if n > limit {
			return 0, false
		}
	}
	return n, true
}

// point decodes position pos of the product: a number in mixed radix,
// the seeds its lowest digit and the args its highest (position is the
// inverse).
func (a *Axes) point(pos int) Point {
	digit := func(n int) int {
		d := pos % n
		pos /= n
		return d
	}
	var p Point
	p.Seed = a.Seeds[digit(len(a.Seeds))]
	p.CPUs = a.CPUs[digit(len(a.CPUs))]
	p.Strategy = a.Strategies[digit(len(a.Strategies))]
	p.Quantum = a.Quanta[digit(len(a.Quanta))]
	p.Params = make([]string, len(a.Params))
	for j := len(a.Params) - 1; j >= 0; j-- {
		vs := a.Params[j].Values
		p.Params[j] = a.Params[j].Name + "=" + vs[digit(len(vs))]
	}
	p.Profile = a.Profiles[digit(len(a.Profiles))]
	p.MaxCycles = a.MaxCycles[digit(len(a.MaxCycles))]
	p.StackLimit = a.StackLimits[digit(len(a.StackLimits))]
	p.Probes = a.Probes[digit(len(a.Probes))]
	p.Env = a.Env[digit(len(a.Env))]
	p.Args = a.Args[pos]
	return p
}

// position is the inverse of point: where p's values are in the product,
// or false if some value is not in its list.
func (a *Axes) position(p *Point) (int, bool) {
	if a.seeds == nil {
		ix := newSeedIndex(a.Seeds)
		a.seeds = &ix
	}
	digits := []int{
		slices.IndexFunc(a.Args, func(l []string) bool { return slices.Equal(l, p.Args) }),
		slices.IndexFunc(a.Env, func(l []string) bool { return slices.Equal(l, p.Env) }),
		slices.IndexFunc(a.Probes, func(l []string) bool { return slices.Equal(l, p.Probes) }),
		slices.Index(a.StackLimits, p.StackLimit),
		slices.Index(a.MaxCycles, p.MaxCycles),
		slices.Index(a.Profiles, p.Profile),
	}
	if len(p.Params) != len(a.Params) {
		return 0, false
	}
	for j, q := range a.Params {
		name, value, _ := strings.Cut(p.Params[j], "=")
		v := slices.Index(q.Values, value)
		if name != q.Name {
			v = -1
		}
		digits = append(digits, v)
	}
	s, ok := a.seeds.position(p.Seed)
	if !ok {
		return 0, false
	}
	digits = append(digits, slices.Index(a.Quanta, p.Quantum), slices.Index(a.Strategies, p.Strategy),
		slices.Index(a.CPUs, p.CPUs), s)
	pos := 0
	for i, r := range a.radices() {
		if digits[i] < 0 {
			return 0, false
		}
		pos = pos*r + digits[i]
	}
	return pos, true
}

// varies names the settings with several values.
func (a *Axes) varies() map[string]bool {
	out := map[string]bool{
		"args": len(a.Args) > 1, "env": len(a.Env) > 1, "probes": len(a.Probes) > 1,
		"stack_limit": len(a.StackLimits) > 1, "max_cycles": len(a.MaxCycles) > 1,
		"profile": len(a.Profiles) > 1, "quantum": len(a.Quanta) > 1,
	}
	for _, p := range a.Params {
		out[ParamColumnPrefix+p.Name] = len(p.Values) > 1
	}
	return out
}

// canonical is a's lists in a fixed spelling, for the sweep's
// fingerprint.
func (a *Axes) canonical() any {
	return map[string]any{
		"args": a.Args, "env": a.Env, "probes": a.Probes, "stack_limit": a.StackLimits,
		"max_cycles": a.MaxCycles, "profile": a.Profiles, "params": a.Params, "quantum": a.Quanta,
		"strategies": a.Strategies, "cpus": a.CPUs, "seeds": a.Seeds,
	}
}

// values are the spellings of the values a gives the setting key
// (settingValue's keys).
func (a *Axes) values(key string) []string {
	var out []string
	add := func(n int, at func(int) string) {
		for i := range n {
			out = append(out, at(i))
		}
	}
	switch key {
	case "args":
		add(len(a.Args), func(i int) string { return jsonList(a.Args[i]) })
	case "env":
		add(len(a.Env), func(i int) string { return jsonList(a.Env[i]) })
	case "probes":
		add(len(a.Probes), func(i int) string { return jsonList(a.Probes[i]) })
	case "stack_limit":
		add(len(a.StackLimits), func(i int) string { return u(a.StackLimits[i]) })
	case "max_cycles":
		add(len(a.MaxCycles), func(i int) string { return u(a.MaxCycles[i]) })
	case "profile":
		out = a.Profiles
	case "quantum":
		add(len(a.Quanta), func(i int) string { return u(a.Quanta[i]) })
	case "strategies":
		add(len(a.Strategies), func(i int) string { return string(a.Strategies[i]) })
	case "cpus":
		add(len(a.CPUs), func(i int) string { return strconv.Itoa(a.CPUs[i]) })
	case "seeds":
		add(len(a.Seeds), func(i int) string { return u(a.Seeds[i]) })
	default:
		name, _ := strings.CutPrefix(key, "params.")
		for _, p := range a.Params {
			if p.Name == name {
				out = p.Values
			}
		}
	}
	return out
}

// settingValue is the spelling of one setting of p, by its config key or
// param column name, as filters compare it: JSON for lists, decimal for
// counts.
func settingValue(p *Point, key string) string {
	switch key {
	case "args":
		return jsonList(p.Args)
	case "env":
		return jsonList(p.Env)
	case "probes":
		return jsonList(p.Probes)
	case "stack_limit":
		return u(p.StackLimit)
	case "max_cycles":
		return u(p.MaxCycles)
	case "profile":
		return p.Profile
	case "quantum":
		return u(p.Quantum)
	case "strategies":
		return string(p.Strategy)
	case "cpus":
		return strconv.Itoa(p.CPUs)
	case "seeds":
		return u(p.Seed)
	}
	if name, ok := strings.CutPrefix(key, "params."); ok {
		for _, a := range p.Params {
			if n, v, _ := strings.Cut(a, "="); n == name {
				return v
			}
		}
	}
	return ""
}

// jsonList spells a string list as a JSON array ("[]" when empty).
func jsonList(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(l) // a []string always marshals
	return string(b)
}

func u(v uint64) string { return strconv.FormatUint(v, 10) }
