package sweep

import (
	"fmt"
	"slices"
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

// Reconcile checks rows read from file name (an earlier, possibly
// interrupted, sweep's output) against c and shard s, and returns them
// ready for Options.Keep: each row's Index and Configs are set from c, as
// the config may have gained values since (rows are matched by Key).
// Rows of a different sweep (another fixed part), of a configuration c
// does not have or shard s does not hold, and repeated rows are errors:
// keeping them would make the output something other than this sweep's.
func Reconcile(c *Config, s Shard, name string, rows []Row) ([]Row, error) {
	index := make(map[string]int, c.Len())
	for i := range c.Len() {
		index[c.Point(i).Key()] = i
	}
	tmpl := c.template()
	seen := map[string]bool{}
	out := make([]Row, 0, len(rows))
	for n := range rows {
		r := rows[n]
		where := fmt.Sprintf("%s: row %d", name, n+1)
		if d := fixedDiff(&r, tmpl); d != "" {
			return nil, fmt.Errorf("%s comes from another sweep (%s in %s)", where, d, c.File)
		}
		i, ok := index[r.Key]
		if !ok {
			return nil, fmt.Errorf("%s: %q is not a configuration of %s", where, r.Key, c.File)
		}
		if !s.Has(i) {
			return nil, fmt.Errorf("%s: %q is configuration %d, not in shard %s", where, r.Key, i, s)
		}
		if seen[r.Key] {
			return nil, fmt.Errorf("%s: %q appears twice", where, r.Key)
		}
		seen[r.Key] = true
		r.Index, r.Configs = i, c.Len()
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Row) int { return a.Index - b.Index })
	return out, nil
}

// Matches checks that rows from file name (a baseline) are exactly c's
// configurations: the same fixed part and one row per configuration.
func Matches(c *Config, name string, rows []Row) error {
	kept, err := Reconcile(c, Shard{}, name, rows)
	if err != nil {
		return err
	}
	if len(kept) == c.Len() {
		return nil
	}
	have := map[int]bool{}
	for _, r := range kept {
		have[r.Index] = true
	}
	for i := range c.Len() {
		if !have[i] {
			return fmt.Errorf("%s: has %d of the %d configurations of %s; missing %q", name, len(kept), c.Len(), c.File, c.Point(i).Key())
		}
	}
	return nil
}
