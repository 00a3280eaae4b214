package demo

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim"
)

// eventLog is evs as 'probesim run --events' writes them.
func eventLog(t *testing.T, evs []probesim.Event) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, e := range evs {
		require.NoError(t, enc.Encode(e))
	}
	return b.String()
}

func TestReadEvents(t *testing.T) {
	log := eventLog(t, syntheticEvents())
	got, err := ReadEvents(strings.NewReader(log))
	require.NoError(t, err)
	require.Equal(t, syntheticEvents(), got)

	for _, tc := range []struct{ log, want string }{
		{"", "no events"},
		{"{\"cycle\": 1}\n", `line 1: event "" is not one of hit, miss, spurious_miss, window_open, window_close`},
		{"not json\n", "line 1: not an event of probesim run --events: invalid character 'o' in literal null (expecting 'u')"},
		{`{"cycle": 1, "vcpu": 0, "tid": 1, "probe": "p", "event": "hit", "x": 1}` + "\n", `line 1: not an event of probesim run --events: json: unknown field "x"`},
		{`{"cycle": 5, "vcpu": 0, "tid": 1, "probe": "p", "event": "hit"}` + "\n" + `{"cycle": 4, "vcpu": 0, "tid": 1, "probe": "p", "event": "hit"}` + "\n",
			"line 2: cycle 4 before the line above's 5: the log must be in cycle order"},
		{`{"cycle": 5, "vcpu": 99, "tid": 1, "probe": "p", "event": "hit"}` + "\n", "line 1: vcpu 99 is not in 0..63"},
	} {
		_, err := ReadEvents(strings.NewReader(tc.log))
		require.EqualError(t, err, tc.want, "%q", tc.log)
	}

	two := append(syntheticEvents(), probesim.Event{Cycle: 3000, Probe: "main", Kind: probesim.EventHit})
	_, err = ProbeOf(two, "")
	require.EqualError(t, err, "the log has events of 2 probes (probed, main): choose one with --probe")
	p, err := ProbeOf(two, "main")
	require.NoError(t, err)
	require.Equal(t, "main", p)
	_, err = ProbeOf(two, "nope")
	require.EqualError(t, err, "--probe nope: no event of that probe (the probes: probed, main)")
}

// A range of the log is drawn without a miss followed: the lanes, the
// windows and markers in it, no walkthrough labels.
func TestNewView(t *testing.T) {
	v, err := NewView(syntheticEvents(), "probed", 300, 900)
	require.NoError(t, err)
	require.False(t, v.Followed)
	require.Equal(t, 3, v.CPUs)
	require.Len(t, v.Events, 3, "the hit, open and close of the first window")
	require.Len(t, v.Windows, 1)
	var text bytes.Buffer
	require.NoError(t, v.WriteTimelineText(&text, false))
	out := text.String()
	require.True(t, strings.HasPrefix(out, "Probe probed on 3 vCPUs, cycles 300 to 900\n"))
	require.Contains(t, out, "\ncpu0    ")
	require.Contains(t, out, "●")
	require.NotContains(t, out, "X")
	require.NotContains(t, out, "the walkthrough")
	var page bytes.Buffer
	require.NoError(t, v.WriteTimelineHTML(&page, "probesim timeline: ev.jsonl"))
	html := page.String()
	requireSelfContained(t, html)
	require.Equal(t, 3, strings.Count(html, `<g class="lane"`))
	require.NotContains(t, html, `id="zoom-miss"`)
	require.NotContains(t, html, `<table`)
	require.NotContains(t, html, `class="ev followed"`)
	requireHas(t, html, "<title>probesim timeline: ev.jsonl</title>")

	_, err = NewView(syntheticEvents(), "probed", 900, 900)
	require.EqualError(t, err, "--from 900 --to 900: an empty range")
}

// Without a range, a timeline follows a typical miss if the log has one,
// else shows its first window.
func TestDefaultView(t *testing.T) {
	v, err := DefaultView(syntheticEvents(), "probed")
	require.NoError(t, err)
	require.True(t, v.Followed)
	require.Equal(t, uint64(1200), v.Miss.Cycle)
	var text bytes.Buffer
	require.NoError(t, v.WriteTimelineText(&text, false))
	require.Contains(t, text.String(), "A typical miss of probed on 3 vCPUs, cycles 900 to 2,200\n")
	require.Contains(t, text.String(), "ran probed() through that window\nwithout a trap, one of 3 misses in it.")

	var hitsOnly []probesim.Event
	for _, e := range syntheticEvents() {
		if !e.IsMiss() {
			hitsOnly = append(hitsOnly, e)
		}
	}
	v, err = DefaultView(hitsOnly, "probed")
	require.NoError(t, err)
	require.False(t, v.Followed)
	require.Equal(t, [2]uint64{363, 737}, [2]uint64{v.From, v.To}, "the first window, an eighth of it either side")
}
