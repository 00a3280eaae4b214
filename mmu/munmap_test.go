package mmu

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMunmapSplits(t *testing.T) {
	const a = 0x400000
	tests := []struct {
		name        string
		addr, len   uint64
		want        []VMA
		wantBackend []call
	}{
		{"whole", a, 4 * pg, nil, []call{{"invalidate", a, 4 * pg, 0}, {"unmap", a, 4 * pg, 0}}},
		{"head", a, pg, []VMA{anonVMA(a+pg, a+4*pg, rw)}, []call{{"invalidate", a, pg, 0}, {"unmap", a, pg, 0}}},
		{"tail", a + 3*pg, pg, []VMA{anonVMA(a, a+3*pg, rw)}, []call{{"invalidate", a + 3*pg, pg, 0}, {"unmap", a + 3*pg, pg, 0}}},
		{"middle", a + pg, 2 * pg, []VMA{anonVMA(a, a+pg, rw), anonVMA(a+3*pg, a+4*pg, rw)},
			[]call{{"invalidate", a + pg, 2 * pg, 0}, {"unmap", a + pg, 2 * pg, 0}}},
		{"unaligned length rounds up", a + pg, 1, []VMA{anonVMA(a, a+pg, rw), anonVMA(a+2*pg, a+4*pg, rw)},
			[]call{{"invalidate", a + pg, pg, 0}, {"unmap", a + pg, pg, 0}}},
		{"range wider than the mapping", a - 8*pg, 16 * pg, nil, []call{{"invalidate", a, 4 * pg, 0}, {"unmap", a, 4 * pg, 0}}},
		{"nothing mapped there", 0x800000, pg, []VMA{anonVMA(a, a+4*pg, rw)}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			as, fb := newSpace(t, Config{})
			mustMmap(t, as, a, 4*pg, rw, anonPriv|MapFixed)
			fb.takeCalls()
			require.Equal(t, syscall.Errno(0), as.Munmap(tc.addr, tc.len))
			assert.Equal(t, tc.want, nilIfEmpty(as.VMAs()))
			assert.Equal(t, tc.wantBackend, fb.takeCalls())
			assert.Equal(t, sumSizes(tc.want), as.Stats().MappedBytes)
		})
	}
}

func TestMunmapAcrossSeveralVMAs(t *testing.T) {
	as, fb := newSpace(t, Config{})
	mustMmap(t, as, 0x400000, 2*pg, rx, anonPriv|MapFixed)
	mustMmap(t, as, 0x402000, 2*pg, rw, anonPriv|MapFixed)
	mustMmap(t, as, 0x406000, 2*pg, ro, anonPriv|MapFixed)
	fb.takeCalls()
	require.Zero(t, as.Munmap(0x401000, 6*pg))
	assert.Equal(t, []VMA{anonVMA(0x400000, 0x401000, rx), anonVMA(0x407000, 0x408000, ro)}, as.VMAs())
	// One invalidate+unmap per contiguous mapped run, the hole skipped.
	assert.Equal(t, []call{
		{"invalidate", 0x401000, 3 * pg, 0}, {"unmap", 0x401000, 3 * pg, 0},
		{"invalidate", 0x406000, pg, 0}, {"unmap", 0x406000, pg, 0},
	}, fb.takeCalls())
}

func TestMunmapErrors(t *testing.T) {
	as, _ := newSpace(t, Config{TaskSize: TaskSize32})
	mustMmap(t, as, 0x400000, pg, rw, anonPriv|MapFixed)
	for _, tc := range []struct {
		name      string
		addr, len uint64
		want      syscall.Errno
	}{
		{"unaligned", 0x400010, pg, syscall.EINVAL},
		{"zero length", 0x400000, 0, syscall.EINVAL},
		{"start beyond the task size", TaskSize32 + pg, pg, syscall.EINVAL},
		{"end beyond the task size", TaskSize32 - pg, 2 * pg, syscall.EINVAL},
		{"wrapping length", 0x400000, ^uint64(0), syscall.EINVAL},
	} {
		assert.Equal(t, tc.want, as.Munmap(tc.addr, tc.len), tc.name)
	}
	assert.Len(t, as.VMAs(), 1)
}

func TestMunmapReleasesHostMemory(t *testing.T) {
	as, _ := newSpace(t, Config{})
	a := mustMmap(t, as, 0, 4*pg, rw, anonPriv)
	b := mustMmap(t, as, 0x400000, pg, ro, anonPriv|MapFixed)
	require.NoError(t, as.Write(a, []byte{9}))
	require.NoError(t, as.Write(a+pg, []byte{9}))
	require.NoError(t, as.WriteForce(b, []byte{9}))
	assert.Equal(t, 2, as.Stats().Frames)
	assert.Equal(t, uint64(3), as.Stats().ResidentPages)
	require.Zero(t, as.Munmap(a+pg, pg))
	assert.Equal(t, 2, as.Stats().Frames, "the frame still backs the rest of the mapping")
	assert.Equal(t, uint64(2), as.Stats().ResidentPages)
	require.Zero(t, as.Munmap(a, 4*pg))
	assert.Equal(t, 1, as.Stats().Frames)
	require.Zero(t, as.Munmap(b, pg))
	st := as.Stats()
	assert.Equal(t, 0, st.Frames)
	assert.Equal(t, uint64(0), st.ResidentPages)
	assert.Equal(t, uint64(3), st.PeakResidentPages)
	assert.Equal(t, uint64(0), st.MappedBytes)
	assert.Equal(t, uint64(5*pg), st.PeakMappedBytes)
}

func nilIfEmpty(v []VMA) []VMA {
	if len(v) == 0 {
		return nil
	}
	return v
}

func sumSizes(vs []VMA) uint64 {
	var n uint64
	for _, v := range vs {
		n += v.Size()
	}
	return n
}
