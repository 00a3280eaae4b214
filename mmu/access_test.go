package mmu

import (
	"errors"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadWriteShareMemoryWithBackends(t *testing.T) {
	as, fb := newSpace(t, Config{})
	a := mustMmap(t, as, 0, 2*pg, rw, anonPriv)
	// A write straddling the page boundary.
	require.NoError(t, as.Write(a+pg-2, []byte("abcd")))
	got, err := fb.peek(a+pg-2, 4)
	require.NoError(t, err)
	assert.Equal(t, []byte("abcd"), got)
	// Guest stores through the engine are visible to Read.
	require.NoError(t, fb.poke(a+10, []byte("xyz")))
	buf := make([]byte, 3)
	require.NoError(t, as.Read(a+10, buf))
	assert.Equal(t, []byte("xyz"), buf)
	// Empty accesses succeed anywhere mapped or not.
	require.NoError(t, as.Read(0, nil))
	require.NoError(t, as.Write(0, nil))
}

func TestReadWriteAcrossVMAsAndChunks(t *testing.T) {
	as, _ := newSpace(t, Config{})
	mustMmap(t, as, 0x400000, pg, rw, anonPriv|MapFixed)
	mustMmap(t, as, 0x401000, pg, rwx, anonPriv|MapFixed)
	mustMmap(t, as, 0x402000, pg, rw, anonPriv|MapFixed) // merges with nothing: rwx between
	data := make([]byte, 3*pg)
	for i := range data {
		data[i] = byte(i * 7)
	}
	require.NoError(t, as.Write(0x400000, data))
	got := make([]byte, len(data))
	require.NoError(t, as.Read(0x400000, got))
	assert.Equal(t, data, got)
}

func TestAccessPermissions(t *testing.T) {
	const a = 0x400000
	tests := []struct {
		name            string
		prot            Prot
		readOK, writeOK bool
	}{
		{"none", ProtNone, false, false},
		{"read", ro, true, false},
		{"write only is readable on x86", ProtWrite, true, true},
		{"exec only is readable on x86", ProtExec, true, false},
		{"read-exec", rx, true, false},
		{"read-write", rw, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			as, _ := newSpace(t, Config{})
			mustMmap(t, as, a, pg, tc.prot, anonPriv|MapFixed)
			err := as.Read(a, make([]byte, 8))
			assert.Equal(t, tc.readOK, err == nil, "read: %v", err)
			err = as.Write(a, []byte{1})
			assert.Equal(t, tc.writeOK, err == nil, "write: %v", err)
			if err != nil {
				var fe *FaultError
				require.ErrorAs(t, err, &fe)
				assert.Equal(t, FaultError{Addr: a, Write: true, Reason: "not writable"}, *fe)
				assert.True(t, errors.Is(err, syscall.EFAULT))
			}
			// Forced access ignores permissions.
			require.NoError(t, as.WriteForce(a, []byte{0x55}))
			b := make([]byte, 1)
			require.NoError(t, as.ReadForce(a, b))
			assert.Equal(t, []byte{0x55}, b)
		})
	}
}

func TestAccessFaults(t *testing.T) {
	as, _ := newSpace(t, Config{})
	mustMmap(t, as, 0x400000, 2*pg, rw, anonPriv|MapFixed)
	mustMmap(t, as, 0x403000, pg, rw, anonPriv|MapFixed)
	for _, tc := range []struct {
		name string
		addr uint64
		n    int
		want FaultError
	}{
		{"unmapped", 0x500000, 4, FaultError{Addr: 0x500000, Reason: "unmapped"}},
		{"runs into a hole", 0x401ffe, 4, FaultError{Addr: 0x402000, Reason: "unmapped"}},
		{"wraps around", ^uint64(0) - 1, 4, FaultError{Addr: ^uint64(0) - 1, Reason: "address overflow"}},
	} {
		for _, write := range []bool{false, true} {
			buf := make([]byte, tc.n)
			var err error
			if write {
				err = as.Write(tc.addr, buf)
			} else {
				err = as.Read(tc.addr, buf)
			}
			var fe *FaultError
			require.ErrorAs(t, err, &fe, tc.name)
			want := tc.want
			want.Write = write
			assert.Equal(t, want, *fe, tc.name)
			err = as.ReadForce(tc.addr, buf)
			require.ErrorAs(t, err, &fe, tc.name)
		}
	}
	// All or nothing: the failed write above left the mapped part alone.
	b := make([]byte, 2)
	require.NoError(t, as.Read(0x401ffe, b))
	assert.Equal(t, []byte{0, 0}, b)
}

