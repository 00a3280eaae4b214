package probes

import (
	"debug/elf"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/fixtures"
)

// sweepCounts is what a linear sweep of .text found.
type sweepCounts struct {
	insns, accepted, refused, undecodable int
	byReason                              map[string]int
	byClass                               map[Class]int
}

// sweepText runs Check over every instruction of a linear sweep of code: a
// decodable instruction advances by its length, undecodable bytes by one.
func sweepText(t *testing.T, code []byte, mode int, c *sweepCounts) {
	for pos := 0; pos < len(code); {
		inst, err := Check(code[pos:min(len(code), pos+15)], mode)
		step := inst.Len
		switch {
		case err == nil:
			c.accepted++
			c.byClass[Classify(inst, mode)]++
		default:
			var ue *UnprobeableError
			require.True(t, errors.As(err, &ue), "at +0x%x: %v", pos, err)
			require.NotEmpty(t, ue.Reason, "at +0x%x", pos)
			require.NotContains(t, err.Error(), "\n")
			c.refused++
			c.byReason[ue.Reason]++
			if !ue.Decoded {
				c.undecodable++
				step = 1
			}
		}
		require.Positive(t, step)
		c.insns++
		pos += step
	}
}

// TestCheckSweepsFixtureText checks every instruction of a linear sweep of
// the .text of every fixture, both arches: no panic, every refusal has a
// reason, and the counts (logged with -v) are what the report quotes.
func TestCheckSweepsFixtureText(t *testing.T) {
	for _, a := range arches {
		c := sweepCounts{byReason: map[string]int{}, byClass: map[Class]int{}}
		files := 0
		for _, fx := range fixtures.All() {
			if !fx.BuiltFor(a.name) {
				continue
			}
			path, err := fixtures.Path(a.name, fx.Name)
			require.NoError(t, err)
			f, err := elf.Open(path)
			require.NoError(t, err)
			sec := f.Section(".text")
			require.NotNil(t, sec, path)
			code, err := sec.Data()
			f.Close()
			require.NoError(t, err)
			sweepText(t, code, a.mode, &c)
			files++
		}
		require.Positive(t, files)
		// Static glibc/musl text holds both kinds: ordinary code, and
		// syscall / int $0x80, hlt, ud2 and the like.
		assert.Positive(t, c.accepted, a.name)
		assert.Positive(t, c.refused, a.name)
		assert.Equal(t, c.insns, c.accepted+c.refused)
		// Go's linker pads between functions with int3 (0xcc), which a
		// linear sweep counts as refused instructions (150,000 of them in
		// gonet's x86-64 text): the padding is not code, so the ratio
		// leaves it out.
		const padding = "int3 is the breakpoint instruction itself"
		assert.Positive(t, c.byReason[padding], a.name)
		assert.Greater(t, c.accepted, 50*(c.refused-c.byReason[padding]), "%s: most code is probeable", a.name)
		t.Log(summarise(a.name, files, c))
	}
}

func summarise(arch string, files int, c sweepCounts) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d binaries, %d instructions: %d accepted, %d refused (%d undecodable bytes)\n",
		arch, files, c.insns, c.accepted, c.refused, c.undecodable)
	reasons := make([]string, 0, len(c.byReason))
	for r := range c.byReason {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		fmt.Fprintf(&b, "  refused %7d  %s\n", c.byReason[r], r)
	}
	for cl := ClassPlain; cl <= ClassStackWrite; cl++ {
		fmt.Fprintf(&b, "  class %-14s %7d\n", cl, c.byClass[cl])
	}
	return b.String()
}
