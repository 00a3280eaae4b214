package mmu

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMapsTextI386Layout(t *testing.T) {
	as, _ := newSpace(t, Config{TaskSize: TaskSize32})
	require.NoError(t, as.MapFixed(0x8048000, 2*pg, rx, FileBacked|Private, "/bin/prog", 0))
	require.NoError(t, as.MapFixed(0x804a000, pg, rw, FileBacked|Private, "/bin/prog", 0x2000))
	require.NoError(t, as.MapFixed(0x804b000, 2*pg, rw, Anonymous|Private, "", 0))
	as.SetBrkBase(0x804d000)
	require.Equal(t, uint64(0x804e800), as.Brk(0x804e800))
	mustMmap(t, as, 0, pg, rw, MapAnonymous|MapShared)
	require.NoError(t, as.SetupStack(0xffffe000, 33*pg))

	want := "" +
		"08048000-0804a000 r-xp 00000000 00:00 0                                  /bin/prog\n" +
		"0804a000-0804b000 rw-p 00002000 00:00 0                                  /bin/prog\n" +
		"0804b000-0804d000 rw-p 00000000 00:00 0 \n" +
		"0804d000-0804f000 rw-p 00000000 00:00 0                                  [heap]\n" +
		"f7ffd000-f7ffe000 rw-s 00000000 00:00 0 \n" +
		"fffdd000-ffffe000 rw-p 00000000 00:00 0                                  [stack]\n"
	assert.Equal(t, want, as.MapsText())
	for _, l := range strings.Split(strings.TrimSuffix(want, "\n"), "\n") {
		if i := strings.IndexAny(l, "/["); i >= 0 {
			assert.Equal(t, 73, i, "names start at column 73 as on Linux: %q", l)
		}
	}
}

func TestMapsTextX8664(t *testing.T) {
	as, _ := newSpace(t, Config{})
	require.NoError(t, as.MapFixed(0x400000, pg, ro, FileBacked|Private, "/usr/bin/very/long/path/name", 0))
	mustMmap(t, as, 0, 3*pg, ProtNone, anonPriv)
	_, e := as.Mmap(0, pg, ProtWrite, anonPriv, "[anon:arena]")
	require.Zero(t, e)
	require.NoError(t, as.SetupStack(stackTop, 33*pg))
	assert.Equal(t, ""+
		"00400000-00401000 r--p 00000000 00:00 0                                  /usr/bin/very/long/path/name\n"+
		"7ffff7ffb000-7ffff7ffc000 -w-p 00000000 00:00 0                          [anon:arena]\n"+
		"7ffff7ffc000-7ffff7fff000 ---p 00000000 00:00 0 \n"+
		"7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]\n",
		as.MapsText())
	assert.Equal(t, "", mustNew(t, Config{}).MapsText())
}

func TestVMAsIsACopy(t *testing.T) {
	as, _ := newSpace(t, Config{})
	mustMmap(t, as, 0x400000, pg, rw, anonPriv|MapFixed)
	v := as.VMAs()
	v[0].Prot = 0
	got, ok := as.FindVMA(0x400fff)
	require.True(t, ok)
	assert.Equal(t, rw, got.Prot)
	_, ok = as.FindVMA(0x401000)
	assert.False(t, ok)
	assert.Equal(t, uint64(pg), got.Size())
	assert.True(t, got.Contains(0x400000))
	assert.False(t, got.Contains(0x401000))
}

func TestStrings(t *testing.T) {
	assert.Equal(t, "r-x", rx.String())
	assert.Equal(t, "---", ProtNone.String())
	assert.Equal(t, "-w-", ProtWrite.String())
	assert.Equal(t, "GrowsDown|Stack|Anonymous|Private", (GrowsDown | Stack | Anonymous | Private).String())
	assert.Equal(t, "Private|Accounted", (Private | Accounted).String())
	assert.Equal(t, "Shared|NoReserve", (Shared | NoReserve).String())
	assert.Equal(t, "Shared|0x400", (Shared | 0x400).String())
	assert.Equal(t, "0x0", Flags(0).String())
	assert.Equal(t, "mmu: write fault at 0x1000: not writable", (&FaultError{Addr: 0x1000, Write: true, Reason: "not writable"}).Error())
	assert.Equal(t, rw, HardwareProt(ProtWrite))
	assert.Equal(t, rx, HardwareProt(ProtExec))
	assert.Equal(t, ProtNone, HardwareProt(ProtNone))
	assert.Equal(t, rwx, HardwareProt(0xff))
}

func mustNew(t *testing.T, cfg Config) *AddressSpace {
	t.Helper()
	as, err := NewChecked(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = as.Close() })
	return as
}

// TestMapsTextListsTheVsyscallPageLast: a 64-bit task's maps end with the
// gate VMA, as Linux x86-64 prints it under vsyscall=xonly.
func TestMapsTextListsTheVsyscallPageLast(t *testing.T) {
	as := mustNew(t, Config{})
	mustMmap(t, as, 0x400000, pg, rw, anonPriv|MapFixed)
	as.SetVsyscallPage(true)
	assert.Equal(t, "00400000-00401000 rw-p 00000000 00:00 0 \n"+
		"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n", as.MapsText())
	as.SetVsyscallPage(false)
	assert.Equal(t, "00400000-00401000 rw-p 00000000 00:00 0 \n", as.MapsText())
}
