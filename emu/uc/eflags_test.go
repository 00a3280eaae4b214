package uc

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// xadd64 is Go's 386 atomic.Xadd64 loop, with the pointer in ebp and the
// delta in edi:esi:
//
//	mov eax, [ebp]; mov edx, [ebp+4]
//	l: mov ebx, eax; mov ecx, edx; add ebx, esi; adc ecx, edi
//	lock cmpxchg8b [ebp]; jne l
//	after: mov [esp+0x10], ebx; mov [esp+0x14], ecx; nop
var xadd64 = []byte{
	0x8b, 0x45, 0x00, 0x8b, 0x55, 0x04, 0x89, 0xc3, 0x89, 0xd1, 0x01, 0xf3,
	0x11, 0xf9, 0xf0, 0x0f, 0xc7, 0x4d, 0x00, 0x75, 0xf1, 0x89, 0x5c, 0x24,
	0x10, 0x89, 0x4c, 0x24, 0x14, 0x90,
}

const xadd64After = 0x15

// TestCmpxchg8bCorruptsEFlags pins the Unicorn bug eflags.go describes
// and its repair: Xadd64(p, -1), stopped right after the loop, reads back
// EFLAGS = 0xffffffff from Unicorn (the corruption is still there), and
// the next run's flags are user flags again (the repair), with ZF right,
// and TF, DF, AC and ID as before the run.
func TestCmpxchg8bCorruptsEFlags(t *testing.T) {
	for _, delta := range []uint64{1, 0xffffffff_ffffffff} {
		e := newEngine(t, Mode32)
		loadCode(t, e, xadd64)
		hostWrite(t, e, dataAddr, []byte{1, 0, 0, 0, 0, 0, 0, 0})
		require.NoError(t, e.RegWrite(EBP, dataAddr))
		require.NoError(t, e.RegWrite(ESI, delta&0xffffffff))
		require.NoError(t, e.RegWrite(EDI, delta>>32))
		var seen uint64
		_, err := e.HookBlock(codeAddr+xadd64After, codeAddr+xadd64After, func(uint64, uint32) {
			// Read inside the run: what Unicorn computes, before the repair.
			v, err := e.RegRead(EFLAGS)
			require.NoError(t, err)
			seen = v
			require.NoError(t, e.Stop())
		})
		require.NoError(t, err)
		require.NoError(t, run(e))
		assert.Equal(t, uint64(codeAddr+xadd64After), pc(t, e))
		fl := reg(t, e, EFLAGS)
		if delta == 1 {
			assert.Equal(t, uint64(0), e.EFlagsRepairs(), "nothing to repair")
			assert.Equal(t, uint64(0), seen&^0x240fd7, "user flags only: %#x", seen)
		} else {
			assert.Equal(t, uint64(0xffffffff), seen, "Unicorn's flags after Xadd64(p, -1)")
			assert.Equal(t, uint64(1), e.EFlagsRepairs())
		}
		assert.Equal(t, uint64(0), fl&^0x240fd7, "only user flags after the run: %#x", fl)
		assert.Equal(t, uint64(0x40), fl&0x40, "ZF: the exchange happened")
		assert.Equal(t, uint64(0), fl&0x240500, "TF, DF, AC, ID as before the run: %#x", fl)
		assert.Equal(t, []byte{byte(1 + delta), 0, 0, 0, 0, 0, 0, 0}, hostBytes(t, e, dataAddr, 8))
	}
}
