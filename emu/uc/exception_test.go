package uc

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHandledExceptionsDoNotDoubleFault pins why ClearException exists: a
// #DE an interrupt hook handles (moving RIP past the div) leaves the CPU
// believing it is delivering it, so the next one arrives as a double fault
// (8). With ClearException in the hook, every one arrives as itself.
func TestHandledExceptionsDoNotDoubleFault(t *testing.T) {
	div := []byte{0xf7, 0xf1} // div ecx, with ecx 0
	for _, clear := range []bool{false, true} {
		e := newEngine(t, Mode64)
		loadCode(t, e, cat(div, div, div, movEAX(7)))
		var vectors []uint32
		_, err := e.HookInterrupt(func(intno uint32) {
			vectors = append(vectors, intno)
			if clear {
				require.NoError(t, e.ClearException())
			}
			require.NoError(t, e.RegWrite(RIP, pc(t, e)+2))
			if intno != 0 {
				require.NoError(t, e.Stop())
			}
		})
		require.NoError(t, err)
		require.NoError(t, run(e))
		if clear {
			assert.Equal(t, []uint32{0, 0, 0}, vectors)
			assert.Equal(t, uint64(7), reg(t, e, RAX), "the guest went on")
		} else {
			assert.Equal(t, []uint32{0, 8}, vectors, "the second #DE is a double fault")
		}
	}
}
