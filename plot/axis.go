package plot

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/probesim/probesim/sweep"
)

// Axis is a setting of the rows that a figure lays along x or splits its
// panels by: a column, one argument's position, or a parameter.
type Axis struct {
	// Name is the axis as the command line spells it: "cpus",
	// "args[2]", "param.kernel.exception_entry_exit", "quantum".
	Name string
	// Label is what the figure writes on the axis.
	Label string
	// key is the rest-key field the axis stands for (settings.go).
	key   string
	argAt int // the argument's position, for args[N]
	value func(*sweep.Row) (string, bool)
}

var argsAxis = regexp.MustCompile(`^args\[(\d+)\]$`)

// ParseAxis reads an axis name: cpus (or vcpus), quantum, stack_limit,
// max_cycles, profile, probe, args[N] (argument N, from 0), or a
// parameter, param.NAME or NAME.
func ParseAxis(s string) (Axis, error) {
	col := func(key, label string, v func(*sweep.Row) string) (Axis, error) {
		return Axis{Name: s, Label: label, key: key, argAt: -1,
			value: func(r *sweep.Row) (string, bool) { return v(r), true }}, nil
	}
	switch s {
	case "cpus", "vcpus":
		return col("cpus", "vCPUs", func(r *sweep.Row) string { return strconv.Itoa(r.CPUs) })
	case "quantum":
		return col("quantum", "quantum (cycles)", func(r *sweep.Row) string { return strconv.FormatUint(r.Quantum, 10) })
	case "stack_limit":
		return col("stack_limit", "stack limit (bytes)", func(r *sweep.Row) string { return strconv.FormatUint(r.StackLimit, 10) })
	case "max_cycles":
		return col("max_cycles", "cycle budget", func(r *sweep.Row) string { return strconv.FormatUint(r.MaxCycles, 10) })
	case "profile":
		return col("profile", "profile", func(r *sweep.Row) string { return r.Profile })
	case "probe":
		return col("probe", "probe", func(r *sweep.Row) string { return r.Probe })
	case "strategy", "strategies", "seed", "seeds":
		return Axis{}, fmt.Errorf("%q: strategies are the series and seeds are averaged: choose another axis", s)
	case "":
		return Axis{}, fmt.Errorf("empty axis: want cpus, quantum, args[N], a parameter, ...")
	}
	if m := argsAxis.FindStringSubmatch(s); m != nil {
		n, err := strconv.Atoi(m[1])
		if err != nil || n > 1<<16 {
			return Axis{}, fmt.Errorf("%q: no such argument position", s)
		}
		return Axis{Name: s, Label: s, key: "args", argAt: n, value: func(r *sweep.Row) (string, bool) {
			if n >= len(r.Args) {
				return "", false
			}
			return r.Args[n], true
		}}, nil
	}
	name := strings.TrimPrefix(s, sweep.ParamColumnPrefix)
	if name == "" || strings.ContainsAny(name, "= ;,\"[]") {
		return Axis{}, fmt.Errorf("%q is not an axis: want cpus, quantum, stack_limit, max_cycles, profile, probe, args[N] or a parameter (param.NAME)", s)
	}
	return Axis{Name: s, Label: name, key: sweep.ParamColumnPrefix + name, argAt: -1, value: func(r *sweep.Row) (string, bool) {
		for _, a := range r.Params {
			if n, v, _ := strings.Cut(a, "="); n == name {
				return v, true
			}
		}
		return "", false
	}}, nil
}

// Scale is how an axis places its values.
type Scale int

// The scales.
const (
	// Auto: log2 for vCPU counts, linear for evenly spaced numbers,
	// categories (evenly spaced and labelled) for other numbers and text.
	Auto Scale = iota
	Linear
	Log2
	Category
)

// ParseScale reads auto, linear, log2 or category.
func ParseScale(s string) (Scale, error) {
	switch s {
	case "", "auto":
		return Auto, nil
	case "linear":
		return Linear, nil
	case "log2", "log":
		return Log2, nil
	case "category":
		return Category, nil
	}
	return 0, fmt.Errorf("%q is not a scale: want auto, linear, log2 or category", s)
}

func (s Scale) String() string { return [...]string{"auto", "linear", "log2", "category"}[s] }
