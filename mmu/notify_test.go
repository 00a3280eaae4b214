package mmu

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// idFile is a memFile with an identity.
type idFile struct{ memFile }

func (f *idFile) FileID() FileID { return FileID{Dev: 8, Ino: 42} }

// recordingObserver writes what it is told, and writes an int3 at the
// start of every mapping, as the probe engine does (a call back into the
// address space, which must not deadlock).
type recordingObserver struct {
	as  *AddressSpace
	log []string
}

func (o *recordingObserver) FileMapped(v VMA) {
	o.log = append(o.log, fmt.Sprintf("map %#x-%#x off %#x %s %d", v.Start, v.End, v.Offset, v.Name, v.ID.Ino))
	if err := o.as.WriteForce(v.Start, []byte{0xcc}); err != nil {
		o.log = append(o.log, err.Error())
	}
}

func (o *recordingObserver) FileUnmapped(v VMA) {
	o.log = append(o.log, fmt.Sprintf("unmap %#x-%#x off %#x %s", v.Start, v.End, v.Offset, v.Name))
}

// TestFileMapObserver: a file mapping is told once as mmap made it, an
// munmap in its middle tells the part that went with its file offset, a
// MAP_FIXED mapping over it tells the unmapping first, anonymous memory
// tells nothing, and the observer can write into the mapping it is told of.
func TestFileMapObserver(t *testing.T) {
	as, _ := newSpace(t, Config{TaskSize: TaskSize64})
	o := &recordingObserver{as: as}
	as.SetFileMapObserver(o)
	f := &idFile{memFile{data: make([]byte, 8*pg)}}
	addr, e := as.MmapFile(0, 4*pg, rx, MapPrivate, f, pg, "/lib/f", false)
	_, e2 := as.MmapFile(0, pg, rx, MapPrivate, &memFile{data: make([]byte, pg)}, 0, "/nameless", false)
	require.Zero(t, e2, "a file without an identity is not told")
	require.Zero(t, e)
	b := make([]byte, 1)
	require.NoError(t, as.ReadForce(addr, b))
	assert.Equal(t, byte(0xcc), b[0], "the observer's write is in the mapping")

	require.Zero(t, as.Munmap(addr+pg, pg))
	_, e = as.Mmap(addr+2*pg, pg, rw, MapPrivate|MapAnonymous|MapFixed, "")
	require.Zero(t, e)
	_, e = as.Mmap(0, pg, rw, MapPrivate|MapAnonymous, "")
	require.Zero(t, e)
	assert.Equal(t, []string{
		fmt.Sprintf("map %#x-%#x off %#x /lib/f 42", addr, addr+4*pg, pg),
		fmt.Sprintf("unmap %#x-%#x off %#x /lib/f", addr+pg, addr+2*pg, 2*pg),
		fmt.Sprintf("unmap %#x-%#x off %#x /lib/f", addr+2*pg, addr+3*pg, 3*pg),
	}, o.log)

	as.SetFileMapObserver(nil)
	require.Zero(t, as.Munmap(addr, 4*pg))
	assert.Len(t, o.log, 3, "nothing after the observer is removed")
}
