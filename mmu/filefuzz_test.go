package mmu

import (
	"bytes"
	"fmt"
	"strings"
	"syscall"
	"testing"
)

// FuzzFileMappings drives private and shared mappings of one file through
// mmap, munmap, mprotect, CPU stores (write faults), host-side writes,
// write(2) into the page cache, msync and MADV_DONTNEED, on two backends,
// and checks after every step the invariants and every mapped page's
// bytes against a model: a file page's bytes are the cache's (the file
// plus the shared stores not yet written back); a private page reads the
// file page until its first write, then its own copy.
func FuzzFileMappings(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
	f.Add(bytes.Repeat([]byte{0x31, 0x07, 0x93, 0x44, 0xc2, 0x15, 0x68, 0xa9}, 40))
	f.Add(bytes.Repeat([]byte{0x00, 0x11, 0x25, 0x42, 0x83, 0x04, 0x55, 0x96, 0x27, 0x18}, 50))
	f.Fuzz(runFileOps)
}

const (
	ffPages  = 16         // the file's size in pages
	ffWindow = 0x10000000 // mappings go in [ffWindow, ffWindow+64 pages)
)

// fileModel is the expected content of the file and of each mapped page.
type fileModel struct {
	file []byte            // the cache's view of the file
	own  map[uint64][]byte // private pages written: their own bytes
}

func (m *fileModel) page(as *AddressSpace, a uint64) ([]byte, bool) {
	v, ok := as.FindVMA(a)
	if !ok {
		return nil, false
	}
	if b, ok := m.own[a]; ok {
		return b, true
	}
	off := v.Offset + a - v.Start
	return m.file[off : off+PageSize], true
}

