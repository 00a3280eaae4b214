package sweep

import (
	"fmt"
	"math/bits"
	"slices"
	"strings"

	"github.com/probesim/probesim"
	"github.com/probesim/probesim/probes"
	"github.com/probesim/probesim/report"
	"github.com/probesim/probesim/smp"
)

// Row is the result of one probe of one configuration: a tidy table has
// one row per configuration and probe. A row says where its configuration
// sits in its sweep, every setting of the configuration (one column each,
// every param in its own column), what the run measured of that probe,
// and what the run as a whole did (the same in every row of the
// configuration). Every field is a pure function of the sweep config, so
// a sweep's rows are byte-identical from run to run (no host time, no
// host paths beyond the program as the config spells it).
type Row struct {
	// Index is the configuration's position in its sweep's configuration
	// order (0-based); Configs is the number of configurations of that
	// sweep, and Sweep its fingerprint (Config.ID). Merge puts shards back
	// together by them.
	Index   int    `json:"index"`
	Configs int    `json:"configs"`
	Sweep   string `json:"sweep"`

	// The configuration, in the configuration order.
	Program    string   `json:"program"`
	Args       []string `json:"args"`
	Env        []string `json:"env"`
	Probes     []string `json:"probes"` // the configuration's probe set
	StackLimit uint64   `json:"stack_limit"`
	MaxCycles  uint64   `json:"max_cycles"`
	Profile    string   `json:"profile"`
	// Params are NAME=VALUE in name order; a file has a column
	// param.NAME for each.
	Params   []string `json:"-"`
	Quantum  uint64   `json:"quantum"`
	Strategy string   `json:"strategy"`
	CPUs     int      `json:"cpus"`
	Seed     uint64   `json:"seed"`

	// The probe: its spec (one of Probes), address and instruction.
	Probe            string `json:"probe"`
	ProbeAddress     uint64 `json:"probe_address"`
	ProbeInstruction string `json:"probe_instruction"`

	Executions uint64 `json:"executions"`
	Hits       uint64 `json:"hits"`
	Misses     uint64 `json:"misses"`
	// MissRate is Misses / Executions (0 without executions).
	MissRate float64 `json:"miss_rate"`

	Windows         uint64 `json:"windows"`
	WindowCycles    uint64 `json:"window_cycles"`
	MaxWindowCycles uint64 `json:"max_window_cycles"`

	// OverheadCycles is the probe's overhead (report
	// overhead_cycles.total); CyclesPerHit is it divided by Hits.
	OverheadCycles uint64  `json:"overhead_cycles"`
	CyclesPerHit   float64 `json:"cycles_per_hit"`

	// The run: how the program ended (report stop_reason and
	// exit_status), its cycles and instructions, and what the strategy
	// had to do (report out_of_line), for all its probes together.
	ExitStatus      int    `json:"exit_status"`
	StopReason      string `json:"stop_reason"`
	Cycles          uint64 `json:"cycles"`
	Instructions    uint64 `json:"instructions"`
	NXFlips         uint64 `json:"nx_flips"`
	StackExpansions uint64 `json:"stack_expansions"`
	StackStartSlots uint64 `json:"stack_start_slots"`
	InlineFallbacks uint64 `json:"inline_fallbacks"`
}

// Failed reports whether the row's program did not exit with status 0
// (nonzero exit, fatal signal, fault or cycle budget).
func (r *Row) Failed() bool { return r.StopReason != "exit" || r.ExitStatus != 0 }

// Point is the row's configuration (with its Index).
func (r *Row) Point() Point {
	return Point{Index: r.Index, Args: r.Args, Env: r.Env, Probes: r.Probes, StackLimit: r.StackLimit,
		MaxCycles: r.MaxCycles, Profile: r.Profile, Params: r.Params, Quantum: r.Quantum,
		Strategy: probesim.Strategy(r.Strategy), CPUs: r.CPUs, Seed: r.Seed}
}

// Key spells the row's configuration (Point.Key).
func (r *Row) Key() string { return r.Point().Key() }

// RowsOf are the rows of configuration p from its run report: one per
// probe, in the order of the probe set.
func (c *Config) RowsOf(p Point, rep *report.Run) []Row {
	base := Row{
		Index: p.Index, Configs: c.Len(), Sweep: c.sweepID,
		Program: c.Program, Args: orEmpty(p.Args), Env: orEmpty(p.Env), Probes: orEmpty(p.Probes),
		StackLimit: p.StackLimit, MaxCycles: p.MaxCycles, Profile: p.Profile, Params: orEmpty(p.Params),
		Quantum: p.Quantum, Strategy: string(p.Strategy), CPUs: p.CPUs, Seed: p.Seed,
	}
	base.setRun(rep)
	rows := make([]Row, len(rep.Probes))
	for i, pr := range rep.Probes {
		r := base
		r.Probe, r.ProbeAddress, r.ProbeInstruction = pr.Spec, pr.Address, pr.Instruction
		r.Executions, r.Hits, r.Misses = pr.Executions, pr.Hits, pr.Misses
		r.Windows, r.WindowCycles, r.MaxWindowCycles = pr.Windows.Count, pr.Windows.TotalCycles, pr.Windows.MaxCycles
		r.OverheadCycles = pr.OverheadCycles.Total
		r.SetRates()
		rows[i] = r
	}
	return rows
}

