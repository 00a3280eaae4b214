package probes

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/fixtures"
	"github.com/probesim/probesim/smp"
)

// TestFetchArgsErrors: a bad fetch argument is a one-line error naming it.
func TestFetchArgsErrors(t *testing.T) {
	prog, err := fixtures.Path(fixtures.ArchAMD64, "retprobe")
	require.NoError(t, err)
	m, err := smp.New(smp.Config{Program: prog, Args: []string{"recurse", "1"}})
	require.NoError(t, err)
	defer m.Close()
	many := "depth" + strings.Repeat(" %di", 129)
	for _, c := range []struct{ spec, want string }{
		{"depth n=%dx:s33", `bad fetch argument "n=%dx:s33": type "s33"`},
		{"depth n=%xx", `bad fetch argument "n=%xx": unknown register "%xx"`},
		{"depth v=$retval", "$retval is only for return probes"},
		{"depth p=+8(%sp", "a dereference is +|-OFFS(FETCHARG)"},
		{"depth p=+z(%sp)", `bad offset "z"`},
		{"depth 1n=%di", `name "1n"`},
		{"depth a=%di a=%si", "the name a is used twice"},
		{"depth x=@+0x10", "@+OFFSET (a file offset) is not supported"},
		{"depth x=$argv", `unknown variable "$argv"`},
		{"depth c=$comm:u32", "$comm is a string"},
		{many, "129 fetch arguments: at most 128"},
	} {
		_, err := Resolve(m.Image(), c.spec)
		require.Error(t, err, c.spec)
		require.Contains(t, err.Error(), c.want, c.spec)
		require.NotContains(t, err.Error(), "\n")
	}
	m32, err := smp.New(smp.Config{Program: fixturePathT(t, fixtures.ArchI386, "retprobe"), Args: []string{"recurse", "1"}})
	require.NoError(t, err)
	defer m32.Close()
	_, err = Resolve(m32.Image(), "depth r=%r8")
	require.ErrorContains(t, err, "no register %r8 in a 32-bit program")
	_, err = Resolve(m32.Image(), "depth r=%ax:u64")
	require.ErrorContains(t, err, "wider than a 32-bit program's word")
}

// TestFetchArgsValues: the threads fixture's probed(x) gets x in edi on
// x86-64 and at 4(%esp) on i386; fetched as s32 it is every call's
// argument, and $stack0 is the return address the register view has at
// sp; a return probe's $retval is depth(n)'s value; $comm is the task's
// name. The values reach Hit.Args and the event log.
func TestFetchArgsValues(t *testing.T) {
	for _, c := range []struct {
		arch, spec string
	}{
		{fixtures.ArchAMD64, "probed n=%di:s32 ret=$stack0 sp=$stack c=$comm"},
		{fixtures.ArchI386, "probed n=+4(%sp):s32 ret=$stack0 sp=$stack c=$comm"},
	} {
		t.Run(c.arch, func(t *testing.T) {
			prog := fixturePathT(t, c.arch, "threads")
			m, err := smp.New(smp.Config{Program: prog, Args: []string{"2", "50"}, CPUs: 2, Seed: 1})
			require.NoError(t, err)
			defer m.Close()
			spec, err := Resolve(m.Image(), c.spec)
			require.NoError(t, err)
			seen := map[int64]bool{}
			e, err := Attach(m, []Spec{spec}, XOL, func(h Hit) {
				require.Len(t, h.Args, 4)
				require.Equal(t, "n", h.Args[0].Name)
				n, err := strconv.ParseInt(h.Args[0].Value, 10, 32)
				require.NoError(t, err)
				seen[n] = true
				var b [8]byte
				word := 8
				if h.Regs.Mode == 32 {
					word = 4
				}
				require.NoError(t, h.ReadMemory(h.Regs.SP, b[:word]))
				var ret uint64
				for i := word - 1; i >= 0; i-- {
					ret = ret<<8 | uint64(b[i])
				}
				require.Equal(t, fmt.Sprintf("0x%x", ret), h.Args[1].Value, "$stack0")
				require.Equal(t, fmt.Sprintf("0x%x", h.Regs.SP), h.Args[2].Value, "$stack")
				require.Equal(t, `"threads"`, h.Args[3].Value)
			})
			require.NoError(t, err)
			_, err = m.Run()
			require.NoError(t, err)
			require.Len(t, seen, 100)
			for w := int64(0); w < 2; w++ {
				for i := int64(0); i < 50; i++ {
					require.True(t, seen[w*1000003+i], "argument %d", w*1000003+i)
				}
			}
			var withArgs int
			for _, ev := range e.Events() {
				if ev.Kind == EventHit {
					require.True(t, strings.HasPrefix(ev.Args, "n="), ev.Args)
					withArgs++
				}
			}
			require.Equal(t, 100, withArgs)
		})
	}
	// $retval and a fetch through memory that faults.
	r := runReturns(t, fixtures.ArchAMD64, "retprobe", []string{"recurse", "5"}, 1, 1, false, XOL, "depth%return v=$retval:s64 bad=+0(\\0x10):u64")
	values := depthValues(5)
	require.Len(t, r.hits, 6)
	for i, h := range r.hits {
		require.Equal(t, []ArgValue{{Name: "v", Value: strconv.FormatInt(values[i], 10)}, {Name: "bad", Value: "(fault)"}}, h.Args)
	}
}