func runFileOps(t *testing.T, data []byte) {
	r := &byteReader{b: data}
	as, err := NewChecked(Config{TaskSize: TaskSize64})
	if err != nil {
		t.Fatal(err)
	}
	defer as.Close()
	fbs := []*fakeBackend{newFake(), newFake()}
	for _, fb := range fbs {
		fb.as = as
		if err := as.Attach(fb); err != nil {
			t.Fatal(err)
		}
	}
	file := &rwFile{memFile: memFile{data: pattern(ffPages * PageSize)}}
	m := &fileModel{file: bytes.Clone(file.data), own: map[uint64][]byte{}}
	pageAt := func() uint64 { return ffWindow + uint64(r.u8()%64)*PageSize }
	// A forked child (op 9) lives until the next fork: its own model of
	// privately written pages starts as the parent's at the fork.
	var child *AddressSpace
	var childFB *fakeBackend
	childOwn := map[uint64][]byte{}
	defer func() {
		if child != nil {
			child.Close()
		}
		delete(physSharers, as.phys)
	}()
	var log []string
	for step := 0; len(r.b) > 0 && step < 300; step++ {
		var desc string
		switch op := r.u8() % 11; op {
		case 0: // mmap the file, fixed
			addr, pages, idx := pageAt(), uint64(r.u8()%8+1), uint64(r.u8()%ffPages)
			pages = min(pages, ffPages-idx)
			sel := r.u8()
			flags := uint32(MapPrivate | MapFixed)
			if sel&1 != 0 {
				flags = MapShared | MapFixed
			}
			p := Prot(sel>>1) & ProtAll
			_, e := as.MmapFile(addr, pages*PageSize, p, flags, file, idx*PageSize, "/f", true)
			desc = fmt.Sprintf("mmapfile(%#x, %d pages, %v, %#x, page %d) = %v", addr, pages, p, flags, idx, e)
			for a := addr; e == 0 && a < addr+pages*PageSize; a += PageSize {
				delete(m.own, a)
			}
		case 1:
			addr, pages := pageAt(), uint64(r.u8()%8+1)
			desc = fmt.Sprintf("munmap(%#x, %d pages) = %v", addr, pages, as.Munmap(addr, pages*PageSize))
			for a := addr; a < addr+pages*PageSize; a += PageSize {
				delete(m.own, a)
			}
		case 2:
			addr, pages, p := pageAt(), uint64(r.u8()%8+1), Prot(r.u8())&ProtAll
			desc = fmt.Sprintf("mprotect(%#x, %d pages, %v) = %v", addr, pages, p, as.Mprotect(addr, pages*PageSize, p))
		case 3, 4: // a CPU store through one backend, or a host-side write
			a := pageAt() + uint64(r.u16()%PageSize)
			b := []byte{r.u8() | 1}
			var err error
			if op == 3 {
				err = fbs[r.u8()%2].store(a, b)
			} else {
				err = as.Write(a, b)
			}
			desc = fmt.Sprintf("store%d(%#x) = %v", op, a, err)
			if err == nil {
				page := pageAlignDown(a)
				v, _ := as.FindVMA(page)
				if v.Flags&Private != 0 {
					if _, ok := m.own[page]; !ok {
						got, _ := m.page(as, page)
						m.own[page] = bytes.Clone(got)
					}
					m.own[page][a-page] = b[0]
				} else {
					m.file[v.Offset+a-v.Start] = b[0]
				}
			}
		case 5: // write(2): the file, then the cache
			off, b := int64(r.u16())%int64(ffPages*PageSize-8), bytes.Repeat([]byte{r.u8()}, 8)
			copy(file.data[off:], b)
			changed := as.PageCache().WriteAt(file, b, off)
			as.FileChanged(file, changed)
			copy(m.file[off:], b)
			desc = fmt.Sprintf("write(2) at %#x", off)
		case 6:
			addr, pages := pageAt(), uint64(r.u8()%8+1)
			desc = fmt.Sprintf("msync(%#x, %d pages) = %v", addr, pages, as.Msync(addr, pages*PageSize, 4))
		case 7:
			addr, pages := pageAt(), uint64(r.u8()%8+1)
			desc = fmt.Sprintf("dontneed(%#x, %d pages) = %v", addr, pages, as.Madvise(addr, pages*PageSize, MadvDontNeed))
			for a := addr; a < addr+pages*PageSize; a += PageSize {
				if v, ok := as.FindVMA(a); ok && v.Flags&Private != 0 {
					delete(m.own, a)
				}
			}
		case 8: // a read through a backend
			a := pageAt()
			_, err := fbs[r.u8()%2].touch(a, false)
			desc = fmt.Sprintf("touch(%#x) = %v", a, err)
		case 9: // fork: the child shares every page copy-on-write
			if child != nil {
				child.Close()
			}
			var e syscall.Errno
			child, e = as.Fork()
			if e != 0 {
				t.Fatalf("step %d: fork: %v", step, e)
			}
			childFB = newFake()
			childFB.as = child
			if err := child.Attach(childFB); err != nil {
				t.Fatal(err)
			}
			physSharers[as.phys] = []*AddressSpace{child}
			childOwn = map[uint64][]byte{}
			for a, b := range m.own {
				childOwn[a] = bytes.Clone(b)
			}
			desc = "fork"
		case 10: // a store in the child, through its backend or the host
			if child == nil {
				continue
			}
			a := pageAt() + uint64(r.u16()%PageSize)
			b := []byte{r.u8() | 1}
			var err error
			if r.u8()&1 == 0 {
				err = childFB.store(a, b)
			} else {
				err = child.Write(a, b)
			}
			desc = fmt.Sprintf("child store(%#x) = %v", a, err)
			if err == nil {
				page := pageAlignDown(a)
				v, _ := child.FindVMA(page)
				if v.Flags&Private != 0 {
					if _, ok := childOwn[page]; !ok {
						cm := &fileModel{file: m.file, own: childOwn}
						got, _ := cm.page(child, page)
						childOwn[page] = bytes.Clone(got)
					}
					childOwn[page][a-page] = b[0]
				} else {
					m.file[v.Offset+a-v.Start] = b[0]
				}
			}
		}
		if child != nil {
			if err := checkInvariants(child, childFB); err != nil {
				t.Fatalf("step %d %s: the child: %v", step, desc, err)
			}
			cm := &fileModel{file: m.file, own: childOwn}
			for _, v := range child.VMAs() {
				for a := v.Start; a < v.End; a += PageSize {
					want, _ := cm.page(child, a)
					got := make([]byte, PageSize)
					if err := child.ReadForce(a, got); err != nil {
						t.Fatalf("step %d %s: child read %#x: %v", step, desc, a, err)
					}
					if !bytes.Equal(got, want) {
						t.Fatalf("step %d %s: the child's page %#x differs from its model; ops:\n%s", step, desc, a, strings.Join(log, "\n"))
					}
				}
			}
		}
		log = append(log, desc)
		if err := checkInvariants(as, fbs...); err != nil {
			t.Fatalf("step %d %s: %v", step, desc, err)
		}
		for _, v := range as.VMAs() {
			for a := v.Start; a < v.End; a += PageSize {
				want, _ := m.page(as, a)
				got := make([]byte, PageSize)
				if err := as.ReadForce(a, got); err != nil {
					t.Fatalf("step %d %s: read %#x: %v", step, desc, a, err)
				}
				if !bytes.Equal(got, want) {
					i := 0
					for got[i] == want[i] {
						i++
					}
					t.Fatalf("step %d %s: page %#x differs from the model at %#x (%#x, want %#x); ops:\n%s",
						step, desc, a, i, got[i], want[i], strings.Join(log, "\n"))
				}
				if pg, ok := fbs[0].pages[a]; ok {
					h, _ := fbs[0].peek(a, 8)
					if !bytes.Equal(h, want[:8]) {
						t.Fatalf("step %d %s: backend 0 sees other bytes at %#x (phys %#x)", step, desc, a, pg.phys)
					}
				}
			}
		}
		cached := bytes.Clone(file.data)
		as.PageCache().ReadAt(file, cached, 0)
		if !bytes.Equal(cached, m.file) {
			t.Fatalf("step %d %s: the file through the cache differs from the model", step, desc)
		}
	}
	if child != nil {
		// The child exits first: its pages go, its shared stores are
		// written back with its mappings' last unmap or the parent's.
		if err := child.Close(); err != nil {
			t.Fatal(err)
		}
		child = nil
	}
	for _, v := range as.VMAs() {
		if err := as.Munmap(v.Start, v.Size()); err != 0 {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(file.data, m.file) {
		i := 0
		for file.data[i] == m.file[i] {
			i++
		}
		t.Fatalf("after the last unmap the file lacks the shared stores: first at %#x; ops:\n%s", i, strings.Join(log, "\n"))
	}
	if n := as.PageCache().Stats().Pages; n != 0 || as.Phys().UsedPages() != 0 {
		t.Fatalf("%d pages cached, %d in use after every unmap", n, as.Phys().UsedPages())
	}
}
