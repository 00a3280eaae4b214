package probesim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim"
)

const threads = "fixtures/bin/x86_64/threads"

func TestConfigErrorsNameTheField(t *testing.T) {
	cases := []struct {
		cfg   probesim.Config
		field string
		msg   string
	}{
		{probesim.Config{Program: threads, CPUs: 65}, "cpus", "cpus: 65: want 1 to 64"},
		{probesim.Config{Program: threads, CPUs: -1}, "cpus", "cpus: -1: want 1 to 64"},
		{probesim.Config{Program: threads, Strategy: "emulate"}, "strategy", `strategy: unknown strategy "emulate" (have: inline, ssol-stack, xol, ssol-stack-2005, ssol-stack-2006)`},
		{probesim.Config{Program: threads, Params: []string{"kernel.nope=1"}}, "param", `param: "kernel.nope=1": `},
		{probesim.Config{Program: threads, Probes: []string{"probed", "main+1"}}, "probe", `probe: probe "main+1": `},
	}
	for _, c := range cases {
		_, err := probesim.Run(t.Context(), c.cfg)
		var ce *probesim.ConfigError
		require.ErrorAs(t, err, &ce, "%+v", c.cfg)
		assert.Equal(t, c.field, ce.Field)
		assert.Contains(t, err.Error(), c.msg)
		assert.NotContains(t, err.Error(), "\n", "one line")
	}
}

func TestProgramErrors(t *testing.T) {
	_, err := probesim.Run(t.Context(), probesim.Config{Program: "fixtures/bin/x86_64/no-such-program"})
	assert.ErrorIs(t, err, fs.ErrNotExist)

	notELF := filepath.Join(t.TempDir(), "text")
	require.NoError(t, os.WriteFile(notELF, []byte("echo hi\n"), 0o755))
	_, err = probesim.Run(t.Context(), probesim.Config{Program: notELF})
	assert.ErrorIs(t, err, probesim.ErrCannotRun, "neither ELF nor #!: ENOEXEC")

	// A #! script runs through its interpreter, as execve runs it.
	script := filepath.Join(t.TempDir(), "script")
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\necho hi\n"), 0o755))
	res, err := probesim.Run(t.Context(), probesim.Config{Program: script})
	require.NoError(t, err)
	assert.Equal(t, "hi\n", res.Report.Stdout)
}

func TestSimulationRunsOnce(t *testing.T) {
	s, err := probesim.New(probesim.Config{Program: "fixtures/bin/x86_64/exit42"})
	require.NoError(t, err)
	defer s.Close()
	assert.Nil(t, s.Engine(), "no probes, no engine")
	assert.Equal(t, 1, s.Machine().CPUs())
	res, err := s.Run(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 42, res.Report.ExitStatus)
	assert.Empty(t, res.Events)
	_, err = s.Run(t.Context())
	assert.EqualError(t, err, "probesim: a Simulation runs once")
}

// The library's result is a pure function of the Config: two runs give the
// same report (outside host) and the same event log, and guest output both
// reaches Stdout and is captured in the report.
func TestRunIsDeterministic(t *testing.T) {
	run := func() (*probesim.Result, string) {
		var out bytes.Buffer
		res, err := probesim.Run(t.Context(), probesim.Config{
			Program: threads, Args: []string{"4", "60"}, CPUs: 4, Seed: 3,
			Probes: []string{"probed"}, Strategy: probesim.Inline, Stdout: &out,
		})
		require.NoError(t, err)
		res.Report.Host = nil
		return res, out.String()
	}
	a, outA := run()
	b, outB := run()
	assert.Equal(t, a.Report, b.Report)
	assert.Equal(t, a.Events, b.Events)
	assert.Equal(t, outA, outB)
	assert.Equal(t, outA, a.Report.Stdout)
	assert.Contains(t, outA, "calls=240\n")
	p := a.Report.Probes[0]
	assert.Equal(t, uint64(240), p.Executions)
	assert.Equal(t, p.Executions, p.Hits+p.Misses)
	assert.Equal(t, "inline", a.Report.Strategy)
	assert.Nil(t, a.Report.OutOfLine, "inline has no out-of-line counts")
}

