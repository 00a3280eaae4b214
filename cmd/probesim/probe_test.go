package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/fixtures"
)

// TestProbeStrategies: `probesim run --probe` on the threaded fixture, both
// arches, 4 vCPUs: the output is the native output; inline misses calls,
// ssol-stack sees them all; every execution is a hit or a miss.
func TestProbeStrategies(t *testing.T) {
	for _, arch := range []string{fixtures.ArchAMD64, fixtures.ArchI386} {
		path := fixturePath(t, arch, "threads")
		args := []string{"4", "300"}
		want := native(t, path, args, nil)
		for _, s := range []string{"inline", "ssol-stack"} {
			res, rep, _, _ := runReport(t, []string{"--cpus", "4", "--probe", "probed", "--strategy", s}, path, args...)
			require.Equal(t, 0, res.status, "%s %s: %s", arch, s, res.stderr)
			require.Equal(t, string(want.stdout), string(res.stdout), "%s %s", arch, s)
			require.Equal(t, s, rep.Strategy)
			require.Len(t, rep.Probes, 1)
			p := rep.Probes[0]
			require.Equal(t, "probed", p.Spec)
			require.Contains(t, p.Instruction, "imul")
			require.Equal(t, uint64(1200), p.Executions, "%s %s", arch, s)
			require.Equal(t, p.Executions, p.Hits+p.Misses)
			var perCPU uint64
			for _, c := range p.PerCPU {
				require.Equal(t, c.Executions, c.Hits+c.Misses)
				perCPU += c.Executions
			}
			require.Equal(t, p.Executions, perCPU)
			require.Len(t, p.MissList, int(p.Misses))
			if s == "inline" {
				require.NotZero(t, p.Misses, "%s: inline on 4 vCPUs missed nothing", arch)
				require.Equal(t, p.Hits, p.Windows.Count)
				require.NotZero(t, p.Windows.MaxCycles)
				require.Nil(t, rep.OutOfLine)
			} else {
				require.Zero(t, p.Misses, arch)
				require.Zero(t, p.Windows.Count)
				require.NotNil(t, rep.OutOfLine)
				require.Equal(t, p.Hits, rep.OutOfLine.NXFlips, "the stack is NX: every step flips it")
				require.Zero(t, rep.OutOfLine.InlineFallbacks)
			}
		}
	}
}

func TestBadProbeSpecs(t *testing.T) {
	path := fixturePath(t, fixtures.ArchAMD64, "threads")
	for _, tc := range []struct{ spec, want string }{
		{"nosuch", `no symbol "nosuch"`},
		{"probed+1", "not on an instruction boundary"},
		{"0x10", "not in an executable segment"},
	} {
		res := cli(t, "run", "--probe", tc.spec, path)
		require.Equal(t, 125, res.status, tc.spec)
		require.Contains(t, string(res.stderr), tc.want)
		require.Equal(t, 1, len(outputLines(res.stderr)), "one line: %q", res.stderr)
	}
}

// TestProbeEvents: --events writes one JSON line per hit, miss and window
// edge, in cycle order.
func TestProbeEvents(t *testing.T) {
	path := fixturePath(t, fixtures.ArchAMD64, "threads")
	events := filepath.Join(t.TempDir(), "events.jsonl")
	res, rep, _, _ := runReport(t, []string{"--cpus", "4", "--probe", "probed", "--strategy", "inline", "--events", events}, path, "4", "100")
	require.Equal(t, 0, res.status, "%s", res.stderr)
	data, err := os.ReadFile(events)
	require.NoError(t, err)
	lines := outputLines(data)
	p := rep.Probes[0]
	require.Len(t, lines, int(p.Hits+p.Misses+2*p.Windows.Count))
	counts := map[string]uint64{}
	last := uint64(0)
	for _, l := range lines {
		var ev struct {
			Cycle uint64 `json:"cycle"`
			Probe string `json:"probe"`
			Event string `json:"event"`
		}
		require.NoError(t, json.Unmarshal([]byte(l), &ev), l)
		require.Equal(t, "probed", ev.Probe)
		require.GreaterOrEqual(t, ev.Cycle, last, "events out of cycle order")
		last = ev.Cycle
		counts[ev.Event]++
	}
	require.Equal(t, p.Hits, counts["hit"])
	require.Equal(t, p.Misses, counts["miss"]+counts["spurious_miss"])
	require.Equal(t, p.Windows.Count, counts["window_open"])
	require.Equal(t, p.Windows.Count, counts["window_close"])
}
