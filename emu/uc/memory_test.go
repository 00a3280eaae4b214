package uc

import (
	"syscall"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMemReadWriteRoundTrip(t *testing.T) {
	e := newPhysEngine(t, Mode64)
	require.NoError(t, e.Map(dataAddr, 2*pageSize, ProtRead|ProtWrite))

	data := []byte("hello, guest memory")
	// Straddle the page boundary to check multi-page copies.
	addr := uint64(dataAddr + pageSize - 7)
	require.NoError(t, e.MemWrite(addr, data))
	got := make([]byte, len(data))
	require.NoError(t, e.MemRead(addr, got))
	assert.Equal(t, data, got)

	// Empty buffers are no-ops, even at unmapped addresses.
	require.NoError(t, e.MemRead(0x900000, nil))
	require.NoError(t, e.MemWrite(0x900000, []byte{}))
}

func TestMemErrorsCarryUnicornText(t *testing.T) {
	e := newPhysEngine(t, Mode64)
	require.NoError(t, e.Map(dataAddr, pageSize, ProtRead))

	err := e.Map(dataAddr, pageSize, ProtRead)
	require.Error(t, err)
	assert.Equal(t, CodeMap, ErrorCode(err))
	assert.Equal(t, "unicorn: mem_map: Invalid memory mapping (UC_ERR_MAP)", err.Error())

	err = e.Map(0x50000, 0, ProtRead)
	require.Error(t, err, "zero-size map")
	assert.Equal(t, CodeArg, ErrorCode(err))
	assert.Contains(t, err.Error(), "UC_ERR_ARG")

	err = e.Map(0x50010, pageSize, ProtRead)
	require.Error(t, err, "unaligned address")
	assert.Equal(t, CodeArg, ErrorCode(err))

	err = e.Map(0x50000, pageSize, Prot(0x100))
	require.Error(t, err, "unknown protection bits")
	assert.Equal(t, CodeArg, ErrorCode(err))

	err = e.MemRead(0x900000, make([]byte, 4))
	require.Error(t, err)
	assert.Equal(t, CodeReadUnmapped, ErrorCode(err))
	assert.Equal(t, "unicorn: mem_read: Invalid memory read (UC_ERR_READ_UNMAPPED)", err.Error())

	err = e.MemWrite(0x900000, []byte{1})
	require.Error(t, err)
	assert.Equal(t, CodeWriteUnmapped, ErrorCode(err))

	err = e.Protect(0x900000, pageSize, ProtRead)
	require.Error(t, err)
	assert.Equal(t, CodeNoMem, ErrorCode(err), "2.0.1 reports protecting an unmapped range as UC_ERR_NOMEM")

	err = e.Unmap(0x900000, pageSize)
	require.Error(t, err)
	assert.Equal(t, CodeNoMem, ErrorCode(err), "2.0.1 reports unmapping an unmapped range as UC_ERR_NOMEM")

	err = e.MapPtr(0x60000, pageSize, ProtRead, nil)
	require.Error(t, err)
	assert.Equal(t, "unicorn: mem_map_ptr: nil host memory for [0x60000, +0x1000)", err.Error())
}

func TestProtectAndUnmap(t *testing.T) {
	e := newPhysEngine(t, Mode64)
	require.NoError(t, e.Map(dataAddr, 3*pageSize, ProtAll))
	// Protecting the middle page splits the region; host-side access ignores
	// protections, so reads still succeed.
	require.NoError(t, e.Protect(dataAddr+pageSize, pageSize, ProtNone))
	require.NoError(t, e.MemWrite(dataAddr+pageSize, []byte{42}))
	b := make([]byte, 1)
	require.NoError(t, e.MemRead(dataAddr+pageSize, b))
	assert.Equal(t, byte(42), b[0])

	require.NoError(t, e.Unmap(dataAddr+pageSize, pageSize))
	assert.Equal(t, CodeReadUnmapped, ErrorCode(e.MemRead(dataAddr+pageSize, b)))
	require.NoError(t, e.MemRead(dataAddr, b), "the first page stays mapped")
	require.NoError(t, e.MemRead(dataAddr+2*pageSize, b), "the last page stays mapped")
}

func TestMapPtrSharesHostMemory(t *testing.T) {
	host, err := syscall.Mmap(-1, 0, pageSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	require.NoError(t, err)
	// Close both engines before the host memory goes away.
	t.Cleanup(func() { require.NoError(t, syscall.Munmap(host)) })

	a := newPhysEngine(t, Mode64)
	b := newPhysEngine(t, Mode32)
	require.NoError(t, a.MapPtr(dataAddr, pageSize, ProtRead|ProtWrite, unsafe.Pointer(&host[0])))
	require.NoError(t, b.MapPtr(0x70000, pageSize, ProtRead, unsafe.Pointer(&host[0])))

	host[5] = 0x5a
	got := make([]byte, 1)
	require.NoError(t, a.MemRead(dataAddr+5, got))
	assert.Equal(t, byte(0x5a), got[0])

	require.NoError(t, a.MemWrite(dataAddr+6, []byte{0xa5}))
	assert.Equal(t, byte(0xa5), host[6])
	require.NoError(t, b.MemRead(0x70006, got))
	assert.Equal(t, byte(0xa5), got[0], "a second engine sees the same bytes")
}

func TestClosedEngine(t *testing.T) {
	e, err := Open(Mode64)
	require.NoError(t, err)
	require.NoError(t, e.Map(dataAddr, pageSize, ProtRead))
	_, err = e.HookInterrupt(func(uint32) {})
	require.NoError(t, err)
	require.NoError(t, e.EnableAccounting(func(uint64, uint32) (uint32, uint64) { return 1, 256 }))

	require.NoError(t, e.Close())
	require.NoError(t, e.Close(), "Close is idempotent")

	assert.ErrorIs(t, e.Map(0x50000, pageSize, ProtRead), ErrClosed)
	assert.ErrorIs(t, e.MemRead(dataAddr, make([]byte, 1)), ErrClosed)
	_, err = e.RegRead(RAX)
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, e.Start(codeAddr, exitAddr, 0, 0), ErrClosed)
	_, err = e.HookSyscall(func() {})
	assert.ErrorIs(t, err, ErrClosed)
	c := NewCounters()
	e.SetCounters(c) // ignored, must not crash
	c.Free()
	e.InvalidateCosts(0, 1<<20) // ignored, must not crash
	assert.Equal(t, "unicorn: engine is closed", ErrClosed.Error())
}

func TestVersionIsChecked(t *testing.T) {
	require.NoError(t, checkVersion(), "the linked libunicorn is the one this binding is for")
	assert.EqualError(t, versionMismatch(2, 0, 1), "unicorn: linked libunicorn is 2.0.1, want 2.1.1 (run make deps)")
	assert.NoError(t, versionMismatch(2, 1, 1))
}

func TestOpenRejectsUnknownMode(t *testing.T) {
	_, err := Open(Mode(3))
	require.Error(t, err)
	assert.Equal(t, "unicorn: open: unsupported mode 3 (want Mode32 or Mode64)", err.Error())
}

func TestNames(t *testing.T) {
	assert.Equal(t, "r-x", (ProtRead | ProtExec).String())
	assert.Equal(t, "---", ProtNone.String())
	assert.Equal(t, "rwx+0x8", Prot(0xf).String())
	assert.Equal(t, "i386", Mode32.String())
	assert.Equal(t, "x86-64", Mode64.String())
	assert.Equal(t, "Mode(3)", Mode(3).String())
	assert.Equal(t, "read-unmapped", MemReadUnmapped.String())
	assert.Equal(t, "MemAccess(99)", MemAccess(99).String())
}