// Params override a copy of the profile: the caller's profile is unchanged
// and the report records the override.
func TestParamsOverrideACopy(t *testing.T) {
	exact := "kernel_jitter_percent=0"
	res, err := probesim.Run(t.Context(), probesim.Config{Program: "fixtures/bin/x86_64/exit42",
		Params: []string{exact, "kernel.syscall_entry_exit=1000"}})
	require.NoError(t, err)
	base, err := probesim.Run(t.Context(), probesim.Config{Program: "fixtures/bin/x86_64/exit42", Params: []string{exact}})
	require.NoError(t, err)
	assert.Equal(t, []string{exact, "kernel.syscall_entry_exit=1000"}, res.Report.ProfileOverrides)
	// exit42 makes one syscall: 1000 - 275 cycles more.
	assert.Equal(t, base.Report.Cycles+725, res.Report.Cycles)
}

// A Simulation closed without running releases everything cleanly.
func TestCloseWithoutRun(t *testing.T) {
	s, err := probesim.New(probesim.Config{Program: threads, Probes: []string{"probed"}})
	require.NoError(t, err)
	require.NoError(t, s.Close())
}

// Seeds explore interleavings: the kernel cost jitter drawn from the seed
// keeps threads from phase-locking, so the inline miss count of the same
// workload differs between seeds, while each seed reproduces exactly.
func TestSeedsExploreInterleavings(t *testing.T) {
	misses := map[uint64]bool{}
	for seed := uint64(1); seed <= 4; seed++ {
		run := func() uint64 {
			res, err := probesim.Run(t.Context(), probesim.Config{Program: threads, Args: []string{"8", "200", "5000"},
				CPUs: 2, Seed: seed, Probes: []string{"probed"}, Strategy: probesim.Inline})
			require.NoError(t, err)
			p := res.Report.Probes[0]
			require.Equal(t, uint64(1600), p.Executions)
			require.Equal(t, p.Executions, p.Hits+p.Misses)
			return p.Misses
		}
		m := run()
		require.Equal(t, m, run(), "seed %d reproduces", seed)
		misses[m] = true
	}
	assert.Greater(t, len(misses), 1, "miss counts over seeds 1-4: %v", misses)
}

// A program given as bytes runs without a file: Program is only the path
// the guest sees.
func TestImageRunsWithoutAFile(t *testing.T) {
	data, err := os.ReadFile("fixtures/bin/x86_64/argsenv")
	require.NoError(t, err)
	res, err := probesim.Run(t.Context(), probesim.Config{Program: "/nowhere/argsenv", Image: data, Args: []string{"x"}})
	require.NoError(t, err)
	assert.Equal(t, 0, res.Report.ExitStatus)
	assert.Contains(t, res.Report.Stdout, "argv[0] basename=argsenv\n")
	assert.Equal(t, "/nowhere/argsenv", res.Report.Maps[0].Name, "the text mapping names the guest path")

	_, err = probesim.Run(t.Context(), probesim.Config{Program: "/nowhere/junk", Image: []byte("not an ELF file")})
	assert.ErrorIs(t, err, probesim.ErrCannotRun)
}

