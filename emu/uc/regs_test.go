package uc

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRegReadWrite(t *testing.T) {
	e := newEngine(t, Mode64)
	require.NoError(t, e.RegWrite(RAX, 0x1122334455667788))
	assert.Equal(t, uint64(0x1122334455667788), reg(t, e, RAX))
	assert.Equal(t, uint64(0x55667788), reg(t, e, EAX), "EAX is the low half")

	require.NoError(t, e.RegWrite(FS_BASE, 0x7fff0000))
	assert.Equal(t, uint64(0x7fff0000), reg(t, e, FS_BASE))

	_, err := e.RegRead(Reg(9999))
	require.Error(t, err)
	assert.Equal(t, "unicorn: reg_read: unsupported register 9999", err.Error())
	assert.Error(t, e.RegWrite(Reg(-1), 0))
	assert.Equal(t, "rip", RIP.String())
	assert.Equal(t, "Reg(9999)", Reg(9999).String())
}

func TestRegBatch(t *testing.T) {
	e := newEngine(t, Mode64)
	// More than one C chunk (32) to cover the chunking.
	regs := []Reg{RAX, RBX, RCX, RDX, RSI, RDI, RBP, RSP, R8, R9, R10, R11, R12, R13, R14, R15}
	regs = append(regs, regs...)
	regs = append(regs, RIP, FS_BASE, GS_BASE)
	vals := make([]uint64, len(regs))
	for i := range vals {
		vals[i] = uint64(i+1) << 32
	}
	// Registers listed twice get the later value.
	require.NoError(t, e.RegWriteBatch(regs, vals))

	got := make([]uint64, len(regs))
	require.NoError(t, e.RegReadBatch(regs, got))
	for i, r := range regs {
		want := vals[i]
		if i < 16 {
			want = vals[i+16]
		}
		assert.Equal(t, want, got[i], "register %v", r)
	}

	// Narrow registers come back zero-extended.
	require.NoError(t, e.RegWriteBatch([]Reg{RAX}, []uint64{^uint64(0)}))
	narrow := []uint64{7, 7}
	require.NoError(t, e.RegReadBatch([]Reg{EAX, CS}, narrow))
	assert.Equal(t, uint64(0xffffffff), narrow[0])
	assert.Equal(t, uint64(0), narrow[1])

	err := e.RegReadBatch([]Reg{RAX, RBX}, make([]uint64, 1))
	require.Error(t, err)
	assert.Equal(t, "unicorn: reg_read_batch: 2 registers but 1 values", err.Error())
	assert.Error(t, e.RegWriteBatch([]Reg{RAX, Reg(12345)}, make([]uint64, 2)))
	require.NoError(t, e.RegReadBatch(nil, nil))
}

func TestRegFewAtOnce(t *testing.T) {
	e := newEngine(t, Mode64)
	require.NoError(t, e.RegWrite2(RIP, 0x401000, RSP, 0x7fff0000))
	require.NoError(t, e.RegWrite(RAX, ^uint64(0)))
	v, err := e.RegRead3(RIP, RSP, EAX)
	require.NoError(t, err)
	assert.Equal(t, [3]uint64{0x401000, 0x7fff0000, 0xffffffff}, v, "narrow registers zero-extended")

	// EFLAGS bit 1 always reads as set; TF is bit 8.
	f, err := e.RegUpdate(EFLAGS, 0, 1<<8)
	require.NoError(t, err)
	assert.Equal(t, uint64(1<<8|2), f)
	assert.Equal(t, f, reg(t, e, EFLAGS))
	f, err = e.RegUpdate(EFLAGS, 1<<8, 0)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), f)

	_, err = e.RegRead3(RAX, Reg(9999), RBX)
	assert.EqualError(t, err, "unicorn: reg_read_batch: unsupported register 9999")
	assert.EqualError(t, e.RegWrite2(RAX, 0, Reg(-5), 0), "unicorn: reg_write_batch: unsupported register -5")
	_, err = e.RegUpdate(Reg(9999), 0, 0)
	assert.EqualError(t, err, "unicorn: reg_update: unsupported register 9999")
	require.NoError(t, e.Close())
	_, err = e.RegRead3(RAX, RBX, RCX)
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, e.RegWrite2(RAX, 0, RBX, 0), ErrClosed)
	_, err = e.RegUpdate(EFLAGS, 0, 0)
	assert.ErrorIs(t, err, ErrClosed)
}

