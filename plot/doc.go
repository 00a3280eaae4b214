// Package plot draws sweep results (sweep.Row) as a figure: the probes'
// miss rate and cost in cycles per hit (or other metrics), one series per
// strategy, against any setting of the sweep (the vCPU count by default,
// an argument's position, a parameter, the quantum, ...), with a column of
// panels per value of a second setting when asked (facets). It owns the
// summary of rows into panels and series (Summarize: axes, filters, the
// check that nothing else varies), the strategies' fixed colours and
// glyphs, and the drawing with gonum.org/v1/plot (Render): a grid of
// panels under one legend. A comparison figure (a few series with min-max
// bars over labelled categories) draws measured against predicted results
// (compare.go).
//
// # Invariants
//
//   - A point is one (panel, strategy, x value): the mean over the seeds,
//     its error bar the minimum to the maximum over them. The rows of a
//     figure may differ only in the strategy, the seed, the x axis and
//     the facet; Summarize refuses anything else, naming the setting, since
//     the spread over seeds would then also be a spread over settings.
//   - Miss rates are recomputed as misses / executions and cycles per hit
//     as overhead cycles / hits, at full precision rather than from the
//     rounded columns; rows without executions (or without hits) have no
//     miss rate (or no cycles per hit) and are left out of that mean.
//   - A strategy's colour and glyph depend on its name only
//     (strategyStyle), so a figure of xol alone draws xol as every other
//     figure does. The legend has its own band above the panels and never
//     covers data.
//   - Output is a pure function of the rows, the options and the size:
//     strategies in probesim's order, values in numeric order (or first
//     appearance for text), no map iterated into the output, and the SVG
//     and PNG encoders embed no time, so identical input gives identical
//     bytes.
//
// # Locking
//
// None: every function works on its arguments only and may be called from
// several goroutines at once.
package plot
