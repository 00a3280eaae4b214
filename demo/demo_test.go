package demo

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim"
)

// realDemo runs the demo once for every test that needs a real run.
var realDemo = sync.OnceValues(func() (*Demo, error) { return Run(context.Background(), DefaultOptions()) })

func TestRealDemo(t *testing.T) {
	d, err := realDemo()
	require.NoError(t, err)
	require.Len(t, d.Trials, 6, "inline, ssol-stack and xol on 1 and 4 vCPUs")
	for _, tr := range d.Trials {
		p := tr.Probe()
		require.Equal(t, uint64(DefaultWorkload.Threads*DefaultWorkload.Calls), p.Executions, "%s on %d", tr.Strategy, tr.CPUs)
		require.Equal(t, p.Executions, p.Hits+p.Misses, "%s on %d", tr.Strategy, tr.CPUs)
		require.True(t, tr.OutputAgrees(), "%s on %d: %q", tr.Strategy, tr.CPUs, tr.Report.Stdout)
		require.Equal(t, "threads", tr.Report.Program, "no host path in the result")
		require.Nil(t, tr.Report.Host)
		switch {
		case tr.Strategy != probesim.Inline:
			require.Zero(t, p.Misses, "%s on %d vCPUs", tr.Strategy, tr.CPUs)
		case tr.CPUs == 1:
			require.Zero(t, p.Misses, "inline on 1 vCPU: nothing else runs during a window")
		default:
			require.Positive(t, p.Misses, "inline on %d vCPUs", tr.CPUs)
		}
	}
	inline := d.Trial(probesim.Inline, 4)
	require.NotNil(t, inline)

	// The story's miss is a real miss of the inline 4-vCPU run, inside a
	// window another vCPU opened and closed.
	s := d.Story
	require.Equal(t, 4, s.CPUs)
	require.Contains(t, inline.Events, s.Miss)
	require.Contains(t, inline.Events, s.Window.Open)
	require.Contains(t, inline.Events, s.Window.Close)
	require.True(t, s.Window.Contains(s.Miss.Cycle), "miss at %d, window %d..%d", s.Miss.Cycle, s.Window.Open.Cycle, s.Window.Close.Cycle)
	require.NotEqual(t, s.Miss.VCPU, s.Window.Open.VCPU)
	require.Equal(t, s.Window.Open.TID, s.Window.Close.TID)
	require.LessOrEqual(t, s.From, s.Window.Open.Cycle)
	require.GreaterOrEqual(t, s.To, s.Window.Close.Cycle)
	require.Positive(t, s.WindowMisses())
	// The story's miss is also in the report's miss list.
	found := false
	for _, m := range inline.Probe().MissList {
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
	d2, err := Run(t.Context(), DefaultOptions())
	require.NoError(t, err)
	var t1, t2, h1, h2 bytes.Buffer
	require.NoError(t, d1.WriteText(&t1, false))
	require.NoError(t, d2.WriteText(&t2, false))
	require.Equal(t, t1.String(), t2.String())
	require.NoError(t, d1.WriteHTML(&h1))
	require.NoError(t, d2.WriteHTML(&h2))
	require.True(t, bytes.Equal(h1.Bytes(), h2.Bytes()), "the HTML pages differ")
}

// The story's window is a typical one of those another vCPU missed in:
// no further from their median than any other, and it says so with the
// run's numbers; the first window, longer by the copy-on-write break, is
// named apart.
func TestRealDemoTypicalWindow(t *testing.T) {
	d, err := realDemo()
	require.NoError(t, err)
	s := d.Story
	inline := d.Trial(probesim.Inline, 4)
	windows, err := pairWindows(inline.Events, "probed")
	require.NoError(t, err)
	require.Equal(t, len(windows), s.WindowCount)
	require.Equal(t, int(inline.Probe().Windows.Count), s.WindowCount)
	dist := func(c uint64) uint64 { return max(c, s.MissedMedian) - min(c, s.MissedMedian) }
	for _, w := range windows {
		missed := false
		for _, e := range inline.Events {
			if e.Kind == probesim.EventMiss && w.Contains(e.Cycle) && e.VCPU != w.Open.VCPU {
				missed = true
			}
		}
		if missed {
			require.GreaterOrEqual(t, dist(w.Cycles()), dist(s.Window.Cycles()), "window at %d is more typical", w.Open.Cycle)
		}
	}
	require.Greater(t, s.First.Cycles(), s.MedianCycles, "the first window is the longer one")
	var text bytes.Buffer
	require.NoError(t, d.WriteText(&text, false))
	require.Contains(t, strings.ReplaceAll(text.String(), "\n", " "), "This window is a typical one of the")
	require.Contains(t, strings.ReplaceAll(text.String(), "\n", " "), "also broke its copy-on-write (3,000 cycles in this profile)")
}

// Options choose the machine sizes, strategies and seed; a run without
// inline, or on one vCPU, has no miss to follow and says why.
func TestDemoOptions(t *testing.T) {
	o := DefaultOptions()
	o.Workload.Args = []string{"2", "100"}
	o.Workload.Threads, o.Workload.Calls = 2, 100
	o.CPUs, o.Strategies, o.Seed = []int{2}, []probesim.Strategy{probesim.XOL, probesim.Inline}, 5
	d, err := Run(t.Context(), o)
	require.NoError(t, err)
	require.Len(t, d.Trials, 2)
	require.Equal(t, probesim.XOL, d.Trials[0].Strategy, "in the order given")
	require.Equal(t, uint64(5), d.Trials[0].Report.Seed)
	require.NotNil(t, d.Story)

	o.Strategies = []probesim.Strategy{probesim.XOL}
	d, err = Run(t.Context(), o)
	require.NoError(t, err)
	require.Nil(t, d.Story)
	require.Equal(t, "inline is not among the strategies compared: no window to follow.", d.NoStory)
	var text, page bytes.Buffer
	require.NoError(t, d.WriteText(&text, false))
	require.Contains(t, text.String(), d.NoStory)
	require.NotContains(t, text.String(), "What happened")
	require.NoError(t, d.WriteHTML(&page))
	require.Contains(t, page.String(), `<p id="no-story">`)
	require.NotContains(t, page.String(), `<svg id="timeline"`)

	o.Strategies, o.CPUs = []probesim.Strategy{probesim.Inline}, []int{1}
	d, err = Run(t.Context(), o)
	require.NoError(t, err)
	require.Contains(t, d.NoStory, "inline ran on 1 vCPU only")

	for _, bad := range []Options{
		{Workload: DefaultWorkload, CPUs: []int{0}, Strategies: probesim.Strategies},
		{Workload: DefaultWorkload, CPUs: []int{2, 2}, Strategies: probesim.Strategies},
		{Workload: DefaultWorkload, CPUs: []int{2}, Strategies: []probesim.Strategy{"emulate"}},
		{Workload: DefaultWorkload, CPUs: []int{2}},
	} {
		_, err := Run(t.Context(), bad)
		require.Error(t, err, "%+v", bad.CPUs)
	}
}

// The seed's variants compare too: ssol-stack-2006's paragraph says how
// long the other vCPUs spun for its lock; a run of ssol-stack-2005, whose
// posted code crashes the workload, is an error that says how it ended
// and names the defects, not a bare exit status.
func TestDemoSeedStrategies(t *testing.T) {
	o := DefaultOptions()
	o.Workload.Args = []string{"2", "100"}
	o.Workload.Threads, o.Workload.Calls = 2, 100
	o.CPUs, o.Strategies = []int{2}, []probesim.Strategy{probesim.Inline, probesim.SSOLStack2006}
	d, err := Run(t.Context(), o)
	require.NoError(t, err)
	var text bytes.Buffer
	require.NoError(t, d.WriteText(&text, false))
	prose := strings.Join(strings.Fields(text.String()), " ")
	require.Regexp(t, `Why ssol-stack-2006 does not miss: .* under the 2006 repost's global lock: one hit in flight at a time, `+
		`the other vCPUs spinning for it \([0-9,]+ hits spun [0-9,]+ cycles for it here\)\. .* 200 hits, 0 misses\.`, prose)

	o.Strategies = []probesim.Strategy{probesim.SSOLStack2005}
	_, err = Run(t.Context(), o)
	require.Error(t, err)
	require.Regexp(t, `^demo: ssol-stack-2005 on 2 vCPUs: threads faulted: threads\[1000\]: segfault at .* `+
		`\(the seed's 2005 code as posted; copies over live stack: \d+, hits with eip not moved: \d+; `+
		`probesim run --strategy ssol-stack-2005 describes them\)$`, err.Error())
}
