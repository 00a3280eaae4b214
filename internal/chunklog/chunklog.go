// Package chunklog is an append-only log kept in fixed-size chunks, for the
// event logs of a run (watched executions, kernel changes, probe events):
// a run with probes records an event per probed execution, hundreds of
// thousands of them. One growing slice would copy and re-zero its whole
// content at every doubling, which showed up at ~10% of a probe hit's host
// time. Chunks never move; All copies them out once, for the (rare) reader.
//
// Keep T free of pointers (no strings): the garbage collector then never
// scans the chunks.
//
// A Log is not safe for concurrent use.
package chunklog

// ChunkLen is the number of entries per chunk.
const ChunkLen = 4096

// Log is an append-only log of T. The zero value is an empty log.
type Log[T any] struct {
	chunks [][]T
	n      int
}

// Add appends v.
func (l *Log[T]) Add(v T) {
	if k := len(l.chunks); k == 0 || len(l.chunks[k-1]) == ChunkLen {
		l.chunks = append(l.chunks, make([]T, 0, ChunkLen))
	}
	last := &l.chunks[len(l.chunks)-1]
	*last = append(*last, v)
	l.n++
}

// Len is the number of entries.
func (l *Log[T]) Len() int { return l.n }

// All returns every entry in order, in a new slice (nil when empty).
func (l *Log[T]) All() []T {
	if l.n == 0 {
		return nil
	}
	out := make([]T, 0, l.n)
	for _, c := range l.chunks {
		out = append(out, c...)
	}
	return out
}
