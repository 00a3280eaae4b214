package main

// Tests with small programs from testdata/, built by gcc at test time, for
// guest-visible behaviour the fixtures do not print.

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mapsLine is one parsed line of /proc/self/maps.
type mapsLine struct {
	start, end, offset uint64
	perms, name        string
}

// parseMaps parses /proc/self/maps text:
// "start-end perms offset major:minor inode [name]".
func parseMaps(t *testing.T, text []byte) []mapsLine {
	t.Helper()
	var out []mapsLine
	for _, l := range outputLines(text) {
		f := strings.Fields(l)
		require.GreaterOrEqual(t, len(f), 5, "maps line %q", l)
		se := strings.SplitN(f[0], "-", 2)
		require.Len(t, se, 2, "maps line %q", l)
		var m mapsLine
		var err error
		m.start, err = strconv.ParseUint(se[0], 16, 64)
		require.NoError(t, err, l)
		m.end, err = strconv.ParseUint(se[1], 16, 64)
		require.NoError(t, err, l)
		m.offset, err = strconv.ParseUint(f[2], 16, 64)
		require.NoError(t, err, l)
		m.perms = f[1]
		m.name = strings.Join(f[5:], " ")
		out = append(out, m)
	}
	return out
}

// kernelSpecialMappings are the kernel's own mappings in a native process
// that probesim does not have: it has no vDSO (docs/ARCHITECTURE.md). The
// x86-64 vsyscall page it has, and shows as Linux does.
var kernelSpecialMappings = map[string]bool{"[vvar]": true, "[vvar_vclock]": true, "[vdso]": true}

// shape is the address-independent part of maps: what each line maps.
func shape(maps []mapsLine) []string {
	var out []string
	for _, m := range maps {
		if kernelSpecialMappings[m.name] {
			continue
		}
		out = append(out, fmt.Sprintf("%s %08x %s", m.perms, m.offset, m.name))
	}
	return out
}

// TestGuestMapsMatchNative runs testdata/catmaps.c, which prints its own
// /proc/self/maps: apart from addresses and the vDSO, the guest must see the
// mappings Linux gives the same binary, and the report's maps must be the
// ones the guest saw (nothing maps or unmaps after the read).
func TestGuestMapsMatchNative(t *testing.T) {
	for _, arch := range arches {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			prog := compileC(t, "catmaps.c", arch, false)
			nat := native(t, prog, nil, nil)
			require.Equal(t, 0, nat.status, "native stderr %q", nat.stderr)
			res, rep, _, _ := runReport(t, nil, prog)
			require.Equal(t, 0, res.status, "stderr %q", res.stderr)

			guest := parseMaps(t, res.stdout)
			assert.Equal(t, shape(parseMaps(t, nat.stdout)), shape(guest),
				"guest /proc/self/maps:\n%s\nnative:\n%s", res.stdout, nat.stdout)

			var fromReport []mapsLine
			for _, m := range rep.Maps {
				fromReport = append(fromReport, mapsLine{start: m.Start, end: m.End, offset: m.Offset, perms: m.Perms, name: m.Name})
			}
			// The vsyscall page is the gate VMA, outside the mm's VMAs
			// (get_gate_vma): the report lists the VMAs.
			if n := len(guest); arch == "x86_64" && n > 0 && guest[n-1].name == "[vsyscall]" {
				guest = guest[:n-1]
			}
			assert.Equal(t, guest, fromReport, "report maps are the guest's /proc/self/maps, less the vsyscall page")
		})
	}
}

// TestGuestMapsNameAbsolutePath runs catmaps by a relative path: Linux names
// file mappings in /proc/self/maps by their absolute path (d_path), whatever
// path execve was given.
func TestGuestMapsNameAbsolutePath(t *testing.T) {
	for _, arch := range arches {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			prog := compileC(t, "catmaps.c", arch, false)
			dir, base := filepath.Split(prog)
			res := execute(t, dir, runTimeout, probesimBin, "run", "./"+base)
			require.Equal(t, 0, res.status, "stderr %q", res.stderr)
			var files int
			for _, m := range parseMaps(t, res.stdout) {
				if strings.HasSuffix(m.name, base) {
					files++
					assert.Equal(t, prog, m.name, "mapping %+v", m)
				}
			}
			assert.GreaterOrEqual(t, files, 3, "the program's segments in\n%s", res.stdout)
		})
	}
}

// TestFPUInitialState runs testdata/fpenv.c, which prints the x87 control
// word and MXCSR it starts with and computes with them: Linux starts a
// process with 0x37f and 0x1f80 (arch/x86/kernel/fpu/core.c
// fpstate_init_fx), so long double keeps its 64-bit mantissa and division by
// zero gives inf.
func TestFPUInitialState(t *testing.T) {
	for _, arch := range arches {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			prog := compileC(t, "fpenv.c", arch, false)
			nat := native(t, prog, nil, nil)
			require.Equal(t, 0, nat.status)
			require.True(t, strings.HasPrefix(string(nat.stdout), "fcw=0x37f mxcsr=0x1f80\n"), "native %q", nat.stdout)
			res := cli(t, "run", prog)
			assert.Equal(t, nat.status, res.status, "stderr %q", res.stderr)
			assert.Equal(t, string(nat.stdout), string(res.stdout))
			assert.Equal(t, string(nat.stderr), string(res.stderr))
		})
	}
}
