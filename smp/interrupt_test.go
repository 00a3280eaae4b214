package smp_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/fixtures"
	"github.com/probesim/probesim/smp"
)

// TestCuttingLoneSlicesChangesNothing: a vCPU running alone has its slices
// cut every checkCycles so that Interrupt and Progress act; the report is
// the same whether they are cut every 1,024 cycles, every 2^24 (the
// default) or never, for a loop without syscalls, a single-threaded
// program with syscalls, and threads on fewer vCPUs (time slices) and on
// as many (lone stretches at the start and the end).
func TestCuttingLoneSlicesChangesNothing(t *testing.T) {
	cases := []struct {
		name string
		cpus int
		args []string
	}{
		{"loop", 1, []string{"3000000"}},
		{"qsort", 1, nil},
		{"threads", 1, []string{"4", "300", "2000"}},
		{"threads", 2, []string{"4", "300", "2000"}},
		{"parallel", 2, nil},
	}
	defer smp.SetCheckCycles(smp.SetCheckCycles(1 << 24))
	for _, arch := range arches {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s/%s/%dcpu", arch, tc.name, tc.cpus), func(t *testing.T) {
				prog, err := fixtures.Path(arch, tc.name)
				require.NoError(t, err)
				var reports []string
				for _, every := range []uint64{1 << 10, 1 << 24, 1 << 60} {
					smp.SetCheckCycles(every)
					r := runGuest(t, smp.Config{Program: prog, Args: tc.args, CPUs: tc.cpus, Seed: 2})
					require.Equal(t, "exit", r.StopReason)
					r.Host = nil
					reports = append(reports, reportJSON(t, r))
				}
				assert.Equal(t, reports[2], reports[0], "cut every 1,024 cycles")
				assert.Equal(t, reports[2], reports[1], "cut every 2^24 cycles")
			})
		}
	}
}

// TestInterruptEndsTheRun: Interrupt from a Progress call ends the run at
// the next decision, with the signal given; a signal out of range is
// SIGKILL.
func TestInterruptEndsTheRun(t *testing.T) {
	prog := fixture(t, fixtures.ArchAMD64, "loop")
	var m *smp.Machine
	var calls int
	var third uint64
	m, err := smp.New(smp.Config{Program: prog, ProgressEvery: 1_000_000, Progress: func(c uint64) {
		calls++
		if calls == 3 {
			third = c
			m.Interrupt(15)
			m.Interrupt(2) // the first call wins
		}
	}})
	require.NoError(t, err)
	defer m.Close()
	r, err := m.Run()
	require.NoError(t, err)
	assert.Equal(t, 3, calls, "no progress after the interruption")
	assert.Equal(t, smp.StopInterrupted, r.StopReason)
	assert.Equal(t, 128+15, r.ExitStatus)
	require.NotNil(t, r.Signal)
	assert.Equal(t, "SIGTERM", *r.Signal)
	// Alone, the loop meets a decision every 2^24 cycles: the third
	// multiple of a million it passes is at the third cut, and the run
	// ends at the decision right after the call.
	assert.Equal(t, third, r.Cycles)
	assert.Less(t, r.Cycles, uint64(4<<24))

	m2, err := smp.New(smp.Config{Program: prog})
	require.NoError(t, err)
	defer m2.Close()
	m2.Interrupt(0)
	r, err = m2.Run()
	require.NoError(t, err)
	assert.Equal(t, 137, r.ExitStatus)
	assert.Zero(t, r.Instructions)
}

func reportJSON(t *testing.T, r any) string {
	t.Helper()
	b, err := json.Marshal(r)
	require.NoError(t, err)
	return string(b)
}
