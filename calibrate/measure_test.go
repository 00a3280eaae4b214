package calibrate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUprobePreflight(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "type")
	require.NoError(t, os.WriteFile(good, []byte("8\n"), 0o644))
	bad := filepath.Join(dir, "bad")
	require.NoError(t, os.WriteFile(bad, []byte("uprobe\n"), 0o644))
	assert.Equal(t, "uprobe hits skipped: not root (perf_event_open of the uprobe PMU needs CAP_PERFMON)",
		uprobePreflight(1000, good))
	assert.Equal(t, "uprobe hits skipped: no uprobe PMU ("+filepath.Join(dir, "none")+" does not exist)",
		uprobePreflight(0, filepath.Join(dir, "none")))
	assert.Equal(t, "uprobe hits skipped: no uprobe PMU ("+bad+`: "uprobe" is not a PMU type)`, uprobePreflight(0, bad))
	assert.Equal(t, "", uprobePreflight(0, good))
}

// children lists the live child processes of this process (every thread's).
func children(t *testing.T) []string {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	require.NoError(t, err)
	var out []string
	for _, task := range tasks {
		data, err := os.ReadFile(filepath.Join("/proc/self/task", task.Name(), "children"))
		if err == nil {
			out = append(out, strings.Fields(string(data))...)
		}
	}
	return out
}

func openFDs(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	return len(fds)
}

// fakeUprober stands for the uprobe PMU: it counts what it is asked to
// count and records that every counter is closed.
type fakeUprober struct {
	mu     sync.Mutex
	open_  int
	closed int
	hits   uint64
	onOpen func()
}

type fakeCounter struct{ u *fakeUprober }

func (u *fakeUprober) open(path string, off uint64, pid int) (uprobeCounter, error) {
	u.mu.Lock()
	u.open_++
	u.mu.Unlock()
	if u.onOpen != nil {
		u.onOpen()
	}
	return fakeCounter{u}, nil
}

func (c fakeCounter) count() (uint64, error) { return c.u.hits, nil }
func (c fakeCounter) Close() error {
	c.u.mu.Lock()
	c.u.closed++
	c.u.mu.Unlock()
	return nil
}

// Not root: the run measures everything else, skips the uprobe hits with
// a reason, and the profile says so and falls back.
func TestRunNotRootSkipsUprobes(t *testing.T) {
	up := &fakeUprober{}
	ms, err := Run(context.Background(), Options{Repeat: 1, Scale: 0.01,
		env: env{euid: 1000, pmuTypePath: UprobePMUTypePath, uprober: up, set: true}})
	require.NoError(t, err)
	require.Contains(t, ms.Skipped, "uprobe hits skipped: not root (perf_event_open of the uprobe PMU needs CAP_PERFMON)")
	assert.Zero(t, up.open_)
	require.Len(t, ms.Repeats, 1)
	for _, k := range []string{"syscall_ns", "pagefault_ns", "int3_signal_ns", "step_signal_ns", "ptrace_int3_ns", "ptrace_step_ns", "core_hz"} {
		assert.Contains(t, ms.Repeats[0], k)
	}
	assert.NotContains(t, ms.Repeats[0], "uprobe_step_ns")
	p, err := Build(ms, Host, "host")
	require.NoError(t, err)
	assert.Contains(t, calParam(t, p, "kernel.exception_entry_exit").Method, "SIGTRAP")
	assert.Equal(t, ms.Skipped, p.Calibration.Skipped)
	assert.Empty(t, children(t))
}

// A uprobe that counts wrong fails the run with one line, and closes
// every counter.
func TestRunUprobeMiscount(t *testing.T) {
	up := &fakeUprober{hits: 7}
	_, err := Run(context.Background(), Options{Repeat: 1, Scale: 0.01,
		env: env{euid: 0, pmuTypePath: writePMUType(t), uprober: up, set: true}})
	require.Error(t, err)
	assert.Regexp(t, `^calibrate: uprobe: a uprobe counted 7 hits for \d+ calls$`, err.Error())
	assert.Equal(t, 4, up.open_)
	assert.Equal(t, up.open_, up.closed)
	assert.Empty(t, children(t))
}

func writePMUType(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "type")
	require.NoError(t, os.WriteFile(p, []byte("8\n"), 0o644))
	return p
}

// An interrupted calibrate leaves no probe (every counter closed), no
// process and no descriptor behind, wherever the interruption lands: in a
// helper measurement, with uprobes attached, or while tracing with ptrace.
func TestRunInterruptedLeavesNothing(t *testing.T) {
	for _, stage := range []string{"mprotect", "xmc", "uprobe", "ptrace"} {
		t.Run(stage, func(t *testing.T) {
			fds := openFDs(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			up := &fakeUprober{}
			e := env{euid: 0, pmuTypePath: writePMUType(t), uprober: up, set: true}
			// Cancel once a helper process of that stage exists (or, for
			// the uprobes, once a probe is attached to it).
			cancelWhenChild := func() {
				go func() {
					for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
						if len(children(t)) > 0 {
							cancel()
							return
						}
						time.Sleep(time.Millisecond)
					}
				}()
			}
			if stage == "uprobe" {
				up.onOpen = cancel
			} else {
				e.euid = 1000 // the fake counts no hits: skip the uprobe part
				e.stage = func(name string) {
					if name == stage {
						cancelWhenChild()
					}
				}
			}
			opt := Options{Repeat: 2, Scale: 0.05, env: e}
			if stage == "ptrace" {
				opt.Scale = 1 // long enough to be interrupted while tracing
			}
			_, err := Run(ctx, opt)
			require.True(t, errors.Is(err, context.Canceled), "error: %v", err)
			assert.Empty(t, children(t), "a helper process outlived the run")
			assert.Equal(t, up.open_, up.closed, "a uprobe was left open")
			assert.Equal(t, fds, openFDs(t), "a descriptor was left open")
		})
	}
}
