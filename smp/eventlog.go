package smp

// chunkLog is an append-only log kept in fixed-size chunks. A run with
// probes records an event per probed execution (hundreds of thousands):
// one growing slice would copy and re-zero its whole content at every
// doubling, which showed up at ~10% of a probe hit's host time. Chunks are
// never moved; All copies them out once, for the (rare) reader.
type chunkLog[T any] struct {
	chunks [][]T
	n      int
}

// chunkLen is the number of entries per chunk (4096 events of 32 bytes:
// 128 KiB).
const chunkLen = 4096

func (l *chunkLog[T]) add(v T) {
	if k := len(l.chunks); k == 0 || len(l.chunks[k-1]) == chunkLen {
		l.chunks = append(l.chunks, make([]T, 0, chunkLen))
	}
	last := &l.chunks[len(l.chunks)-1]
	*last = append(*last, v)
	l.n++
}

// all returns every entry in order, in a new slice (nil when empty).
func (l *chunkLog[T]) all() []T {
	if l.n == 0 {
		return nil
	}
	out := make([]T, 0, l.n)
	for _, c := range l.chunks {
		out = append(out, c...)
	}
	return out
}
