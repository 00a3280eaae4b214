package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// TestProbeLog: --probe-log writes one JSON line per hit with the thread's
// registers, in cycle order, named for the arch; on x86-64 the logged rdi is
// probed()'s argument, index*1000003+i, and with ssol-stack every call's
// argument appears once. Logging does not change the run.
func TestProbeLog(t *testing.T) {
	names := map[string][]string{
		fixtures.ArchAMD64: {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
			"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "rflags"},
		fixtures.ArchI386: {"eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp", "eip", "eflags"},
	}
	const threads, iters = 4, 200
	for _, arch := range []string{fixtures.ArchAMD64, fixtures.ArchI386} {
		path := fixturePath(t, arch, "threads")
		args := []string{fmt.Sprint(threads), fmt.Sprint(iters)}
		logPath := filepath.Join(t.TempDir(), "hits.jsonl")
		flags := []string{"--cpus", "4", "--seed", "2", "--probe", "probed", "--strategy", "ssol-stack"}
		res, rep, _, _ := runReport(t, append(flags, "--probe-log", logPath), path, args...)
		require.Equal(t, 0, res.status, "%s: %s", arch, res.stderr)
		_, plain, _, _ := runReport(t, flags, path, args...)
		rep.Host, plain.Host = nil, nil
		require.Equal(t, plain, rep, "%s: --probe-log changed the run", arch)

		p := rep.Probes[0]
		require.Equal(t, uint64(threads*iters), p.Hits)
		data, err := os.ReadFile(logPath)
		require.NoError(t, err)
		lines := outputLines(data)
		require.Len(t, lines, int(p.Hits), "one line per hit")
		ip := names[arch][len(names[arch])-2]
		last := uint64(0)
		args0 := map[uint32]bool{}
		for _, l := range lines {
			var hit struct {
				Cycle     uint64            `json:"cycle"`
				VCPU      int               `json:"vcpu"`
				TID       int               `json:"tid"`
				Probe     string            `json:"probe"`
				Address   uint64            `json:"address"`
				Registers map[string]uint64 `json:"registers"`
			}
			require.NoError(t, json.Unmarshal([]byte(l), &hit), l)
			require.Equal(t, "probed", hit.Probe)
			require.Equal(t, p.Address, hit.Address)
			require.Equal(t, hit.Address, hit.Registers[ip], "%s is the probe address", ip)
			require.Len(t, hit.Registers, len(names[arch]))
			require.GreaterOrEqual(t, hit.Cycle, last, "hits out of cycle order")
			last = hit.Cycle
			require.Less(t, hit.VCPU, 4)
			require.Greater(t, hit.TID, 1000, "a worker thread")
			if arch == fixtures.ArchAMD64 {
				a := uint32(hit.Registers["rdi"])
				require.Less(t, a/1000003, uint32(threads), "rdi %d", a)
				require.Less(t, a%1000003, uint32(iters), "rdi %d", a)
				require.False(t, args0[a], "argument %d twice", a)
				args0[a] = true
			}
		}
		if arch == fixtures.ArchAMD64 {
			require.Len(t, args0, threads*iters, "every call's argument")
		}
		// The registers keep their order on the line.
		dec := json.NewDecoder(strings.NewReader(lines[0]))
		var order []string
		depth := 0
		for {
			tok, err := dec.Token()
			if err != nil {
				break
			}
			switch v := tok.(type) {
			case json.Delim:
				if v == '{' {
					depth++
				} else if v == '}' {
					depth--
				}
			case string:
				if depth == 2 {
					order = append(order, v)
					_, err = dec.Token() // the value
					require.NoError(t, err)
				}
			}
		}
		require.Equal(t, names[arch], order)
	}
}

// TestProbeAtDetachAt: --probe-at places a probe while the program runs
// and --detach-at removes it; the report and the summary line say when,
// and the output is the native one. Bad values are one-line usage errors.
func TestProbeAtDetachAt(t *testing.T) {
	path := fixturePath(t, fixtures.ArchAMD64, "threads")
	args := []string{"4", "2000"}
	want := native(t, path, args, nil)
	res, rep, _, _ := runReport(t, []string{"--cpus", "4", "--strategy", "xol",
		"--probe-at", "30000:probed", "--detach-at", "45000:probed"}, path, args...)
	require.Equal(t, 0, res.status, "%s", res.stderr)
	require.Equal(t, string(want.stdout), string(res.stdout))
	require.Len(t, rep.Probes, 1)
	p := rep.Probes[0]
	require.Equal(t, uint64(30000), p.AttachedAt)
	require.Equal(t, uint64(45000), p.DetachedAt)
	require.NotZero(t, p.Hits)
	require.Less(t, p.Executions, uint64(8000), "only the calls in between")
	require.Equal(t, p.Executions, p.Hits+p.Misses)
	require.Contains(t, string(res.stderr), "(xol, placed at cycle 30000, removed at cycle 45000)")

	for _, tc := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--probe-at", "probed"}, `invalid argument "probed" for --probe-at: want CYCLE:SPEC`},
		{[]string{"--probe-at", "0:probed"}, `invalid argument "0:probed" for --probe-at`},
		{[]string{"--detach-at", "x:probed"}, `invalid argument "x:probed" for --detach-at`},
		{[]string{"--detach-at", "5000:probed"}, "--detach-at: detach at cycle 5000: no probe is placed at"},
		{[]string{"--probe", "probed", "--probe-at", "5000:probed"}, "--probe-at: probe \"probed\": address 0x"},
		{[]string{"--probe-at", "5000:nosuch"}, `--probe-at: probe "nosuch": no symbol "nosuch"`},
	} {
		res := cli(t, append(append([]string{"run"}, tc.flags...), path)...)
		require.Equal(t, 125, res.status, "%v", tc.flags)
		require.Contains(t, string(res.stderr), tc.want, "%v", tc.flags)
		require.Equal(t, 1, len(outputLines(res.stderr)), "one line: %q", res.stderr)
	}
}

