package mmu

import (
	"bytes"
	"fmt"
	"testing"
	"unsafe"
)

// The fuzz address space is small so that per-page checks stay cheap: 64 MiB
// of user space, a 64-page stack limit and a 16-page guard gap.
var fuzzCfg = Config{
	TaskSize:   0x4000000,
	MmapBase:   0x3000000,
	StackLimit: 64 * PageSize,
	GuardGap:   16 * PageSize,
}

const (
	fuzzWindow   = 0x2f00000 // most fixed operations land in [fuzzWindow, MmapBase)
	fuzzPages    = 256
	fuzzStackTop = 0x3ff0000
	fuzzBrk      = 0x2e00000
)

// byteReader hands out the fuzz input, zeros once it runs out.
type byteReader struct{ b []byte }

func (r *byteReader) u8() byte {
	if len(r.b) == 0 {
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *byteReader) u16() uint16 { return uint16(r.u8()) | uint16(r.u8())<<8 }

// page picks a page address: mostly in the fuzz window (where placed
// mappings go too), sometimes around the heap or the stack.
func (r *byteReader) page() uint64 {
	v := uint64(r.u16())
	switch v & 7 {
	case 6:
		return fuzzBrk + (v>>3)%80*PageSize
	case 7:
		return fuzzStackTop - (v>>3)%96*PageSize
	}
	return fuzzWindow + (v>>3)%fuzzPages*PageSize
}

// length picks a length of up to 32 pages, sometimes unaligned.
func (r *byteReader) length() uint64 {
	n := uint64(r.u8()%32+1) * PageSize
	if v := r.u8(); v&7 == 0 {
		n -= uint64(v>>3) + 1
	}
	return n
}

// translatingFake is a fakeBackend that also models an engine's
// translated code and TLB, as emu/uc keeps them: "executing" a page
// snapshots its code (kept by physical page) and leaves an execute
// permission in the TLB. InvalidateCode drops the snapshots of pages whose
// translation is held (Unicorn finds code through them). The TLB is
// flushed when a held translation goes (Unmap) or loses read or write
// (Protect); losing only execute permission must be preceded by RevokeExec,
// which fences the page: executing a fenced page flushes the TLB, as the
// engine does when its block hook meets a fenced block. A snapshot is stale
// if its page is not translated, translates elsewhere, holds other bytes,
// or lost execute permission while the TLB may still grant it unfenced.
type translatingFake struct {
	*fakeBackend
	translated map[uint64]translation
	fenced     map[uint64]bool
}

type translation struct {
	phys    uint64
	code    []byte
	tlbExec bool // the TLB may still grant execution
}

func (f *translatingFake) flush() {
	for page, tr := range f.translated {
		tr.tlbExec = false
		f.translated[page] = tr
	}
	clear(f.fenced)
}

func (f *translatingFake) RevokeExec(addr, size uint64) {
	f.fakeBackend.RevokeExec(addr, size)
	for page := pageAlignDown(addr); page < addr+size; page += PageSize {
		f.fenced[page] = true
	}
}

func (f *translatingFake) Unmap(addr, size uint64) error {
	held := len(f.heldIn(addr, size)) > 0
	if err := f.fakeBackend.Unmap(addr, size); err != nil {
		return err
	}
	if held {
		f.flush()
	}
	return nil
}

func (f *translatingFake) Protect(addr, size uint64, p Prot) error {
	var removed Prot
	for _, a := range f.heldIn(addr, size) {
		removed |= f.pages[a].prot &^ p
	}
	if err := f.fakeBackend.Protect(addr, size, p); err != nil {
		return err
	}
	switch {
	case removed&^ProtExec != 0:
		f.flush()
	case removed&ProtExec != 0:
		for a := addr; a < addr+size; a += PageSize {
			if _, ok := f.pages[a]; ok && !f.fenced[a] {
				return fmt.Errorf("fake: exec removed from %#x without RevokeExec", a)
			}
		}
	}
	if p&ProtExec != 0 {
		for a := addr; a < addr+size; a += PageSize {
			delete(f.fenced, a)
		}
	}
	return nil
}

func newTranslatingFake(as *AddressSpace) *translatingFake {
	fb := newFake()
	fb.as = as
	return &translatingFake{fakeBackend: fb, translated: map[uint64]translation{}, fenced: map[uint64]bool{}}
}

func (f *translatingFake) InvalidateCode(addr, size uint64) {
	f.fakeBackend.InvalidateCode(addr, size)
	for page := pageAlignDown(addr); page < addr+size; page += PageSize {
		if _, held := f.pages[page]; held {
			delete(f.translated, page)
		}
	}
}

func (f *translatingFake) code(pg fakePage) []byte {
	h, err := f.host(pg.phys)
	if err != nil {
		return nil
	}
	return unsafe.Slice((*byte)(h), PageSize)
}

func (f *translatingFake) execute(addr uint64) {
	page := pageAlignDown(addr)
	pg, err := f.touch(page, false)
	if err != nil {
		return // the engine would fault
	}
	if pg.prot&ProtExec == 0 {
		if tr, ok := f.translated[page]; ok && tr.tlbExec && f.fenced[page] {
			f.flush() // the block hook met the fence
		}
		return // the engine would fault
	}
	f.translated[page] = translation{phys: pg.phys, code: bytes.Clone(f.code(pg)), tlbExec: true}
}

func (f *translatingFake) checkTranslations() error {
	for page, tr := range f.translated {
		pg, ok := f.pages[page]
		switch {
		case !ok:
			return fmt.Errorf("stale translation of untranslated page %#x", page)
		case pg.phys != tr.phys:
			return fmt.Errorf("stale translation of remapped page %#x", page)
		case pg.prot&ProtExec == 0 && tr.tlbExec && !f.fenced[page]:
			return fmt.Errorf("runnable translation of non-executable page %#x", page)
		case !bytes.Equal(f.code(pg), tr.code):
			return fmt.Errorf("stale translation of modified page %#x", page)
		}
	}
	return nil
}

// runOps applies the operations encoded in data and checks the invariants
// after each one.
func runOps(t testing.TB, data []byte) {
	r := &byteReader{b: data}
	cfg := fuzzCfg
	if r.u8()&1 == 1 {
		cfg.MaxMemory = 256 * PageSize
	}
	as, err := NewChecked(cfg)
	if err != nil {
		t.Fatal(err)
	}
	fakes := []*translatingFake{newTranslatingFake(as)}
	if err := as.Attach(fakes[0]); err != nil {
		t.Fatal(err)
	}
	as.SetBrkBase(fuzzBrk)
	if err := as.SetupStack(fuzzStackTop, 4*PageSize); err != nil {
		t.Fatal(err)
	}
	protOf := func(b byte) Prot { return Prot(b) & ProtAll }
	sh := newShadow()
	sh.sync(as.VMAs())
	for step := 0; len(r.b) > 0 && step < 200; step++ {
		op := r.u8() % 13
		var desc string
		before := as.VMAs()
		var touched []addrRange // ranges whose contents to compare after the op
		switch op {
		case 0, 1: // mmap, fixed or placed
			flags := uint32(MapAnonymous)
			sel := r.u8()
			if sel&1 == 0 {
				flags |= MapPrivate
			} else {
				flags |= MapShared
			}
			switch sel >> 1 & 3 {
			case 1:
				flags |= MapFixed
			case 2:
				flags |= MapFixedNoReplace
			}
			if sel&0x10 != 0 && flags&MapShared == 0 {
				flags |= MapGrowsDown
			}
			name := ""
			if sel&0x20 != 0 {
				name = "[anon:x]"
			}
			if sel&0x40 != 0 {
				flags |= MapNoReserve
			}
			addr := uint64(0)
			if op == 1 || flags&(MapFixed|MapFixedNoReplace) != 0 {
				addr = r.page()
			}
			n, p := r.length(), protOf(r.u8())
			got, e := as.Mmap(addr, n, p, flags, name)
			desc = fmt.Sprintf("mmap(%#x, %#x, %v, %#x, %q) = %#x, %v", addr, n, p, flags, name, got, e)
			if e == 0 {
				sh.zero(got, got+pageAlignUp(n))
				touched = append(touched, addrRange{got, got + pageAlignUp(n)})
			}
		case 2:
			addr, n := r.page(), r.length()
			desc = fmt.Sprintf("munmap(%#x, %#x) = %v", addr, n, as.Munmap(addr, n))
		case 3:
			addr, n, p := r.page(), r.length(), protOf(r.u8())
			desc = fmt.Sprintf("mprotect(%#x, %#x, %v) = %v", addr, n, p, as.Mprotect(addr, n, p))
		case 4:
			nb := fuzzBrk + uint64(r.u16())*4 // up to 64 pages
			desc = fmt.Sprintf("brk(%#x) = %#x", nb, as.Brk(nb))
		case 5:
			addr := fuzzStackTop - uint64(r.u8())*PageSize - uint64(r.u8())
			desc = fmt.Sprintf("growstack(%#x) = %v", addr, as.GrowStack(addr))
		case 6:
			addr := r.page() + uint64(r.u16()%PageSize)
			buf := bytes.Repeat([]byte{r.u8() | 1}, int(r.u8())+1)
			var err error
			if r.u8()&1 == 0 {
				err = as.Write(addr, buf)
			} else {
				err = as.WriteForce(addr, buf)
			}
			desc = fmt.Sprintf("write(%#x, %d bytes) = %v", addr, len(buf), err)
			if err == nil {
				sh.write(addr, buf)
			}
			touched = append(touched, addrRange{pageAlignDown(addr), pageAlignUp(addr + uint64(len(buf)))})
		case 7:
			addr, p := r.page(), protOf(r.u8())
			desc = fmt.Sprintf("setpageprot(%#x, %v) = %v", addr, p, as.SetPageProt(addr, p))
		case 8:
			advices := []int{MadvDontNeed, MadvFree, MadvRemove, MadvWillNeed, 5}
			addr, n, adv := r.page(), r.length(), advices[int(r.u8())%len(advices)]
			desc = fmt.Sprintf("madvise(%#x, %#x, %d) = %v", addr, n, adv, as.Madvise(addr, n, adv))
			sh.madvise(before, addr, addr+pageAlignUp(n), adv)
			touched = append(touched, addrRange{addr, addr + pageAlignUp(n)})
		case 9:
			addr, n, p := r.page(), r.length(), protOf(r.u8())
			off := uint64(r.u8()%8) * PageSize
			err := as.MapFixed(addr, n, p, FileBacked|Private, "/f", off)
			desc = fmt.Sprintf("mapfixed(%#x, %#x, %v, file@%#x) = %v", addr, n, p, off, err)
			if err == nil {
				sh.zero(addr, addr+pageAlignUp(n))
				touched = append(touched, addrRange{addr, addr + pageAlignUp(n)})
			}
		case 10:
			addr := r.page() + uint64(r.u16()%PageSize)
			for _, f := range fakes {
				f.execute(addr)
			}
			desc = fmt.Sprintf("execute(%#x)", addr)
		case 11:
			if len(fakes) < 3 {
				f := newTranslatingFake(as)
				err := as.Attach(f)
				if err == nil {
					fakes = append(fakes, f)
				}
				desc = fmt.Sprintf("attach = %v", err)
			}
		case 12:
			vs := as.VMAs()
			if len(vs) > 0 {
				v := vs[int(r.u8())%len(vs)]
				pages := int(r.u8() % 8)
				desc = fmt.Sprintf("expanddown(%#x, %d) = %v", v.Start, pages, as.ExpandDown(v, pages))
			}
		}
		plain := make([]*fakeBackend, len(fakes))
		for i, f := range fakes {
			plain[i] = f.fakeBackend
		}
		if err := checkInvariants(as, plain...); err != nil {
			t.Fatalf("step %d %s: %v", step, desc, err)
		}
		for i, f := range fakes {
			if err := f.checkTranslations(); err != nil {
				t.Fatalf("step %d %s: backend %d: %v", step, desc, i, err)
			}
		}
		if err := as.Err(); err != nil {
			t.Fatalf("step %d %s: backend failure: %v", step, desc, err)
		}
		touched = append(touched, sh.sync(as.VMAs())...)
		if step%32 == 31 {
			touched = []addrRange{{0, cfg.TaskSize}}
		}
		if err := sh.compare(as, touched); err != nil {
			t.Fatalf("step %d %s: %v", step, desc, err)
		}
	}
	if err := as.Close(); err != nil {
		t.Fatal(err)
	}
	for i, f := range fakes {
		if len(f.pages) != 0 || len(f.translated) != 0 {
			t.Fatalf("backend %d keeps %d pages and %d translations after Close", i, len(f.pages), len(f.translated))
		}
	}
	if st := as.Stats(); st.Frames != 0 || st.Arenas != 0 || st.ResidentPages != 0 || st.MappedBytes != 0 {
		t.Fatalf("host memory left after Close: %+v", st)
	}
}

// shadow is an independent model of guest memory contents: page address
// to bytes, for the pages the model believes mapped.
type shadow struct{ pages map[uint64][]byte }

func newShadow() *shadow { return &shadow{pages: map[uint64][]byte{}} }

func (s *shadow) zero(start, end uint64) {
	for p := start; p < end; p += PageSize {
		s.pages[p] = make([]byte, PageSize)
	}
}

func (s *shadow) write(addr uint64, data []byte) {
	for i, b := range data {
		a := addr + uint64(i)
		p, ok := s.pages[pageAlignDown(a)]
		if !ok { // a stack page the write itself grew: fresh zeros
			p = make([]byte, PageSize)
			s.pages[pageAlignDown(a)] = p
		}
		p[a&pageMask] = b
	}
}

// madvise applies the content effect of an advice given the VMAs before
// the call: DONTNEED zeroes private anonymous memory, REMOVE zeroes shared
// anonymous memory up to the first VMA it refuses.
func (s *shadow) madvise(vmas []VMA, start, end uint64, adv int) {
	if start&pageMask != 0 || end <= start {
		return
	}
	for _, v := range vmas {
		lo, hi := max(v.Start, start), min(v.End, end)
		if lo >= hi {
			continue
		}
		privAnon := v.Flags&(Anonymous|Private) == Anonymous|Private
		sharedAnon := v.Flags&(Anonymous|Shared) == Anonymous|Shared
		switch {
		case adv == MadvDontNeed && privAnon:
			s.zero(lo, hi)
		case adv == MadvRemove && !sharedAnon:
			return
		case adv == MadvRemove:
			s.zero(lo, hi)
		}
	}
}

// sync forgets pages no longer mapped and adds newly mapped ones (stack
// growth, brk) as zeros, returning the new ranges.
func (s *shadow) sync(vmas []VMA) []addrRange {
	mapped := map[uint64]bool{}
	var fresh []addrRange
	for _, v := range vmas {
		for p := v.Start; p < v.End; p += PageSize {
			mapped[p] = true
			if _, ok := s.pages[p]; !ok {
				s.pages[p] = make([]byte, PageSize)
				fresh = append(fresh, addrRange{p, p + PageSize})
			}
		}
	}
	for p := range s.pages {
		if !mapped[p] {
			delete(s.pages, p)
		}
	}
	return fresh
}

// compare checks the mapped pages of ranges against the model.
func (s *shadow) compare(as *AddressSpace, ranges []addrRange) error {
	buf := make([]byte, PageSize)
	for _, r := range ranges {
		for p := pageAlignDown(r.start); p < r.end; p += PageSize {
			want, ok := s.pages[p]
			if !ok {
				continue
			}
			if err := as.ReadForce(p, buf); err != nil {
				return fmt.Errorf("page %#x in the model but not readable: %v", p, err)
			}
			if !bytes.Equal(buf, want) {
				return fmt.Errorf("page %#x contents differ from the model", p)
			}
		}
	}
	return nil
}

func FuzzOps(f *testing.F) {
	seeds := [][]byte{
		{0},
		// fixed rwx mapping, execute it, write into it, mprotect away exec
		{0, 1, 2, 0, 0, 3, 0, 7, 10, 0, 0, 0x10, 0, 6, 0, 0, 0x10, 0, 4, 0, 0, 3, 0, 0, 2, 0, 1},
		// brk up and down, stack growth, placed mmaps
		{1, 4, 0, 0x40, 4, 0, 0x10, 5, 8, 0, 5, 70, 0, 0, 0, 5, 3, 0, 0, 2, 3, 0, 0, 8, 0, 0, 4, 0, 0},
		// file mappings with offsets, merge and split
		{0, 9, 0, 0, 3, 5, 0, 9, 3, 0, 3, 5, 3, 3, 1, 0, 1, 0, 1, 3, 1, 0, 1, 0, 5, 2, 2, 0, 1, 0},
		// page overrides and attach replay
		{0, 1, 2, 0, 0, 4, 0, 3, 7, 0, 0, 7, 10, 0, 0, 0, 0, 11, 7, 0, 0, 3, 2, 0, 0, 4, 0},
		// madvise on executable memory after translating it
		{0, 1, 2, 0, 0, 4, 0, 7, 10, 0, 0, 0, 0, 8, 0, 0, 1, 0, 0, 12, 0, 3},
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		runOps(t, data)
	})
}

// TestOpsSequences runs fixed pseudo-random operation sequences through the
// fuzz body, so the invariants get a workout in every plain test run.
func TestOpsSequences(t *testing.T) {
	state := uint64(0x9e3779b97f4a7c15)
	for i := 0; i < 60; i++ {
		data := make([]byte, 600)
		for j := range data {
			state ^= state << 13
			state ^= state >> 7
			state ^= state << 17
			data[j] = byte(state)
		}
		runOps(t, data)
	}
}