func TestWriteInvalidation(t *testing.T) {
	as, fb := newSpace(t, Config{})
	mustMmap(t, as, 0x400000, pg, rx, anonPriv|MapFixed)
	mustMmap(t, as, 0x401000, pg, rwx, anonPriv|MapFixed)
	mustMmap(t, as, 0x402000, pg, rw, anonPriv|MapFixed)
	fb.takeCalls()

	// Write into a writable executable page: translations dropped.
	require.NoError(t, as.Write(0x401010, []byte{0x90, 0x90}))
	assert.Equal(t, []call{{"invalidate", 0x401010, 2, 0}}, fb.takeCalls())
	// A write spanning into an executable page counts too.
	require.NoError(t, as.Write(0x401ffe, []byte{1, 2, 3, 4}))
	assert.Equal(t, []call{{"invalidate", 0x401ffe, 4, 0}}, fb.takeCalls())
	// Plain data page: nothing to drop.
	require.NoError(t, as.Write(0x402000, []byte{1}))
	assert.Empty(t, fb.takeCalls())

	// Read-only text: Write faults, WriteForce (uprobes' int3) works and
	// drops translations.
	err := as.Write(0x400100, []byte{0xcc})
	assert.True(t, errors.Is(err, syscall.EFAULT))
	assert.Empty(t, fb.takeCalls())
	require.NoError(t, as.WriteForce(0x400100, []byte{0xcc}))
	assert.Equal(t, []call{{"invalidate", 0x400100, 1, 0}}, fb.takeCalls())
	got, err := fb.peek(0x400100, 1)
	require.NoError(t, err)
	assert.Equal(t, []byte{0xcc}, got)
	// WriteForce invalidates even into data pages, unless it changes no
	// byte (0x402000 holds 1 already).
	require.NoError(t, as.WriteForce(0x402000, []byte{1}))
	assert.Empty(t, fb.takeCalls())
	require.NoError(t, as.WriteForce(0x402000, []byte{1, 2}))
	assert.Equal(t, []call{{"invalidate", 0x402000, 2, 0}}, fb.takeCalls())
	// Rewriting the bytes of executable memory as they are: nothing stale.
	require.NoError(t, as.Write(0x401010, []byte{0x90, 0x90}))
	require.NoError(t, as.WriteForce(0x400100, []byte{0xcc}))
	assert.Empty(t, fb.takeCalls())
	// Reads never do.
	require.NoError(t, as.ReadForce(0x400000, make([]byte, 3*pg)))
	require.NoError(t, as.Read(0x400000, make([]byte, 3*pg)))
	assert.Empty(t, fb.takeCalls())

	// A page made executable by a page-table override counts as code.
	require.NoError(t, as.SetPageProt(0x402000, rwx))
	fb.takeCalls()
	require.NoError(t, as.Write(0x402008, []byte{1}))
	assert.Equal(t, []call{{"invalidate", 0x402008, 1, 0}}, fb.takeCalls())
}

func TestReadString(t *testing.T) {
	as, _ := newSpace(t, Config{})
	mustMmap(t, as, 0x400000, 2*pg, rw, anonPriv|MapFixed)
	require.NoError(t, as.Write(0x400010, []byte("hello\x00world")))
	require.NoError(t, as.Write(0x400ffd, []byte("abcdef\x00")))
	// The last bytes of the mapping, NUL just before the unmapped page.
	require.NoError(t, as.Write(0x401ffc, []byte("end\x00")))
	for _, tc := range []struct {
		name  string
		addr  uint64
		limit int
		want  string
		err   error
	}{
		{"simple", 0x400010, 100, "hello", nil},
		{"empty", 0x400015, 100, "", nil},
		{"across a page boundary", 0x400ffd, 100, "abcdef", nil},
		{"NUL right before an unmapped page", 0x401ffc, 4096, "end", nil},
		{"limit reached before the NUL", 0x400010, 5, "", ErrStringTooLong},
		{"limit just includes the NUL", 0x400010, 6, "hello", nil},
		{"zero limit", 0x400010, 0, "", ErrStringTooLong},
		{"unmapped", 0x500000, 10, "", syscall.EFAULT},
		{"runs off the mapping", 0x401fff, 10, "", syscall.EFAULT},
	} {
		if tc.name == "runs off the mapping" {
			require.NoError(t, as.Write(0x401fff, []byte{'x'}))
		}
		got, err := as.ReadString(tc.addr, tc.limit)
		if tc.err != nil {
			assert.True(t, errors.Is(err, tc.err), "%s: %v", tc.name, err)
			continue
		}
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.want, got, tc.name)
	}
	assert.True(t, errors.Is(ErrStringTooLong, syscall.ENAMETOOLONG))
}
