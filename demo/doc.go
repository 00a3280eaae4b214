// Package demo is probesim's teaching demo, what `probesim demo` and
// `make demo` run: it shows the uprobe miss window of SMP happen.
//
// It owns the embedded workload (the threaded fixture built with musl, see
// workload.go), the four runs it compares (inline and ssol-stack on 1 and
// 4 vCPUs, one fixed seed), and the three renderings of the result: the
// comparison table, a plain-text timeline of one real miss with a walk
// through it, and a self-contained HTML page with a zoomable SVG timeline.
//
// # Invariants
//
//   - Everything shown comes from probesim.Run's Report and Events; the
//     demo computes nothing about probes itself beyond selecting and
//     laying out events.
//   - Output is a pure function of the runs: no wall clock, no map order,
//     no host path. Two demos print byte-identical text and HTML.
//   - The story's miss lies inside its window: FindStory only selects a
//     miss whose cycle is within a window opened and closed by another
//     thread, and fails otherwise.
//
// # Locking
//
// None. Run starts its runs sequentially on the calling goroutine; the
// rendering functions only read their arguments.
package demo