// TestReturnProbeCLI: --probe SPEC%return places a return probe: the
// report marks it and counts its returns, and --probe-log has a line per
// return with the return value in rax.
func TestReturnProbeCLI(t *testing.T) {
	path := fixturePath(t, fixtures.ArchAMD64, "retprobe")
	log := filepath.Join(t.TempDir(), "log.jsonl")
	res, rep, _, _ := runReport(t, []string{"--strategy", "xol", "--probe", "depth%return", "--probe-log", log}, path, "recurse", "3")
	require.Equal(t, 0, res.status, "%s", res.stderr)
	require.Equal(t, "depth(3) = 45\n", string(res.stdout))
	require.Len(t, rep.Probes, 1)
	p := rep.Probes[0]
	require.True(t, p.Return)
	require.NotNil(t, p.Returns)
	require.Equal(t, uint64(4), p.Hits)
	data, err := os.ReadFile(log)
	require.NoError(t, err)
	lines := outputLines(data)
	require.Len(t, lines, 4)
	var last struct {
		Return    bool              `json:"return"`
		Registers map[string]uint64 `json:"registers"`
	}
	require.NoError(t, json.Unmarshal([]byte(lines[3]), &last))
	require.True(t, last.Return)
	require.Equal(t, uint64(45), last.Registers["rax"], "the outermost return's value")
	res = cli(t, "run", "--probe", "depth+4%return", path, "recurse", "3")
	require.Equal(t, 125, res.status)
	require.Contains(t, string(res.stderr), "a return probe must be on a function's first instruction")
}

// TestFetchArgsCLI: fetch arguments after the spec, as uprobe_events
// takes them, reach --probe-log and --events; a bad one is a one-line
// usage error.
func TestFetchArgsCLI(t *testing.T) {
	path := fixturePath(t, fixtures.ArchAMD64, "threads")
	dir := t.TempDir()
	log, events := filepath.Join(dir, "log.jsonl"), filepath.Join(dir, "events.jsonl")
	res, _, _, _ := runReport(t, []string{"--strategy", "xol", "--probe", "probed n=%di:s32 c=$comm", "--probe-log", log, "--events", events}, path, "1", "3")
	require.Equal(t, 0, res.status, "%s", res.stderr)
	data, err := os.ReadFile(log)
	require.NoError(t, err)
	lines := outputLines(data)
	require.Len(t, lines, 3)
	require.Contains(t, lines[2], `"args":[{"name":"n","value":"2"},{"name":"c","value":"\"threads\""}]`)
	data, err = os.ReadFile(events)
	require.NoError(t, err)
	require.Contains(t, string(data), `"args":"n=0 c=\"threads\""`)
	res = cli(t, "run", "--probe", "probed n=%di:s33", path, "1", "1")
	require.Equal(t, 125, res.status)
	require.Contains(t, string(res.stderr), `bad fetch argument "n=%di:s33"`)
	require.Equal(t, 1, len(outputLines(res.stderr)))
}
