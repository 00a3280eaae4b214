// Package sweep runs probesim over the Cartesian products of a config
// file's values and records one Row per configuration and probe: the
// engine behind `probesim sweep`, `probesim merge` and `probesim check`
// (docs/sweep.md, docs/ci.md).
//
// It owns the config file format (Load, Parse: strict YAML, one-line
// errors naming file, line, key and value; every run setting an axis,
// include and exclude), the configuration order (Config.Point, space.go),
// sharding (Shard), running the configurations in parallel through the
// library API (Run), the results file format (Row, a tidy table in CSV
// and JSON, codec.go, ReadFile, WriteFile), resuming (Reconcile, Output),
// joining shards and sweeps (Merge) and comparing results with a baseline
// (Compare).
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
//   - The configuration order is a mixed-radix count over the settings,
//     slowest first: args, env, probes, stack_limit, max_cycles, profile,
//     params (by name), quantum, strategy, cpus, seed, each in the order
//     the config lists its values; exclude skips configurations, each
//     include's product follows, and no configuration appears twice.
//   - A configuration's rows (one per probe of its set, in its order) are
//     consecutive and describe one run; they are kept, matched and
//     refused together.
//   - Rows carry their sweep's fingerprint (Config.ID): Merge never mixes
//     the indexes of different sweeps, and Reconcile matches rows by their
//     settings, so a resumed config that gained values keeps them.
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
