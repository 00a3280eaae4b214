package plot

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/probesim/probesim/sweep"
)

// The settings of a row that a figure holds fixed: all but the strategy
// (the series), the seed (averaged) and the x and facet axes.

// setting is one fixed setting: its name, as --where and --facet take it,
// and its value in a row.
type setting struct {
	name  string
	value func(*sweep.Row) string
}

// fixedSettings are the settings of a row, but the strategy and the seed,
// in the configuration order; x and facet leave theirs out (for an
// argument, its one position).
func fixedSettings(r *sweep.Row, x Axis, facet *Axis) []setting {
	skip := func(key string) bool {
		return key == x.key && x.argAt < 0 || facet != nil && key == facet.key && facet.argAt < 0
	}
	out := []setting{{"program", func(r *sweep.Row) string { return r.Program }}}
	argsHidden := map[int]bool{}
	for _, a := range []*Axis{&x, facet} {
		if a != nil && a.key == "args" {
			argsHidden[a.argAt] = true
		}
	}
	out = append(out, setting{"args", func(r *sweep.Row) string {
		args := make([]string, len(r.Args))
		for i, v := range r.Args {
			if argsHidden[i] {
				v = "*"
			}
			args[i] = strconv.Quote(v)
		}
		return "[" + strings.Join(args, " ") + "]"
	}})
	list := func(name string, l func(*sweep.Row) []string) setting {
		return setting{name, func(r *sweep.Row) string { return fmt.Sprintf("%q", l(r)) }}
	}
	out = append(out,
		list("env", func(r *sweep.Row) []string { return r.Env }),
		list("probes", func(r *sweep.Row) []string { return r.Probes }))
	for _, c := range []setting{
		{"stack_limit", func(r *sweep.Row) string { return strconv.FormatUint(r.StackLimit, 10) }},
		{"max_cycles", func(r *sweep.Row) string { return strconv.FormatUint(r.MaxCycles, 10) }},
		{"profile", func(r *sweep.Row) string { return r.Profile }},
	} {
		if !skip(c.name) {
			out = append(out, c)
		}
	}
	out = append(out, setting{"params", func(r *sweep.Row) string {
		var kept []string
		for _, p := range r.Params {
			name, _, _ := strings.Cut(p, "=")
			if !skip(sweep.ParamColumnPrefix + name) {
				kept = append(kept, p)
			}
		}
		return strings.Join(kept, " ")
	}})
	for _, c := range []setting{
		{"quantum", func(r *sweep.Row) string { return strconv.FormatUint(r.Quantum, 10) }},
		{"cpus", func(r *sweep.Row) string { return strconv.Itoa(r.CPUs) }},
		{"probe", func(r *sweep.Row) string { return r.Probe }},
	} {
		if !skip(c.name) {
			out = append(out, c)
		}
	}
	return out
}

// restKey spells a row's fixed settings: rows of one figure share it.
func restKey(r *sweep.Row, x Axis, facet *Axis) string {
	var b strings.Builder
	for _, s := range fixedSettings(r, x, facet) {
		b.WriteString(s.name + "=" + s.value(r) + "\x00")
	}
	return b.String()
}

// differ is the error for rows a and b (rows na and nb) that differ in a
// fixed setting: it names the setting and both values, and the ways out.
func differ(a, b *sweep.Row, na, nb int, x Axis, facet *Axis) error {
	for _, s := range fixedSettings(a, x, facet) {
		va, vb := s.value(a), s.value(b)
		if va == vb {
			continue
		}
		hint := fmt.Sprintf("choose one with --where %s=VALUE or lay it out with --facet %s", s.name, s.name)
		switch s.name {
		case "args":
			hint = "lay an argument out with --x args[N] or --facet args[N], or choose one with --where args[N]=VALUE"
		case "params":
			hint = "lay a parameter out with --x or --facet param.NAME, or choose one with --where param.NAME=VALUE"
		case "program", "env", "probes":
			hint = "plot one of them at a time"
		case "probe":
			hint = "choose one with --probe SPEC or lay them out with --facet probe"
		}
		return fmt.Errorf("rows %d and %d differ in %s (%s and %s) besides the x axis (%s): %s", na, nb, s.name, va, vb, x.Name, hint)
	}
	return fmt.Errorf("rows %d and %d differ besides the x axis", na, nb)
}
