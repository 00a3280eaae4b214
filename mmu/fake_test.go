package mmu

import (
	"fmt"
	"slices"
	"sort"
	"unsafe"
)

// fakeBackend stands in for an emulator engine: it keeps its own page map
// (permissions and the host memory each page points at), records every
// call, and refuses calls Unicorn would refuse (mapping over a mapping,
// unmapping or protecting unmapped pages, unaligned ranges). It also keeps
// the engine's regions the way Unicorn 2.0.1 does: one per MapHost, cut by
// Unmap, split at the ends of every Protect range (uc_mem_protect calls
// split_region), never joined again.
type fakeBackend struct {
	pages   map[uint64]fakePage
	regions []addrRange // sorted
	calls   []call
	// failMapAt makes the n-th MapHost call (1-based) fail.
	failMapAt int
	mapCalls  int
}

type fakePage struct {
	prot Prot
	host unsafe.Pointer
}

type call struct {
	Op         string // "map", "unmap", "protect", "invalidate", "revoke"
	Addr, Size uint64
	Prot       Prot
}

func newFake() *fakeBackend { return &fakeBackend{pages: map[uint64]fakePage{}} }

func checkRange(addr, size uint64) error {
	if addr&pageMask != 0 || size&pageMask != 0 || size == 0 {
		return fmt.Errorf("fake: bad range %#x+%#x", addr, size)
	}
	return nil
}

func (f *fakeBackend) MapHost(addr, size uint64, p Prot, host unsafe.Pointer) error {
	f.mapCalls++
	if f.failMapAt != 0 && f.mapCalls == f.failMapAt {
		return fmt.Errorf("fake: injected MapHost failure")
	}
	if err := checkRange(addr, size); err != nil {
		return err
	}
	if HardwareProt(p) != p {
		return fmt.Errorf("fake: prot %v is not a hardware protection", p)
	}
	for a := addr; a < addr+size; a += PageSize {
		if _, ok := f.pages[a]; ok {
			return fmt.Errorf("fake: page %#x already mapped", a)
		}
	}
	for a := addr; a < addr+size; a += PageSize {
		f.pages[a] = fakePage{prot: p, host: unsafe.Add(host, a-addr)}
	}
	i := sort.Search(len(f.regions), func(i int) bool { return f.regions[i].start > addr })
	f.regions = slices.Insert(f.regions, i, addrRange{addr, addr + size})
	f.calls = append(f.calls, call{"map", addr, size, p})
	return nil
}

func (f *fakeBackend) mustBeMapped(addr, size uint64) error {
	if err := checkRange(addr, size); err != nil {
		return err
	}
	for a := addr; a < addr+size; a += PageSize {
		if _, ok := f.pages[a]; !ok {
			return fmt.Errorf("fake: page %#x not mapped", a)
		}
	}
	return nil
}

func (f *fakeBackend) Unmap(addr, size uint64) error {
	if err := f.mustBeMapped(addr, size); err != nil {
		return err
	}
	for a := addr; a < addr+size; a += PageSize {
		delete(f.pages, a)
	}
	f.regions = cutRegions(f.regions, addr, addr+size, false)
	f.calls = append(f.calls, call{"unmap", addr, size, 0})
	return nil
}

func (f *fakeBackend) Protect(addr, size uint64, p Prot) error {
	if err := f.mustBeMapped(addr, size); err != nil {
		return err
	}
	if HardwareProt(p) != p {
		return fmt.Errorf("fake: prot %v is not a hardware protection", p)
	}
	for a := addr; a < addr+size; a += PageSize {
		pg := f.pages[a]
		pg.prot = p
		f.pages[a] = pg
	}
	f.regions = cutRegions(f.regions, addr, addr+size, true)
	f.calls = append(f.calls, call{"protect", addr, size, p})
	return nil
}

func (f *fakeBackend) InvalidateCode(addr, size uint64) {
	// Record whether the range was still mapped: invalidation must come
	// before the unmap (see the Backend contract).
	op := "invalidate"
	if f.mustBeMapped(pageAlignDown(addr), pageAlignUp(addr+size)-pageAlignDown(addr)) != nil {
		op = "invalidate-unmapped"
	}
	f.calls = append(f.calls, call{op, addr, size, 0})
}

func (f *fakeBackend) RevokeExec(addr, size uint64) {
	op := "revoke"
	if f.mustBeMapped(addr, size) != nil {
		op = "revoke-unmapped"
	}
	f.calls = append(f.calls, call{op, addr, size, 0})
}

// peek reads guest memory through the backend's own mapping, as an engine
// would.
func (f *fakeBackend) peek(addr uint64, n int) ([]byte, error) {
	out := make([]byte, n)
	for i := range out {
		a := addr + uint64(i)
		pg, ok := f.pages[pageAlignDown(a)]
		if !ok {
			return nil, fmt.Errorf("fake: %#x not mapped", a)
		}
		out[i] = *(*byte)(unsafe.Add(pg.host, a&pageMask))
	}
	return out, nil
}

// poke writes guest memory through the backend's mapping, as guest code
// running in an engine would.
func (f *fakeBackend) poke(addr uint64, data []byte) error {
	for i, b := range data {
		a := addr + uint64(i)
		pg, ok := f.pages[pageAlignDown(a)]
		if !ok {
			return fmt.Errorf("fake: %#x not mapped", a)
		}
		*(*byte)(unsafe.Add(pg.host, a&pageMask)) = b
	}
	return nil
}

// cutRegions splits the regions overlapping [lo,hi) at lo and hi, keeping
// the part inside when keep is set and dropping it otherwise.
func cutRegions(rs []addrRange, lo, hi uint64, keep bool) []addrRange {
	var out []addrRange
	for _, r := range rs {
		if r.end <= lo || r.start >= hi {
			out = append(out, r)
			continue
		}
		if r.start < lo {
			out = append(out, addrRange{r.start, lo})
		}
		if keep {
			out = append(out, addrRange{max(r.start, lo), min(r.end, hi)})
		}
		if hi < r.end {
			out = append(out, addrRange{hi, r.end})
		}
	}
	return out
}

// checkRegions verifies that the regions cover exactly the mapped pages.
func (f *fakeBackend) checkRegions() error {
	var n int
	for i, r := range f.regions {
		if r.start >= r.end || (i > 0 && f.regions[i-1].end > r.start) {
			return fmt.Errorf("fake: region %d [%#x,%#x) empty, overlapping or unsorted", i, r.start, r.end)
		}
		for a := r.start; a < r.end; a += PageSize {
			if _, ok := f.pages[a]; !ok {
				return fmt.Errorf("fake: region [%#x,%#x) holds unmapped page %#x", r.start, r.end, a)
			}
			n++
		}
	}
	if n != len(f.pages) {
		return fmt.Errorf("fake: regions hold %d pages, %d are mapped", n, len(f.pages))
	}
	return nil
}

// takeCalls returns the recorded calls and forgets them.
func (f *fakeBackend) takeCalls() []call {
	c := f.calls
	f.calls = nil
	return c
}

// invalidations returns the recorded invalidation calls.
func invalidations(calls []call) []call {
	var out []call
	for _, c := range calls {
		if c.Op == "invalidate" || c.Op == "invalidate-unmapped" {
			out = append(out, c)
		}
	}
	return out
}
