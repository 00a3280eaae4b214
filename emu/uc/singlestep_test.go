package uc

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPauseDropsTheSingleStepTrap pins a 2.1.1 fact the probe engine works
// around (probes/analyze.go): with TF set, a #DB (interrupt 1) follows
// every instruction but pause (f3 90), after which none comes: the trap
// arrives after the next instruction instead (the mechanism in QEMU's
// pause helper was not traced). The 2-byte nop 66 90 traps as it must.
func TestPauseDropsTheSingleStepTrap(t *testing.T) {
	for _, c := range []struct {
		name   string
		insn   []byte
		wantPC uint64 // the ip at the first #DB
	}{
		{"nop 66 90", []byte{0x66, 0x90}, codeAddr + 2},
		{"pause", []byte{0xf3, 0x90}, codeAddr + 2 + 5},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEngine(t, Mode64)
			loadCode(t, e, cat(c.insn, movEAX(1), movEAX(2)))
			var pcs []uint64
			_, err := e.HookInterrupt(func(intno uint32) {
				if intno == 1 {
					pcs = append(pcs, pc(t, e))
					_, err := e.RegUpdate(EFLAGS, 1<<8, 0)
					require.NoError(t, err)
				}
			})
			require.NoError(t, err)
			_, err = e.RegUpdate(EFLAGS, 1<<8, 1<<8)
			require.NoError(t, err)
			require.NoError(t, run(e))
			require.NotEmpty(t, pcs, "no #DB at all")
			assert.Equal(t, c.wantPC, pcs[0])
			assert.Equal(t, uint64(2), reg(t, e, RAX))
		})
	}
}
