// Package plot draws sweep results (sweep.Row) as one figure of two panels
// side by side: the probes' miss rate against the number of vCPUs, one line
// per strategy, and the probes' cost in cycles per hit, one line per
// strategy. It owns the summary of rows into per-strategy series (Summarize)
// and the drawing of that summary with gonum.org/v1/plot (Render).
//
// # Invariants
//
//   - A figure shows one setting: the rows' program, arguments, probes,
//     quantum, profile and parameters are the same, and only the strategy,
//     the vCPU count and the seed vary. Split separates the rows of a file
//     that holds several settings; Summarize refuses to mix them, since the
//     spread over seeds would then also be a spread over settings.
//   - Each point is the mean over the seeds of one (strategy, vCPUs) pair and
//     its error bar spans the minimum to the maximum over those seeds: with
//     the few seeds a sweep runs, the extremes are what was measured, where a
//     standard deviation would be an estimate from two to five values.
//   - Miss rates are recomputed as misses / executions and cycles per hit as
//     overhead cycles / hits, at full precision rather than from the rounded
//     columns; rows without executions (or without hits) have no miss rate
//     (or no cycles per hit) and are left out of that mean.
//   - Output is a pure function of the rows and the size: strategies are in
//     name order, vCPU counts ascending, no map is iterated into the output,
//     and the SVG and PNG encoders embed no time, so identical input gives
//     identical bytes.
//
// # Locking
//
// None: every function works on its arguments only and may be called from
// several goroutines at once.
package plot
