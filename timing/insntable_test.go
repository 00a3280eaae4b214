package timing

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/arch/x86/x86asm"
)

func TestSkylakeTableRows(t *testing.T) {
	require.Greater(t, len(skylakeRows), 1000)
	type key struct {
		op   x86asm.Op
		form string
	}
	seen := map[key]string{}
	for _, r := range skylakeRows {
		k := key{r.Op, r.Form}
		prev, dup := seen[k]
		assert.False(t, dup, "%v %q listed for %q and %q", r.Op, r.Form, prev, r.Asm)
		seen[k] = r.Asm
		assert.GreaterOrEqual(t, r.Cost.Uops, uint32(1), r.Asm)
		assert.NotEqual(t, uint32(100), r.Cost.Latency, "%s keeps llvm-mca's placeholder latency", r.Asm)
		for _, g := range r.Cost.Groups {
			assert.NotZero(t, g.Mask, r.Asm)
			assert.NotZero(t, g.UopsFP, r.Asm)
		}
	}
}

func TestSkylakeTableKnownRows(t *testing.T) {
	tbl := insnTables["skylake"]
	cases := []struct {
		op      x86asm.Op
		form    string
		uops    uint32
		latency uint32
		load    bool
		groups  []portGroup
	}{
		{x86asm.ADD, "r32,r32", 1, 1, false, []portGroup{{p0156, 256}}},
		{x86asm.ADD, "r32,m32", 2, 6, true, []portGroup{{p0156, 256}, {p23, 256}}},
		{x86asm.IMUL, "r32,r32", 1, 3, false, []portGroup{{p1, 256}}},
		{x86asm.JNE, "rel", 1, 1, false, []portGroup{{p06, 256}}},
		{x86asm.MOV, "r64,m64", 1, 5, true, []portGroup{{p23, 256}}},
		{x86asm.PXOR, "x,x", 1, 1, false, []portGroup{{p015, 256}}},
		{x86asm.DIVSD, "x,x", 1, 14, false, []portGroup{{p0, 256}}},
	}
	for _, c := range cases {
		r := tbl.exact(c.op, []byte(c.form))
		require.NotNil(t, r, "%v %s", c.op, c.form)
		assert.Equal(t, c.uops, r.Cost.Uops, r.Asm)
		assert.Equal(t, c.latency, r.Cost.Latency, r.Asm)
		assert.Equal(t, c.load, r.Cost.Load, r.Asm)
		assert.Equal(t, c.groups, r.Cost.Groups, r.Asm)
	}
}

func TestShapeFallback(t *testing.T) {
	assert.True(t, shapeEqual("r64", []byte("r32")))
	assert.True(t, shapeEqual("lock m32,r32", []byte("lock m64,r64")))
	assert.True(t, shapeEqual("", []byte("")))
	assert.False(t, shapeEqual("r32,m32", []byte("r32,r32")))
	assert.False(t, shapeEqual("r32", []byte("r32,i")))
	assert.False(t, shapeEqual("x,x", []byte("x")))

	got, ok := replaceMem(nil, []byte("x,m128,i"), "x")
	assert.True(t, ok)
	assert.Equal(t, "x,x,i", string(got))
	got, ok = replaceMem(nil, []byte("lock m32,r32"), "r")
	assert.True(t, ok)
	assert.Equal(t, "lock r,r32", string(got))
	_, ok = replaceMem(nil, []byte("mm,mm"), "r")
	assert.False(t, ok, "mm is an MMX register, not memory")
}
