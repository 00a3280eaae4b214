package probes

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/fixtures"
	"github.com/probesim/probesim/smp"
)

// fixupIterations is the fixups fixture's loop count: every fx_* label is
// executed once per iteration.
const fixupIterations = 50

// fixupLabels are the fixups fixture's probe points per arch, with the class
// each must classify as: one probe per out-of-line fixup class.
var fixupLabels = map[string][]struct {
	label string
	class Class
}{
	fixtures.ArchI386: {
		{"fx_jmp", ClassRelJump}, {"fx_jmp32", ClassRelJump}, {"fx_jcc_taken", ClassRelJump},
		{"fx_jcc_not", ClassRelJump}, {"fx_loop", ClassRelJump}, {"fx_loop_not", ClassRelJump},
		{"fx_call", ClassRelCall}, {"fx_entry_call", ClassRelCall}, {"fx_ret", ClassRet},
		{"fx_icall", ClassIndirectCall}, {"fx_ijmp", ClassIndirectJump}, {"fx_pushf", ClassPushf},
		{"fx_popf", ClassPopf}, {"fx_push", ClassStackWrite}, {"fx_push_reg", ClassStackWrite},
	},
	fixtures.ArchAMD64: {
		{"fx_jmp", ClassRelJump}, {"fx_jmp32", ClassRelJump}, {"fx_jcc_taken", ClassRelJump},
		{"fx_jcc_not", ClassRelJump}, {"fx_loop", ClassRelJump}, {"fx_loop_not", ClassRelJump},
		{"fx_call", ClassRelCall}, {"fx_entry_call", ClassRelCall}, {"fx_ret", ClassRet},
		{"fx_icall", ClassIndirectCall}, {"fx_ijmp", ClassIndirectJump}, {"fx_pushf", ClassPushf},
		{"fx_popf", ClassPopf}, {"fx_push", ClassStackWrite}, {"fx_push_reg", ClassStackWrite},
		{"fx_riprel", ClassRIPRelative}, {"fx_redzone", ClassPlain}, {"fx_redzone_mid", ClassPlain},
	},
}

// runFixups runs the fixups fixture with one probe on label.
func runFixups(t *testing.T, arch, label string, cpus int, s Strategy) (string, Result, Stats, Class) {
	t.Helper()
	prog, err := fixtures.Path(arch, "fixups")
	require.NoError(t, err)
	m, err := smp.New(smp.Config{Program: prog, CPUs: cpus, Seed: 1})
	require.NoError(t, err)
	defer m.Close()
	spec, err := Resolve(m.Image(), label)
	require.NoError(t, err)
	e, err := Attach(m, []Spec{spec}, s, nil)
	require.NoError(t, err)
	r, err := m.Run()
	require.NoError(t, err)
	require.Equal(t, "exit", r.StopReason, "stderr %q fault %+v", r.Stderr, r.Fault)
	require.Zero(t, r.ExitStatus, "exit status")
	return r.Stdout, e.Results()[0], e.Stats(), spec.Class
}

// TestFixupsEveryClass probes each fixup class's instruction in turn: the
// program's output must be the native one and every execution a hit, with
// inline stepping, out of line on the stack and in the XOL page, on one and
// two vCPUs.
func TestFixupsEveryClass(t *testing.T) {
	for _, arch := range []string{fixtures.ArchI386, fixtures.ArchAMD64} {
		prog, err := fixtures.Path(arch, "fixups")
		require.NoError(t, err)
		want, _, status, err := fixtures.RunNative(prog, nil, nil, nil)
		require.NoError(t, err)
		require.Zero(t, status)
		require.Regexp(t, `^[0-9a-f]{8}\n$`, string(want))
		for _, l := range fixupLabels[arch] {
			for _, run := range []struct {
				s    Strategy
				cpus int
			}{{Inline, 1}, {SSOLStack, 1}, {SSOLStack, 2}, {XOL, 1}, {XOL, 2}} {
				t.Run(fmt.Sprintf("%s/%s/%s/%dcpu", arch, l.label, run.s, run.cpus), func(t *testing.T) {
					out, res, st, class := runFixups(t, arch, l.label, run.cpus, run.s)
					require.Equal(t, l.class, class, "class")
					require.Equal(t, string(want), out, "stdout differs from native")
					require.Equal(t, uint64(fixupIterations), res.Executions, "executions")
					require.Equal(t, uint64(fixupIterations), res.Hits, "hits")
					require.Zero(t, res.Misses, "misses")
					if run.s == SSOLStack {
						// The red-zone leaf's sp is 0x30 bytes into a page that
						// is not the stack's lowest: no slot below the red zone
						// fits in that page, so the copy goes to the start of
						// the stack's VMA (the repost's first fallback) and the
						// leaf's red-zone data survives. RIP-relative probes
						// step a rewritten copy (riprel.go).
						atStart := uint64(0)
						if l.label == "fx_redzone" || l.label == "fx_redzone_mid" {
							atStart = fixupIterations
						}
						require.Equal(t, atStart, st.StackStart, "slots at the stack VMA's start")
						require.Zero(t, st.InlineFallback, "inline fallbacks")
					}
					if run.s == XOL {
						// The slot is in the XOL page whatever sp is: the
						// red-zone leaves need no fallback either. What
						// Linux emulates takes no slot at all.
						require.Zero(t, st.StackStart+st.StackGrowths+st.NXFlips, "stack slots or NX flips")
						require.Zero(t, st.InlineFallback, "inline fallbacks")
						if emulable(t, arch, l.label) {
							require.Equal(t, uint64(fixupIterations), st.Emulated, "emulated hits")
							require.Zero(t, st.XOLSlotsMaxInUse+st.Stepped, "an emulated hit steps nothing")
						} else {
							require.Equal(t, uint64(1), st.XOLSlotsMaxInUse, "one worker steps at a time")
							require.Zero(t, st.Emulated)
						}
					}
				})
			}
		}
	}
}

// emulable reports whether xol emulates the instruction at the fixups
// fixture's label (emulate.go): the relative jumps, calls and jccs and
// push reg, not loop, ret, indirect branches, pushf/popf or push imm.
func emulable(t *testing.T, arch, label string) bool {
	switch label {
	case "fx_jmp", "fx_jmp32", "fx_jcc_taken", "fx_jcc_not", "fx_call", "fx_entry_call", "fx_push_reg":
		return true
	}
	return false
}
