package probes

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/fixtures"
	"github.com/probesim/probesim/kernel"
	"github.com/probesim/probesim/smp"
)

// buildSigprobe compiles testdata/sigprobe.c for arch. It is not
// position-independent, so that probed() starts with its counter's
// increment, an instruction every strategy single-steps (as PIC on i386 it
// starts with a call to the pc thunk, which xol emulates without a step,
// and no signal could arrive during one).
func buildSigprobe(t *testing.T, arch string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sigprobe")
	args := []string{"-static", "-fno-pie", "-no-pie", "-O2", "-pthread", "-o", bin, "testdata/sigprobe.c"}
	if arch == fixtures.ArchI386 {
		args = append([]string{"-m32"}, args...)
	}
	out, err := exec.Command("gcc", args...).CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

// TestSignalsHeldDuringTheStep: a signal sent to a thread while a probe
// single-steps it is held until the step ends (uprobe_deny_signal), then
// delivered: every signal the probe handler sends runs the guest's
// handler once, every call is an execution that is a hit or a miss, and
// the run shows that signals were held. Lockstep on two vCPUs makes
// slices end between the int3 and the #DB, so the hold is exercised.
func TestSignalsHeldDuringTheStep(t *testing.T) {
	const calls, every = 300, 3
	for _, arch := range []string{fixtures.ArchAMD64, fixtures.ArchI386} {
		bin := buildSigprobe(t, arch)
		for _, s := range Strategies {
			t.Run(arch+"/"+string(s), func(t *testing.T) {
				m, err := smp.New(smp.Config{Program: bin, Args: []string{"signals", strconv.Itoa(calls)},
					CPUs: 2, Seed: 1, Lockstep: true})
				require.NoError(t, err)
				defer m.Close()
				spec, err := Resolve(m.Image(), "probed")
				require.NoError(t, err)
				sent, hits := 0, 0
				e, err := Attach(m, []Spec{spec}, s, func(h Hit) {
					if hits++; hits%every == 0 {
						sent++
						require.NoError(t, m.Kernel().SignalThread(h.TID, kernel.SIGUSR1))
					}
				})
				require.NoError(t, err)
				r, err := m.Run()
				require.NoError(t, err)
				require.Equal(t, "exit", r.StopReason, "stderr %q fault %+v", r.Stderr, r.Fault)
				res := e.Results()[0]
				assert.Equal(t, uint64(calls), res.Executions)
				assert.Equal(t, res.Executions, res.Hits+res.Misses)
				assert.Equal(t, "calls="+strconv.Itoa(calls)+" handled="+strconv.Itoa(sent)+"\n", r.Stdout,
					"every signal delivered once, after its step")
				assert.NotZero(t, sent)
				assert.NotZero(t, m.Kernel().HeldForStep(), "no signal arrived during a step: the test did not test")
				t.Logf("%d signals, held %d times, %d hits, %d misses", sent, m.Kernel().HeldForStep(), res.Hits, res.Misses)
			})
		}
	}
}

// TestFaultOfTheSteppedCopy: when the stepped instruction faults, the
// step is abandoned and the fault is the original instruction's
// (arch_uprobe_abort_xol): the handler sees the probed address as the
// interrupted ip, and without a handler the report's fault is there.
func TestFaultOfTheSteppedCopy(t *testing.T) {
	for _, arch := range []string{fixtures.ArchAMD64, fixtures.ArchI386} {
		bin := buildSigprobe(t, arch)
		for _, s := range Strategies {
			t.Run(arch+"/"+string(s), func(t *testing.T) {
				run := func(mode string) (*smp.Machine, *Engine, string, uint64, func()) {
					m, err := smp.New(smp.Config{Program: bin, Args: []string{mode}, Seed: 1})
					require.NoError(t, err)
					spec, err := Resolve(m.Image(), "touch_load")
					require.NoError(t, err)
					e, err := Attach(m, []Spec{spec}, s, nil)
					require.NoError(t, err)
					r, err := m.Run()
					require.NoError(t, err)
					if mode == "die" {
						require.Equal(t, "fault", r.StopReason)
						assert.Equal(t, spec.Addr, r.Fault.RIP, "the fault is reported at the probed instruction")
						assert.Equal(t, uint64(64), r.Fault.Address)
						assert.Equal(t, "SIGSEGV", r.Fault.Signal)
					} else {
						require.Equal(t, "exit", r.StopReason, "stderr %q fault %+v", r.Stderr, r.Fault)
					}
					return m, e, r.Stdout, spec.Addr, func() { m.Close() }
				}
				m, e, out, _, done := run("fault")
				assert.Equal(t, "good: 5\nfault at the probed instruction: yes\nfault address: 0x40\nsurvived\n", out)
				res := e.Results()[0]
				assert.Equal(t, uint64(2), res.Hits, "both calls hit")
				assert.Equal(t, uint64(1), e.Stats().StepAborts)
				assert.NotContains(t, string(m.AddressSpace().MapsText()), "rwxp", "no NX flip left behind")
				done()
				_, e, out, _, done = run("die")
				assert.Equal(t, "good: 5\n", out)
				assert.Equal(t, uint64(1), e.Stats().StepAborts)
				done()
			})
		}
	}
}
