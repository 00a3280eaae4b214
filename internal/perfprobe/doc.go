// Package perfprobe drives real Linux uprobes through perf (Debian's
// linux-perf), for the commands that check probesim against this host's
// kernel (calibrate/cmd/validatekernel, cmd/validateuprobes): it places
// probes with perf probe, counts them with perf stat, and deletes them.
//
// Probes go at file offsets, never at names: given a name, perf probe with
// debug information also probes every inlined copy of the function (qsort's
// compare_ints, inlined into bsearch, counted 123,123 hits where its first
// instruction ran 120,531 times), and on Debian 12's i386 libc.so.6 it adds
// a probe on a synthetic "calloc@plt" whose placement crashed the program
// once realloc@plt was probed too. A file offset is what uprobe_events
// takes (Documentation/trace/uprobetracer.rst) and what probesim's probes
// are keyed by.
//
// Invariants: every probe a Group makes is in that group, whose name is
// the caller's and should be unique to the run (a pid in it), so that
// DeleteAll removes exactly what this run made, whoever else uses perf.
//
// Locking: none; a Group is used by one goroutine.
package perfprobe
