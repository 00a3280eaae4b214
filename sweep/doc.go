// Package sweep runs probesim over the Cartesian product of a config
// file's values and records one Row per configuration: the engine behind
// `probesim sweep`, `probesim merge` and `probesim check` (docs/sweep.md,
// docs/ci.md).
//
// It owns the config file format (Load, Parse: strict YAML, one-line
// errors naming file, line, key and value), the configuration order
// (Config.Point), sharding (Shard), running the configurations in
// parallel through the library API (Run), the results file format (Row,
// CSV and JSON, ReadFile, WriteFile), resuming (Reconcile), joining shards
// (Merge) and comparing results with a baseline (Compare).
//
// # Invariants
//
//   - A row is a pure function of the config and the configuration: no
//     host time, no host path other than the program as the config
//     spells it. Runs are deterministic, so a configuration run twice
//     gives the same row.
//   - Rows are in configuration order in every file this package writes,
//     whatever order the runs finished in: a sweep's output is
//     byte-identical for any number of jobs, and for a sweep resumed any
//     number of times.
//   - The configuration order is a mixed-radix count over the dimensions,
//     slowest first: profile, params (by name), quantum, strategy, cpus,
//     seed, each in the order the config lists its values.
//   - Rows of different sweeps (another program, args, probes, env or
//     budget) are never mixed: Reconcile and Merge refuse them.
//   - Files are replaced atomically (temporary file and rename).
//
// # Locking
//
// Run starts Options.Jobs worker goroutines, each running one
// configuration at a time on its own probesim Simulation (its own Unicorn
// engine); a Config is read-only once loaded and is shared by them. The
// workers hand rows to the goroutine that called Run over a channel; only
// that goroutine touches the collected rows and calls Progress and Save.
// Everything else in the package is single-goroutine.
package sweep
