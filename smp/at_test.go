package smp

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/fixtures"
)

// TestAtRunsAtItsCycle: scheduled work runs once every running vCPU's
// clock has reached its cycle, with none of them more than a block past it
// (slices stop there, so no vCPU ran code beyond the cycle before the
// work), on no vCPU, in the order scheduled, and before every ordered
// event after its cycle (watched calls of the threads fixture on four
// vCPUs); fast mode and lockstep see it at the same point, and a text
// write from it charges every running vCPU the shootdown's IPI.
func TestAtRunsAtItsCycle(t *testing.T) {
	prog, err := fixtures.Path(fixtures.ArchAMD64, "threads")
	require.NoError(t, err)
	const at = 45_000    // the four workers are calling probed()
	var seen [2][]uint64 // per mode: the watched cycles before the work ran
	for _, watch := range []bool{false, true} {
		for i, lockstep := range []bool{false, true} {
			m, err := New(Config{Program: prog, Args: []string{"4", "3000"}, CPUs: 4, Seed: 2, Lockstep: lockstep})
			require.NoError(t, err)
			sym, ok := m.Image().Lookup("probed")
			require.True(t, ok)
			ran, order, running := false, []int{}, 0
			var ipis [MaxCPUs]uint64
			m.At(at, func() {
				require.True(t, m.External())
				require.Nil(t, m.curV, "on no vCPU")
				for _, v := range m.vcpus {
					if v.cur != nil {
						running++
						require.GreaterOrEqual(t, v.clockFP(), toFP(at), "vCPU %d behind the work's cycle", v.id)
						require.Less(t, v.clockFP(), toFP(at+50), "vCPU %d ran on past the work's cycle", v.id)
					}
					ipis[v.id] = v.ipisReceived
				}
				// A text write from outside the machine: every running
				// vCPU takes its IPI.
				var b [1]byte
				require.NoError(t, m.as.ReadForce(sym.Value, b[:]))
				require.NoError(t, m.KernelWrite(sym.Value, b[:]))
				for _, v := range m.vcpus {
					if v.cur != nil {
						require.Equal(t, ipis[v.id]+1, v.ipisReceived)
					}
				}
				ran = true
				order = append(order, 1)
			})
			m.At(at, func() { order = append(order, 2) })
			m.At(at-1, func() { order = append(order, 0) })
			m.At(1<<40, func() { t.Error("work after the end ran") })
			if watch {
				require.NoError(t, m.Watch(sym.Value, func(ev WatchEvent) {
					if ev.Cycle >= at {
						require.True(t, ran, "a watched call at %d came before the work at %d", ev.Cycle, at)
					} else {
						require.False(t, ran, "the work ran before a call at %d", ev.Cycle)
						seen[i] = append(seen[i], ev.Cycle)
					}
				}))
			}
			r, err := m.Run()
			require.NoError(t, err)
			require.Equal(t, "exit", r.StopReason)
			require.True(t, ran)
			require.Equal(t, 4, running, "the workers ran on every vCPU")
			require.Equal(t, []int{0, 1, 2}, order)
			ev := m.KernelEvents()
			require.Equal(t, KernelEvent{Cycle: at, VCPU: -1, Kind: KernelTextWrite, Addr: sym.Value, Len: 1}, ev[len(ev)-1])
			m.Close()
		}
	}
	require.NotEmpty(t, seen[0])
	require.Equal(t, len(seen[1]), len(seen[0]), "fast mode and lockstep saw different calls before the work")
}
