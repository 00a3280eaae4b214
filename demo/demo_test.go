package demo

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim"
)

// realDemo runs the demo once for every test that needs a real run.
var realDemo = sync.OnceValues(func() (*Demo, error) { return Run(context.Background(), DefaultWorkload) })

func TestRealDemo(t *testing.T) {
	d, err := realDemo()
	require.NoError(t, err)
	require.Len(t, d.Trials, 4)
	for _, tr := range d.Trials {
		p := tr.Probe()
		require.Equal(t, uint64(DefaultWorkload.Threads*DefaultWorkload.Calls), p.Executions, "%s on %d", tr.Strategy, tr.CPUs)
		require.Equal(t, p.Executions, p.Hits+p.Misses, "%s on %d", tr.Strategy, tr.CPUs)
		require.True(t, tr.OutputAgrees(), "%s on %d: %q", tr.Strategy, tr.CPUs, tr.Report.Stdout)
		require.Equal(t, "threads", tr.Report.Program, "no host path in the result")
		require.Nil(t, tr.Report.Host)
		switch {
		case tr.Strategy == probesim.SSOLStack:
			require.Zero(t, p.Misses, "ssol-stack on %d vCPUs", tr.CPUs)
		case tr.CPUs == 1:
			require.Zero(t, p.Misses, "inline on 1 vCPU: nothing else runs during a window")
		default:
			require.Positive(t, p.Misses, "inline on %d vCPUs", tr.CPUs)
		}
	}
	require.Equal(t, probesim.Inline, d.Trials[2].Strategy)
	require.Equal(t, 4, d.Trials[2].CPUs)

	// The story's miss is a real miss of the inline 4-vCPU run, inside a
	// window another vCPU opened and closed.
	s := d.Story
	require.Equal(t, 4, s.CPUs)
	require.Contains(t, d.Trials[2].Events, s.Miss)
	require.Contains(t, d.Trials[2].Events, s.Window.Open)
	require.Contains(t, d.Trials[2].Events, s.Window.Close)
	require.True(t, s.Window.Contains(s.Miss.Cycle), "miss at %d, window %d..%d", s.Miss.Cycle, s.Window.Open.Cycle, s.Window.Close.Cycle)
	require.NotEqual(t, s.Miss.VCPU, s.Window.Open.VCPU)
	require.Equal(t, s.Window.Open.TID, s.Window.Close.TID)
	require.LessOrEqual(t, s.From, s.Window.Open.Cycle)
	require.GreaterOrEqual(t, s.To, s.Window.Close.Cycle)
	require.Positive(t, s.WindowMisses())
	// The story's miss is also in the report's miss list.
	found := false
	for _, m := range d.Trials[2].Probe().MissList {
		if m.Cycle == s.Miss.Cycle && m.VCPU == s.Miss.VCPU && m.TID == s.Miss.TID {
			found = true
		}
	}
	require.True(t, found, "the story's miss is not in the report's miss list")
}

// The demo prints the same text and page every run.
func TestRealDemoDeterministic(t *testing.T) {
	d1, err := realDemo()
	require.NoError(t, err)
	d2, err := Run(t.Context(), DefaultWorkload)
	require.NoError(t, err)
	var t1, t2, h1, h2 bytes.Buffer
	require.NoError(t, d1.WriteText(&t1, false))
	require.NoError(t, d2.WriteText(&t2, false))
	require.Equal(t, t1.String(), t2.String())
	require.NoError(t, d1.WriteHTML(&h1))
	require.NoError(t, d2.WriteHTML(&h2))
	require.True(t, bytes.Equal(h1.Bytes(), h2.Bytes()), "the HTML pages differ")
}