func TestContextSaveRestore(t *testing.T) {
	e := newEngine(t, Mode64)
	// mov eax, 9; mov ecx, 9
	loadCode(t, e, cat(movEAX(9), movECX(9)))
	require.NoError(t, e.RegWriteBatch([]Reg{RAX, RCX, RIP}, []uint64{1, 2, codeAddr}))
	ctx, err := e.ContextSave()
	require.NoError(t, err)
	defer ctx.Free()

	require.NoError(t, run(e))
	assert.Equal(t, uint64(9), reg(t, e, RAX))
	assert.Equal(t, uint64(exitAddr), pc(t, e))

	require.NoError(t, e.ContextRestore(ctx))
	assert.Equal(t, uint64(1), reg(t, e, RAX))
	assert.Equal(t, uint64(2), reg(t, e, RCX))
	assert.Equal(t, uint64(codeAddr), pc(t, e))

	// Re-save into the same context.
	require.NoError(t, e.RegWrite(RAX, 77))
	require.NoError(t, e.ContextSaveInto(ctx))
	require.NoError(t, e.RegWrite(RAX, 0))
	require.NoError(t, e.ContextRestore(ctx))
	assert.Equal(t, uint64(77), reg(t, e, RAX))

	ctx.Free()
	ctx.Free() // idempotent
	assert.Error(t, e.ContextRestore(ctx))
	assert.Error(t, e.ContextRestore(nil))
	assert.Error(t, e.ContextSaveInto(nil))
}

// TestI386GDTSegmentBase shows how i386 TLS works (set_thread_area): a
// DPL-3 data descriptor in a GDT loaded with SetGDT, then a selector load,
// makes gs:[0] read from the descriptor's base.
func TestI386GDTSegmentBase(t *testing.T) {
	const (
		gdtAddr  = 0x40000
		tlsAddr  = 0x51000
		tlsIndex = 6 // GDT_ENTRY_TLS_MIN on i386 Linux
		selector = tlsIndex<<3 | 3
	)
	// limit 0xfffff (4 KiB granular), base tlsAddr, access 0xf2 (present,
	// DPL 3, data, writable), flags 0xc (G=1, D/B=1).
	base := uint32(tlsAddr)
	desc := []byte{0xff, 0xff, byte(base), byte(base >> 8), byte(base >> 16), 0xf2, 0xcf, byte(base >> 24)}

	setup := func(t *testing.T, code []byte) *Engine {
		e := newEngine(t, Mode32)
		loadCode(t, e, code)
		mapPage(t, e, gdtAddr, ProtRead|ProtWrite)
		mapPage(t, e, tlsAddr, ProtRead|ProtWrite)
		hostWrite(t, e, gdtAddr+tlsIndex*8, desc)
		hostWrite(t, e, tlsAddr, []byte{0xef, 0xbe, 0xad, 0xde, 0x78, 0x56, 0x34, 0x12})
		require.NoError(t, e.SetGDT(gdtAddr, 32*8-1))
		return e
	}
	readTLS := []byte{
		0x65, 0xa1, 0, 0, 0, 0, // mov eax, gs:[0]
		0x65, 0x8b, 0x1d, 4, 0, 0, 0, // mov ebx, gs:[4]
	}

	t.Run("guest loads gs", func(t *testing.T) {
		loadGS := []byte{0x66, 0xb8, selector, 0x00, 0x8e, 0xe8} // mov ax, sel; mov gs, eax
		e := setup(t, cat(loadGS, readTLS))
		require.NoError(t, run(e))
		assert.Equal(t, uint64(0xdeadbeef), reg(t, e, EAX))
		assert.Equal(t, uint64(0x12345678), reg(t, e, EBX))
		assert.Equal(t, uint64(selector), reg(t, e, GS))
	})
	t.Run("host writes gs", func(t *testing.T) {
		e := setup(t, readTLS)
		require.NoError(t, e.RegWrite(GS, selector))
		require.NoError(t, run(e))
		assert.Equal(t, uint64(0xdeadbeef), reg(t, e, EAX))
		assert.Equal(t, uint64(0x12345678), reg(t, e, EBX))
	})
}
