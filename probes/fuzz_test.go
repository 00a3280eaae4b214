package probes

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/emu/loader"
	"github.com/probesim/probesim/fixtures"
)

// FuzzResolve feeds arbitrary probe specs to Resolve against the threaded
// fixture of both architectures: it must never panic; an error is one line
// naming the spec; a resolved spec names the first byte of an instruction
// of an executable segment, whose bytes it copies, and resolving its own
// address gives it again.
func FuzzResolve(f *testing.F) {
	var images []*loader.Image
	for _, a := range arches {
		path, err := fixtures.Path(a.name, "threads")
		require.NoError(f, err)
		im, err := loader.Load(path)
		require.NoError(f, err)
		images = append(images, im)
		f.Add(fmt.Sprintf("0x%x", im.Entry), a.name == fixtures.ArchI386)
	}
	for _, s := range []string{"probed", "probed+6", "main+0x10", "probed+010", "", " ", "+", "probed+", "+1",
		"probed+99999999999999999999", "0x", "0X10", "0xffffffffffffffff", "probed+-1", "probed++1", "probed+0x",
		"memcpy", "_start+1", "probed\n", "main+1+2"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, text string, i386 bool) {
		im := images[0]
		if i386 {
			im = images[1]
		}
		s, err := Resolve(im, text)
		if err != nil {
			msg := err.Error()
			require.True(t, strings.HasPrefix(msg, fmt.Sprintf("probe %q: ", text)), "%q", msg)
			require.NotContains(t, msg, "\n", "one line")
			return
		}
		seg, ok := im.SegmentAt(s.Addr)
		require.True(t, ok && seg.Exec, "0x%x in an executable segment", s.Addr)
		require.Equal(t, s.Len, len(s.Bytes))
		require.True(t, s.Len >= 1 && s.Len <= maxInsnLen)
		off := s.Addr - seg.Vaddr
		require.Equal(t, seg.Data[off:off+uint64(s.Len)], s.Bytes)
		again, err := Resolve(im, fmt.Sprintf("0x%x", s.Addr))
		require.NoError(t, err)
		require.Equal(t, s.Addr, again.Addr)
		require.Equal(t, s.Bytes, again.Bytes)
	})
}