// Callbacks observe a run without changing it: the same report and event
// log with OnEvent, OnMiss and a dense OnProgress as without, OnEvent sees
// exactly Result.Events, OnMiss its misses, and the progress clock only
// moves forward, ending at the run's cycles.
func TestCallbacksObserveWithoutChanging(t *testing.T) {
	cfg := probesim.Config{Program: threads, Args: []string{"4", "60"}, CPUs: 4, Seed: 3,
		Probes: []string{"probed"}, Strategy: probesim.Inline}
	plain, err := probesim.Run(t.Context(), cfg)
	require.NoError(t, err)

	var events, misses []probesim.Event
	var progress []uint64
	var hitsSeen int
	watched := cfg
	watched.OnEvent = func(e probesim.Event) { events = append(events, e) }
	watched.OnMiss = func(e probesim.Event) { misses = append(misses, e) }
	watched.OnHit = func(h probesim.Hit) {
		hitsSeen++
		last := events[len(events)-1]
		assert.Equal(t, probesim.EventHit, last.Kind, "a hit's event comes before its handler")
		assert.Equal(t, h.Cycle, last.Cycle)
		assert.Equal(t, "probed", h.Probe.Spec)
		assert.Equal(t, "probed", h.Probe.Symbol)
		assert.Equal(t, h.Probe.Address, h.Regs.IP)
		assert.Equal(t, 64, h.Regs.Mode)
	}
	watched.OnProgress = func(c uint64) { progress = append(progress, c) }
	watched.ProgressCycles = 10_000
	obs, err := probesim.Run(t.Context(), watched)
	require.NoError(t, err)

	plain.Report.Host, obs.Report.Host = nil, nil
	assert.Equal(t, plain.Report, obs.Report)
	assert.Equal(t, plain.Events, obs.Events)
	assert.Equal(t, obs.Events, events)
	var want []probesim.Event
	for _, e := range events {
		if e.IsMiss() {
			want = append(want, e)
		}
	}
	assert.NotEmpty(t, want, "inline on 4 vCPUs misses")
	assert.Equal(t, want, misses)
	assert.Equal(t, int(obs.Report.Probes[0].Hits), hitsSeen)
	require.Greater(t, len(progress), 3, "a run of %d cycles, mostly on several vCPUs, reports every 10,000", obs.Report.Cycles)
	for i := 1; i < len(progress); i++ {
		assert.Less(t, progress[i-1], progress[i])
	}
	assert.Equal(t, obs.Report.Cycles, progress[len(progress)-1], "the last call has the run's cycles")
}

// A vCPU running alone is cut into slices of bounded length so that
// progress and cancellation act, which changes nothing it computes: the
// register loop (no syscall for its whole run) reports progress regularly
// and ends as without it.
func TestProgressOfALoneVCPU(t *testing.T) {
	cfg := probesim.Config{Program: "fixtures/bin/x86_64/loop", Args: []string{"20000000"}}
	plain, err := probesim.Run(t.Context(), cfg)
	require.NoError(t, err)
	var calls []uint64
	cfg.OnProgress = func(c uint64) { calls = append(calls, c) }
	cfg.ProgressCycles = 10_000_000
	obs, err := probesim.Run(t.Context(), cfg)
	require.NoError(t, err)
	plain.Report.Host, obs.Report.Host = nil, nil
	assert.Equal(t, plain.Report, obs.Report)
	require.GreaterOrEqual(t, len(calls), int(obs.Report.Cycles/20_000_000), "calls at %v for %d cycles", calls, obs.Report.Cycles)
	for i, c := range calls[:len(calls)-1] {
		// Each call falls within a slice (2^24 cycles) of its multiple.
		assert.Less(t, c-uint64(i)*10_000_000, uint64(10_000_000+1<<24), "call %d at %d", i, c)
	}
}

// Cancelling the context ends the run with a complete report saying so:
// the signal the cause names, 128 plus it as the exit status, every
// thread ended with it, hits and misses still adding up.
func TestCancelEndsTheRunWithAReport(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  probesim.Config
	}{
		{"alone", probesim.Config{Program: "fixtures/bin/x86_64/loop"}}, // 200 M iterations: seconds
		{"smp", probesim.Config{Program: threads, Args: []string{"4", "1000000"}, CPUs: 4,
			Probes: []string{"probed"}, Strategy: probesim.Inline}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(t.Context())
			defer cancel(nil)
			cfg := tc.cfg
			cfg.ProgressCycles = 20_000_000
			cfg.OnProgress = func(c uint64) {
				if c >= cfg.ProgressCycles { // not the call at the start
					cancel(&probesim.Interruption{Signal: syscall.SIGINT})
				}
			}
			res, err := probesim.Run(ctx, cfg)
			require.ErrorIs(t, err, context.Canceled)
			require.NotNil(t, res, "an interrupted run has its result")
			rep := res.Report
			assert.Equal(t, probesim.StopInterrupted, rep.StopReason)
			assert.Equal(t, 130, rep.ExitStatus)
			require.NotNil(t, rep.Signal)
			assert.Equal(t, "SIGINT", *rep.Signal)
			assert.Positive(t, rep.Cycles)
			for _, th := range rep.Threads {
				assert.Equal(t, 130, th.ExitStatus, "thread %d", th.TID)
			}
			for _, p := range rep.Probes {
				assert.Equal(t, p.Executions, p.Hits+p.Misses)
				assert.Positive(t, p.Hits)
			}
		})
	}

	// Cancelled before it starts: a report of nothing run, signal SIGKILL
	// without a cause naming one.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	res, err := probesim.Run(ctx, probesim.Config{Program: "fixtures/bin/x86_64/loop"})
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, probesim.StopInterrupted, res.Report.StopReason)
	assert.Equal(t, 137, res.Report.ExitStatus)
	assert.Equal(t, "SIGKILL", *res.Report.Signal)
	assert.Zero(t, res.Report.Instructions)
}

