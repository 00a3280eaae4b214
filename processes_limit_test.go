// The fork bomb against a configured process limit. Config.MaxProcesses
// (the simulation's limit on processes not yet reaped, which the guest
// meets as EAGAIN from fork, vfork and clone, as Linux's threads-max: root
// is not exempt, unlike RLIMIT_NPROC).
package probesim_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim"
	"github.com/probesim/probesim/fixtures"
)

// TestForkBombMeetsMaxProcesses: with MaxProcesses 64, forkbomb's forks
// fail with EAGAIN after 63 children (the parent is the 64th process), it
// reaps them all and exits 0; with 2 one fork succeeds, with 1 none.
func TestForkBombMeetsMaxProcesses(t *testing.T) {
	for _, arch := range []string{fixtures.ArchI386, fixtures.ArchAMD64} {
		t.Run(arch, func(t *testing.T) {
			path, err := fixtures.Path(arch, "forkbomb")
			require.NoError(t, err, "make fixtures")
			res, err := probesim.Run(t.Context(), probesim.Config{Program: path, Args: []string{"10000"},
				CPUs: 2, Seed: 1, MaxProcesses: 64})
			require.NoError(t, err)
			rep := res.Report
			assert.Equal(t, "exit", rep.StopReason)
			assert.Equal(t, 0, rep.ExitStatus, "stderr %q", rep.Stderr)
			assert.Equal(t, forkbombWant, rep.Stdout)
			assert.Empty(t, rep.UnsupportedSyscalls)

			// Two processes allowed: one fork succeeds.
			res, err = probesim.Run(t.Context(), probesim.Config{Program: path, Args: []string{"10000"}, Seed: 1, MaxProcesses: 2})
			require.NoError(t, err)
			assert.Equal(t, forkbombWant, res.Report.Stdout)
			// One: the first fork fails.
			res, err = probesim.Run(t.Context(), probesim.Config{Program: path, Args: []string{"10000"}, Seed: 1, MaxProcesses: 1})
			require.NoError(t, err)
			assert.Contains(t, res.Report.Stdout, "fork failed with EAGAIN after no fork (N=0)\n")
			assert.Equal(t, 1, res.Report.ExitStatus)
		})
	}
}
