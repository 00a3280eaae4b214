package loader

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// checkInvariants asserts every promise doc.go makes about an accepted Image.
func checkInvariants(t *testing.T, im *Image) {
	t.Helper()
	require.True(t, im.Arch.Valid())
	require.Equal(t, map[Arch]uint64{ArchI386: 32, ArchX8664: 56}[im.Arch], im.Phent)
	require.NotEmpty(t, im.Segments)
	if !im.StaticPIE {
		require.Zero(t, im.Bias)
	}
	var total uint64
	for i, s := range im.Segments {
		require.NotZero(t, s.Memsz, "segment %d", i)
		require.LessOrEqual(t, s.Filesz, s.Memsz, "segment %d", i)
		require.Len(t, s.Data, int(s.Filesz), "segment %d", i)
		require.GreaterOrEqual(t, s.PageStart(), uint64(MinAddr), "segment %d", i)
		require.Greater(t, s.End(), s.Vaddr, "segment %d wraps", i)
		require.LessOrEqual(t, s.PageEnd(), im.Arch.TaskSize(), "segment %d", i)
		require.LessOrEqual(t, s.End(), s.PageEnd())
		if i > 0 {
			prev := im.Segments[i-1]
			require.Less(t, prev.Vaddr, s.Vaddr, "segments sorted")
			require.LessOrEqual(t, prev.PageEnd(), s.PageStart(), "segment %d pages overlap segment %d", i, i-1)
		}
		total += s.PageEnd() - s.PageStart()
	}
	require.LessOrEqual(t, total, uint64(MaxMemory))
	require.True(t, inExecSegment(im.Segments, im.Entry), "entry 0x%x in an exec segment", im.Entry)
	last := im.Segments[len(im.Segments)-1]
	require.Equal(t, last.PageEnd(), im.BrkStart)
	require.Zero(t, im.BrkStart%PageSize)
	if im.PhdrAddr != 0 {
		_, ok := im.SegmentAt(im.PhdrAddr)
		require.True(t, ok, "PhdrAddr 0x%x in a segment", im.PhdrAddr)
	}
	if im.TLS != nil {
		require.LessOrEqual(t, im.TLS.Filesz, im.TLS.Memsz)
		require.Len(t, im.TLS.Data, int(im.TLS.Filesz))
	}
	syms, err := im.Symbols()
	if err != nil {
		require.ErrorIs(t, err, ErrSectionHeaders)
		require.Equal(t, Corrupt, KindOf(err))
		require.False(t, strings.ContainsAny(err.Error(), "\n\r"), "one line: %q", err.Error())
		require.Empty(t, syms)
	}
	require.True(t, slices.IsSortedFunc(syms, compareSymbols))
	for i := 1; i < len(syms); i++ {
		require.NotEqual(t, syms[i-1], syms[i], "duplicate symbol")
	}
	if im.Arch == ArchI386 {
		for _, s := range syms {
			require.LessOrEqual(t, s.Value, uint64(0xFFFFFFFF))
		}
	}
}
