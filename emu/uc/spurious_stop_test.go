package uc

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestReproSpurious(t *testing.T) {
	for _, withCode := range []bool{false, true} {
		e := newEngine(t, Mode64)
		loop := cat(movEAX(0x80000000), insCPUID, insNop)
		code := cat(loop, jmpRel32(codeAddr+uint64(len(loop)), codeAddr))
		loadCode(t, e, code)
		require.NoError(t, e.EnableAccounting(func(addr uint64, size uint32) (uint32, uint64) { t.Logf("cost %#x %d", addr, size); return 2, 300 << 8 }))
		cnt := NewCounters()
		e.SetCounters(cnt)
		if withCode {
			_, err := e.HookCode(0x5000, 0x5000, func(uint64, uint32) {})
			require.NoError(t, err)
		}
		_, err := e.HookBlock(1, 0, func(a uint64, s uint32) { t.Logf("block %#x %d", a, s) })
		require.NoError(t, err)
		var rips []uint64
		start := uint64(codeAddr)
		for i := 0; i < 5; i++ {
			cnt.ResetBudgetHit()
			cnt.SetStopAt(cnt.CyclesFP() + 100<<8)
			require.NoError(t, e.Start(start, exitAddr, 0, 0))
			rips = append(rips, pc(t, e)-codeAddr)
			t.Logf("code=%v run %d rip=%d hit=%v cyc=%d", withCode, i, rips[i], cnt.BudgetHit(), cnt.Cycles())
			start = pc(t, e)
		}
	}
}