// setRun fills the run-wide fields from a report.
func (r *Row) setRun(rep *report.Run) {
	r.ExitStatus, r.StopReason = rep.ExitStatus, rep.StopReason
	r.Cycles, r.Instructions = rep.Cycles, rep.Instructions
	if ool := rep.OutOfLine; ool != nil {
		r.NXFlips, r.StackExpansions, r.InlineFallbacks = ool.NXFlips, ool.StackExpansions, ool.InlineFallbacks
		r.StackStartSlots = ool.StackStartSlots
	}
}

// SetRates derives MissRate and CyclesPerHit from the counts (0 when
// there is nothing to divide by).
func (r *Row) SetRates() {
	r.MissRate, r.CyclesPerHit = 0, 0
	if r.Executions > 0 {
		r.MissRate = float64(r.Misses) / float64(r.Executions)
	}
	if r.Hits > 0 {
		r.CyclesPerHit = float64(r.OverheadCycles) / float64(r.Hits)
	}
}

// AllProbes is the Probe of a row Totals made: every probe of the
// configuration.
const AllProbes = "*"

// Totals folds the rows of each configuration into one row for the whole
// run: the probes' counts and overhead summed, the longest window of any,
// the rates derived from the sums, Probe AllProbes (no address or
// instruction). Rows of one configuration must be consecutive, as every
// file this package writes has them; a configuration of one probe keeps
// its row but for the Probe.
func Totals(rows []Row) []Row {
	var out []Row
	for i := 0; i < len(rows); {
		t := rows[i]
		t.Probe, t.ProbeAddress, t.ProbeInstruction = AllProbes, 0, ""
		j := i + 1
		for ; j < len(rows) && sameConfig(&rows[j], &rows[i]); j++ {
			r := &rows[j]
			t.Executions += r.Executions
			t.Hits += r.Hits
			t.Misses += r.Misses
			t.Windows += r.Windows
			t.WindowCycles += r.WindowCycles
			t.MaxWindowCycles = max(t.MaxWindowCycles, r.MaxWindowCycles)
			t.OverheadCycles += r.OverheadCycles
		}
		t.SetRates()
		out = append(out, t)
		i = j
	}
	return out
}

// sameConfig says whether two rows are of one configuration of one sweep.
func sameConfig(a, b *Row) bool {
	return a.Sweep == b.Sweep && a.Index == b.Index && a.Configs == b.Configs && a.Key() == b.Key()
}

// orEmpty gives nil lists one spelling ([] in JSON), so rows compare and
// encode the same whether built here or read back from a file.
func orEmpty(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// stopReasons are the report's stop_reason values a measured run can have
// (docs/report-schema.md); an interrupted run is never a row.
var stopReasons = []string{"exit", "signal", "fault", "cycle_budget", "deadlock", "out_of_memory"}

// Check reports the first way r contradicts itself, so cannot be a row a
// sweep wrote: an index outside its sweep, no fingerprint, a value no
// configuration can have, a probe outside its probe set, hits and misses
// that do not add up to the executions, rates that are not the ratios of
// the counts (to the six decimals a CSV file keeps), a window longer than
// all windows together, an exit that no run ends with. Resume, check and
// merge refuse such rows rather than pass tampered numbers on.
func (r *Row) Check() error {
	derived := *r
	derived.SetRates()
	missRate, perHit := derived.MissRate, derived.CyclesPerHit
	sum, carry := bits.Add64(r.Hits, r.Misses, 0)
	switch {
	case r.Configs < 1 || r.Configs > MaxConfigs:
		return fmt.Errorf("configs %d is not in 1..%d", r.Configs, MaxConfigs)
	case r.Index < 0 || r.Index >= r.Configs:
		return fmt.Errorf("index %d is not in 0..%d", r.Index, r.Configs-1)
	case !isSweepID(r.Sweep):
		return fmt.Errorf("sweep %q is not a sweep's fingerprint (16 hex digits)", r.Sweep)
	case r.Program == "":
		return fmt.Errorf("no program")
	case r.CPUs < 1 || r.CPUs > smp.MaxCPUs:
		return fmt.Errorf("cpus %d is not in 1..%d", r.CPUs, smp.MaxCPUs)
	case probes.CheckStrategy(probesim.Strategy(r.Strategy)) != nil:
		return fmt.Errorf("strategy %q is not one of %s", r.Strategy, probes.StrategyNames())
	case r.Quantum < 1:
		return fmt.Errorf("quantum 0 is not a quantum")
	case r.Profile == "":
		return fmt.Errorf("no profile")
	case !slices.IsSortedFunc(r.Params, func(a, b string) int { return strings.Compare(paramName(a), paramName(b)) }):
		return fmt.Errorf("params %q are not in name order", r.Params)
	case !slices.Contains(r.Probes, r.Probe):
		return fmt.Errorf("probe %q is not one of the probes %s", r.Probe, jsonList(r.Probes))
	case r.ProbeInstruction == "":
		return fmt.Errorf("probe %q has no instruction", r.Probe)
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

// sameRun says whether b's run-wide fields are a's: the rows of one
// configuration all describe its one run.
func sameRun(a, b *Row) bool {
	return a.ExitStatus == b.ExitStatus && a.StopReason == b.StopReason && a.Cycles == b.Cycles &&
		a.Instructions == b.Instructions && a.NXFlips == b.NXFlips && a.StackExpansions == b.StackExpansions &&
		a.StackStartSlots == b.StackStartSlots && a.InlineFallbacks == b.InlineFallbacks
}

func paramName(a string) string {
	n, _, _ := strings.Cut(a, "=")
	return n
}

func isSweepID(s string) bool {
	if len(s) != 16 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
