package demo

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim"
)

// TestSeedBugs: the --seed-bugs part runs the 2005 code and the 2006 lock
// on 1 and 4 vCPUs. The 2005 runs go wrong (a defect detected, the program
// not ending as it does without probes); the 2006 runs end right with
// every call a hit, and the lock costs spinning only on 4 vCPUs. The text
// is 80 columns and the same every time.
func TestSeedBugs(t *testing.T) {
	sb, err := RunSeedBugsWorkload(t.Context(), DefaultWorkload, 1, []int{1, 4})
	require.NoError(t, err)
	require.Len(t, sb.Runs, 4)
	calls := uint64(DefaultWorkload.Threads * DefaultWorkload.Calls)
	for _, r := range sb.Runs {
		d := defects(r.Report)
		switch r.Strategy {
		case probesim.SSOLStack2005:
			assert.NotZero(t, d.LiveStackCopies+d.EIPNotMoved+d.ForeignSinglestepAddr+d.MissingFixups,
				"%d vCPUs: no defect detected", r.CPUs)
			assert.False(t, sb.AsUnprobed(r.Report), "%d vCPUs: the 2005 code ran the workload right", r.CPUs)
		case probesim.SSOLStack2006:
			assert.Zero(t, d, "2006 has no defects")
			assert.True(t, sb.AsUnprobed(r.Report), "%d vCPUs: %s", r.CPUs, r.Report.StopReason)
			assert.Equal(t, calls, r.Report.Probes[0].Hits)
			assert.Zero(t, r.Report.Probes[0].Misses)
			if r.CPUs == 1 {
				assert.Zero(t, r.Report.OutOfLine.LockSpinCycles, "nothing to spin for on one vCPU")
			} else {
				assert.NotZero(t, r.Report.OutOfLine.LockSpins)
			}
		}
	}
	var a, b strings.Builder
	require.NoError(t, sb.WriteText(&a))
	for _, line := range strings.Split(a.String(), "\n") {
		assert.LessOrEqual(t, width(line), 80, "%q", line)
	}
	assert.Contains(t, a.String(), "no copy: with no VMA above PAGE_ALIGN(esp)")
	assert.Contains(t, a.String(), "then the kernel: threads[1000]: segfault")
	again, err := RunSeedBugsWorkload(t.Context(), DefaultWorkload, 1, []int{1, 4})
	require.NoError(t, err)
	require.NoError(t, again.WriteText(&b))
	assert.Equal(t, a.String(), b.String())
}