// Every field of the callback types is the library's own (go doc shows
// them), and they encode as the engine's did.
func TestRegsEncodeByName(t *testing.T) {
	r := probesim.Regs{Mode: 32, AX: 1, IP: 0x8049000, Flags: 0x202}
	b, err := json.Marshal(r)
	require.NoError(t, err)
	assert.Equal(t, `{"eax":1,"ebx":0,"ecx":0,"edx":0,"esi":0,"edi":0,"ebp":0,"esp":0,"eip":134516736,"eflags":514}`, string(b))
	assert.Equal(t, probesim.NamedReg{Name: "eip", Value: 0x8049000}, r.Named()[8])
}

// The callbacks carry what the probe engine added in issue 16: a return
// probe's hits (Hit.Return, Func, the fetch arguments in Hit.Args and
// Event.Args), and probes placed and removed while the program runs. The
// streamed events are still exactly Result.Events, and each hit's event
// comes before its handler.
func TestCallbacksSeeReturnAndTimedProbes(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  probesim.Config
	}{
		{"return probe with a fetch argument", probesim.Config{Program: "fixtures/bin/x86_64/retprobe", Args: []string{"recurse", "3"},
			Seed: 1, Probes: []string{"depth%return v=$retval:s64"}, Strategy: probesim.XOL}},
		{"placed and removed while running", probesim.Config{Program: threads, Args: []string{"4", "3000"}, CPUs: 4, Seed: 1,
			ProbesAt: []probesim.TimedProbe{{Cycle: 40_000, Spec: "probed"}},
			DetachAt: []probesim.TimedProbe{{Cycle: 60_000, Spec: "probed"}}, Strategy: probesim.Inline}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var events []probesim.Event
			var hits []probesim.Hit
			cfg := tc.cfg
			cfg.OnEvent = func(e probesim.Event) { events = append(events, e) }
			cfg.OnHit = func(h probesim.Hit) {
				hits = append(hits, h)
				last := events[len(events)-1]
				assert.Equal(t, probesim.EventHit, last.Kind, "a hit's event comes before its handler")
				assert.Equal(t, h.Cycle, last.Cycle)
				if h.Return {
					require.Len(t, h.Args, 1)
					assert.Equal(t, probesim.ArgValue{Name: "v", Value: strconv.FormatInt(int64(h.Regs.AX), 10)}, h.Args[0])
					assert.Equal(t, "v="+h.Args[0].Value, last.Args)
					assert.Equal(t, h.Probe.Address, h.Func, "the probed function's entry")
					assert.True(t, h.Probe.Return)
				}
			}
			res, err := probesim.Run(t.Context(), cfg)
			require.NoError(t, err)
			require.Equal(t, 0, res.Report.ExitStatus, "%s", res.Report.Stderr)
			require.Len(t, res.Report.Probes, 1)
			p := res.Report.Probes[0]
			assert.Equal(t, res.Events, events)
			assert.Equal(t, int(p.Hits), len(hits))
			assert.NotZero(t, p.Hits)
			assert.Equal(t, p.Executions, p.Hits+p.Misses)
			if cfg.Probes != nil {
				assert.Len(t, hits, 4, "depth(3) returns 4 times")
				assert.Equal(t, uint64(45), hits[3].Regs.AX, "the outermost return's value")
			} else {
				assert.Equal(t, uint64(40_000), p.AttachedAt)
				assert.Equal(t, uint64(60_000), p.DetachedAt)
			}
		})
	}
}
