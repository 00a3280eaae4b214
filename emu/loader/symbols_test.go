package loader

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A hand-built Image (no index from Parse) exercises the name preference
// and the containment rules of SymbolAt.
func TestLookupAndSymbolAtRules(t *testing.T) {
	syms := []Symbol{
		{Name: "helper", Value: 0x1000, Size: 0x10, Func: true},                // local, file a.c
		{Name: "big_table", Value: 0x1800, Size: 0x1000},                       // data containing 0x2000..
		{Name: "alias_b", Value: 0x2000, Size: 0x20, Func: true, Global: true}, // two names, one address
		{Name: "alias_a", Value: 0x2000, Size: 0x20, Func: true, Global: true},
		{Name: "label", Value: 0x2000},                                        // NOTYPE, no size
		{Name: "helper", Value: 0x3000, Size: 0x10, Func: true, Global: true}, // the global one
		{Name: "helper", Value: 0x4000, Size: 0x10, Func: true},               // another local
		{Name: "end_marker", Value: 0x5000},
	}
	slices.SortFunc(syms, compareSymbols)
	for _, im := range []*Image{withSymbols(syms)} {
		s, ok := im.Lookup("helper")
		require.True(t, ok)
		assert.Equal(t, uint64(0x3000), s.Value, "global wins over locals")

		s, off, ok := im.SymbolAt(0x2004)
		require.True(t, ok)
		assert.Equal(t, "alias_a", s.Name, "function, then first name, among same-address candidates")
		assert.Equal(t, uint64(4), off)

		s, off, ok = im.SymbolAt(0x2000)
		require.True(t, ok)
		assert.Equal(t, "alias_a", s.Name)
		assert.Zero(t, off)

		// Past the aliases but still inside the big table that starts earlier.
		s, off, ok = im.SymbolAt(0x2100)
		require.True(t, ok)
		assert.Equal(t, "big_table", s.Name)
		assert.Equal(t, uint64(0x900), off)

		// Exactly at a sizeless symbol, and just after it.
		s, _, ok = im.SymbolAt(0x5000)
		require.True(t, ok)
		assert.Equal(t, "end_marker", s.Name)
		_, _, ok = im.SymbolAt(0x5001)
		assert.False(t, ok)

		// Gaps and below the first symbol.
		_, _, ok = im.SymbolAt(0x1010)
		assert.False(t, ok)
		_, _, ok = im.SymbolAt(0x10)
		assert.False(t, ok)
	}
	assert.Equal(t, "helper@0x3000+0x10", Symbol{Name: "helper", Value: 0x3000, Size: 0x10}.String())
}

func TestSymbolsDeduplicatedAndSorted(t *testing.T) {
	im, err := Load(buildProg(t, "x64"))
	require.NoError(t, err)
	defer im.Close()
	syms, err := im.Symbols()
	require.NoError(t, err)
	require.NotEmpty(t, syms)
	assert.True(t, slices.IsSortedFunc(syms, compareSymbols))
	for i := 1; i < len(syms); i++ {
		assert.NotEqual(t, syms[i-1], syms[i])
	}
	// The IFUNC memcpy of static glibc counts as a function.
	s, ok := im.Lookup("memcpy")
	require.True(t, ok)
	assert.True(t, s.Func)
}

// withSymbols is a hand-built Image whose symbol table is syms, already read.
func withSymbols(syms []Symbol) *Image {
	t := &symbolTable{syms: syms, ix: newSymbolIndex(syms)}
	t.once.Do(func() {})
	return &Image{symtab: t}
}
