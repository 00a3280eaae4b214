package demo

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim"
)

func TestFindStory(t *testing.T) {
	s, err := FindStory(syntheticEvents(), 3)
	require.NoError(t, err)
	// The first miss, at 1,200 on cpu0, ran through cpu1's window.
	require.Equal(t, probesim.Event{Cycle: 1200, VCPU: 0, TID: 10, Probe: "probed", Kind: probesim.EventMiss}, s.Miss)
	require.Equal(t, uint64(1000), s.Window.Open.Cycle)
	require.Equal(t, uint64(1800), s.Window.Close.Cycle)
	require.Equal(t, 1, s.Window.Open.VCPU)
	require.Equal(t, 11, s.Window.Close.TID)
	require.Equal(t, uint64(800), s.Window.Cycles())
	require.True(t, s.Window.Contains(s.Miss.Cycle))
	require.Equal(t, []int{2, 0, 1}, s.MissesInWindow)
	require.Equal(t, 3, s.WindowMisses())
	// An eighth of the window on either side, stretched to the next hit.
	require.NotNil(t, s.Next)
	require.Equal(t, uint64(2100), s.Next.Cycle)
	require.Equal(t, uint64(900), s.From)
	require.Equal(t, uint64(2200), s.To)
	require.Len(t, s.Events, 8) // 1,000 to 2,100: the first window is out of range
	require.Len(t, s.Windows, 2)
	require.Equal(t, uint64(2100), s.Windows[1].Open.Cycle)
}

func TestFindStoryRejects(t *testing.T) {
	ev := func(cycle uint64, vcpu, tid int, kind string) probesim.Event {
		return probesim.Event{Cycle: cycle, VCPU: vcpu, TID: tid, Probe: "p", Kind: kind}
	}
	for name, tc := range map[string]struct {
		events []probesim.Event
		want   string
	}{
		"no miss": {[]probesim.Event{ev(1, 0, 1, probesim.EventHit)}, "no miss in the event log"},
		"miss outside every window": {[]probesim.Event{
			ev(1, 0, 1, probesim.EventHit), ev(1, 0, 1, probesim.EventWindowOpen), ev(5, 0, 1, probesim.EventWindowClose),
			ev(9, 1, 2, probesim.EventMiss),
		}, "no miss inside a window opened by another vCPU"},
		"miss in its own vCPU's window": {[]probesim.Event{
			ev(1, 0, 1, probesim.EventWindowOpen), ev(3, 0, 2, probesim.EventMiss), ev(5, 0, 1, probesim.EventWindowClose),
		}, "no miss inside a window opened by another vCPU"},
		"close without open": {[]probesim.Event{
			ev(3, 1, 2, probesim.EventMiss), ev(5, 0, 1, probesim.EventWindowClose),
		}, "window_close without window_open in the event log"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := FindStory(tc.events, 2)
			require.EqualError(t, err, tc.want)
		})
	}
}

// A window at cycle 0 must not underflow the range, and a next hit
// further than a window's length away is left out.
func TestFindStoryEdges(t *testing.T) {
	ev := func(cycle uint64, vcpu, tid int, kind string) probesim.Event {
		return probesim.Event{Cycle: cycle, VCPU: vcpu, TID: tid, Probe: "p", Kind: kind}
	}
	s, err := FindStory([]probesim.Event{
		ev(0, 0, 1, probesim.EventHit), ev(0, 0, 1, probesim.EventWindowOpen),
		ev(40, 1, 2, probesim.EventMiss),
		ev(80, 0, 1, probesim.EventWindowClose),
		ev(500, 1, 2, probesim.EventHit),
	}, 2)
	require.NoError(t, err)
	require.Equal(t, uint64(0), s.From)
	require.Equal(t, uint64(90), s.To)
	require.Nil(t, s.Next)
}
