package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/fixtures"
)

// Hostile guests: programs that map, protect, spawn and grow far more than
// the fixtures do. Under Unicorn 2.0.1 each of them aborted the whole host
// process once the guest had a few thousand mapped regions; now each ends
// as it does natively, and never with a host crash.

// TestHostileGuestsEndAsNatively runs the stress fixture's heavy modes
// natively and under probesim: same output, same status.
func TestHostileGuestsEndAsNatively(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		cpus string
	}{
		// 20,000 one-page VMAs of alternating protections, half unmapped.
		{"mmaps", []string{"mmaps", "20000"}, "1"},
		// 10,000 threads, waves of 500 live ones, on one and four vCPUs.
		{"threads", []string{"threads", "10000"}, "1"},
		{"threads-4cpus", []string{"threads", "10000"}, "4"},
		// 100 mmaps of 1 GiB, each touched at both ends: x86_64 gets all
		// of them, i386 runs out of address space after 3 (ENOMEM).
		{"bigmaps", []string{"bigmaps", "100"}, "1"},
	} {
		for _, arch := range arches {
			t.Run(arch+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				path := fixturePath(t, arch, "stress")
				want := native(t, path, c.args, nil)
				require.Equal(t, 0, want.status, "native stderr %q", want.stderr)
				got := cli(t, append([]string{"run", "--cpus", c.cpus, path}, c.args...)...)
				requireNoCrash(t, got)
				assert.Equal(t, want.status, got.status, "status (stderr %q)", got.stderr)
				assert.Equal(t, string(want.stdout), string(got.stdout))
			})
		}
	}
}

// TestUnboundedRecursion recurses 10^8 frames of 1 KiB under a 100 GiB
// RLIMIT_STACK. Natively the stack grows until something else stops it:
// RLIMIT_AS (SIGSEGV, the expansion refused) or, without one, the OOM
// killer (SIGKILL). probesim stops it the same two ways: --memory-limit is
// the address-space bound, --ram the machine's memory.
func TestUnboundedRecursion(t *testing.T) {
	args := []string{"recurse", "100000000"}
	for _, arch := range arches {
		t.Run(arch+"/memory-limit", func(t *testing.T) {
			t.Parallel()
			path := fixturePath(t, arch, "stress")
			// prlimit sets the same two limits for the native run.
			want := native(t, "/usr/bin/prlimit", append([]string{"--as=268435456", "--stack=107374182400", path}, args...), nil)
			require.Equal(t, fixtures.StatusSIGSEGV, want.status, "native stderr %q", want.stderr)
			got := cli(t, append([]string{"run", "--memory-limit", "256M", "--stack-limit", "100G", path}, args...)...)
			requireNoCrash(t, got)
			assert.Equal(t, fixtures.StatusSIGSEGV, got.status, "stderr %q", got.stderr)
			assert.Contains(t, string(got.stderr), "stress[1000]: segfault at ")
			assert.Equal(t, string(want.stdout), string(got.stdout))
		})
		t.Run(arch+"/ram", func(t *testing.T) {
			t.Parallel()
			// Not compared natively: the host's OOM killer would pick its
			// victim on the test machine.
			res, rep, _, _ := runReport(t, []string{"--ram", "256M", "--stack-limit", "100G"}, fixturePath(t, arch, "stress"), args...)
			requireNoCrash(t, res)
			assert.Equal(t, 128+9, res.status, "stderr %q", res.stderr)
			assert.Equal(t, "out_of_memory", rep.StopReason)
			require.NotNil(t, rep.Signal)
			assert.Equal(t, "SIGKILL", *rep.Signal)
			assert.Equal(t, uint64(256<<20), rep.Limits.RAM)
			lines := outputLines(res.stderr)
			require.NotEmpty(t, lines)
			assert.Equal(t, "probesim: Out of memory: Killed process 1000 (stress)", lines[0])
			assert.True(t, strings.HasSuffix(lines[len(lines)-1], "killed by SIGKILL (out of memory: --ram 256M)"), "stderr %q", res.stderr)
		})
	}
}
