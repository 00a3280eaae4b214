package smp_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/smp"
)

// TestProcessesShareTheVCPUs: preforked's parent and four workers, each a
// single-threaded process, run on two vCPUs: the vCPUs switch address
// spaces (each switch counted and charged) and the report lists the five
// processes with their parent and threads, whose counts add up to the
// run's. (That shootdowns skip other processes' vCPUs is tested with two
// processes that munmap at once, TestShootdownsStayInTheirAddressSpace.)
func TestProcessesShareTheVCPUs(t *testing.T) {
	for _, arch := range arches {
		t.Run(arch, func(t *testing.T) {
			r := runGuest(t, smp.Config{Program: fixture(t, arch, "preforked"), Args: []string{"4", "200"}, CPUs: 2, Seed: 1})
			require.Equal(t, 0, r.ExitStatus, "stderr %s", r.Stderr)
			require.Len(t, r.Processes, 5)
			var switches uint64
			for _, v := range r.VCPUs {
				switches += v.AddressSpaceSwitches
			}
			assert.Positive(t, switches, "the vCPUs ran several processes")
			var cycles, insns uint64
			for i, p := range r.Processes {
				assert.Equal(t, 1000+i, p.PID)
				assert.Len(t, p.Threads, 1)
				assert.Equal(t, 0, p.ExitStatus)
				cycles += p.Cycles
				insns += p.Instructions
				if i == 0 {
					assert.Equal(t, 1, p.PPID, "the first's parent is init")
				} else {
					assert.Equal(t, 1000, p.PPID)
				}
			}
			assert.Equal(t, r.Instructions, insns, "the processes' instructions are the run's")
			var threadCycles uint64
			for _, th := range r.Threads {
				threadCycles += th.Cycles
			}
			assert.Equal(t, threadCycles, cycles)
		})
	}
}
