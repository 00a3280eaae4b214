package probes

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/fixtures"
	"github.com/probesim/probesim/smp"
)

// TestEntryAndReturnShareABreakpoint: probed and probed%return, in either
// order, are two consumers of one breakpoint. Each sees every call as an
// execution, hits + misses = executions for each, the return is missed
// exactly when the entry is (inline on 4 vCPUs misses; the others do not),
// and at every hit the entry handler runs before the return is armed.
func TestEntryAndReturnShareABreakpoint(t *testing.T) {
	const calls = 4 * 250
	for _, arch := range []string{fixtures.ArchAMD64, fixtures.ArchI386} {
		prog, err := fixtures.Path(arch, "threads")
		require.NoError(t, err)
		for _, order := range [][]string{{"probed", "probed%return"}, {"uretprobe:probed", "uprobe:probed"}} {
			for _, s := range Strategies {
				for _, cpus := range []int{1, 4} {
					name := arch + "/" + order[0] + "/" + string(s)
					m, err := smp.New(smp.Config{Program: prog, Args: []string{"4", "250"}, CPUs: cpus, Seed: 1})
					require.NoError(t, err)
					specs, err := ParseList(m.Image(), order)
					require.NoError(t, err, name)
					var kinds []bool
					e, err := Attach(m, specs, s, func(h Hit) { kinds = append(kinds, h.Return) })
					require.NoError(t, err, name)
					r, err := m.Run()
					require.NoError(t, err)
					m.Close()
					require.Equal(t, "exit", r.StopReason, name)
					require.Contains(t, r.Stdout, "calls=1000\n")
					res := e.Results()
					require.Len(t, res, 2)
					entry, ret := res[0], res[1]
					if entry.Return {
						entry, ret = ret, entry
					}
					for _, x := range res {
						assert.Equal(t, uint64(calls), x.Executions, "%s %d vCPUs %s", name, cpus, x.Spec)
						assert.Equal(t, x.Executions, x.Hits+x.Misses, "%s %d vCPUs %s", name, cpus, x.Spec)
					}
					assert.Equal(t, entry.Misses, ret.Misses, "%s %d vCPUs: a missed entry misses its return", name, cpus)
					if s != Inline || cpus == 1 {
						assert.Zero(t, entry.Misses, "%s %d vCPUs", name, cpus)
					}
					require.Len(t, kinds, int(entry.Hits+ret.Hits))
					seenEntries := 0
					for _, isReturn := range kinds {
						if !isReturn {
							seenEntries++
						} else {
							assert.Positive(t, seenEntries, "%s: a return before any entry", name)
						}
					}
				}
			}
		}
	}
}

// A shared breakpoint is placed before the run and stays: placing the
// second consumer, or removing either, while the program runs is refused;
// two probes of one kind at an address are refused as before.
func TestSharedBreakpointLimits(t *testing.T) {
	prog, err := fixtures.Path(fixtures.ArchAMD64, "threads")
	require.NoError(t, err)
	m, err := smp.New(smp.Config{Program: prog, Args: []string{"1", "10"}})
	require.NoError(t, err)
	defer m.Close()
	entry, err := Resolve(m.Image(), "probed")
	require.NoError(t, err)
	ret, err := Resolve(m.Image(), "probed%return")
	require.NoError(t, err)
	e, err := Attach(m, []Spec{entry}, XOL, nil)
	require.NoError(t, err)
	assert.EqualError(t, e.AttachAt(1000, ret), `probe "probed%return": an entry and a return probe share `+
		fmt.Sprintf("%#x", entry.Addr)+` only when both are placed before the run`)
	assert.EqualError(t, e.AttachAt(0, entry), `probe "probed": address `+fmt.Sprintf("%#x", entry.Addr)+` is probed twice`)
	require.NoError(t, e.AttachAt(0, ret))
	assert.EqualError(t, e.DetachAt(5000, entry.Addr), `detach at cycle 5000: an entry and a return probe share `+
		fmt.Sprintf("%#x", entry.Addr)+`; they cannot be removed while the program runs`)
	_, err = ParseList(m.Image(), []string{"probed", "uprobe:probed"})
	assert.ErrorContains(t, err, `same address`)
}
