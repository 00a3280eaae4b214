package loader

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzParse feeds arbitrary bytes to Parse: it must never panic, every
// failure must be a one-line *Error of a kind Parse can produce, and every
// accepted Image must satisfy the invariants of doc.go and be usable by
// BuildStack, Lookup and SymbolAt.
func FuzzParse(f *testing.F) {
	for _, v := range []string{"tiny64", "tiny32", "musl"} {
		data := readProg(f, v)
		f.Add(data)
		for _, n := range []int{0, 3, 4, 16, 40, 52, 64, 100, 200, 0x1000, 0x1001, 0x2010} {
			if n < len(data) {
				f.Add(data[:n])
			}
		}
		pie := append([]byte(nil), data...)
		binary.LittleEndian.PutUint16(pie[16:], uint16(elf.ET_DYN))
		f.Add(pie)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		im, err := Parse("fuzz", data)
		if err != nil {
			var le *Error
			require.True(t, errors.As(err, &le), "%T: %v", err, err)
			require.Contains(t, []ErrKind{NotELF, Unsupported, Dynamic, Corrupt}, le.Kind)
			require.False(t, strings.ContainsAny(err.Error(), "\n\r"), "one line: %q", err.Error())
			require.Nil(t, im)
			return
		}
		checkInvariants(t, im)
		for _, s := range im.Segments {
			_, _, _ = im.SymbolAt(s.Vaddr)
		}
		syms, _ := im.Symbols()
		for _, s := range syms {
			got, ok := im.Lookup(s.Name)
			require.True(t, ok)
			require.Equal(t, s.Name, got.Name)
		}
		img, sp, _, err := BuildStack(NewStackSpec(im, []string{"fuzz"}, []string{"A=1"}))
		require.NoError(t, err)
		require.Zero(t, sp%16)
		require.Equal(t, im.Arch.StackTop()-sp, uint64(len(img)))
	})
}
