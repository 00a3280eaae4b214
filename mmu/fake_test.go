package mmu

import (
	"fmt"
	"unsafe"
)

// fakeBackend stands in for an emulator engine with a virtual TLB: it holds
// the physical memory given to it (MapPhys) and a cache of translations,
// which it fills by calling Translate on an access (touch), as Unicorn's
// TLB fill does; it records every call, and refuses what the contract rules
// out (unaligned or empty ranges, non-hardware protections).
type fakeBackend struct {
	as    *AddressSpace // the space it translates through (set by the test)
	phys  []fakePhys
	pages map[uint64]fakePage // translations held, by page
	calls []call
	// failPhysAt makes the n-th MapPhys call (1-based) fail.
	failPhysAt int
	physCalls  int
}

type fakePhys struct {
	paddr, size uint64
	host        unsafe.Pointer
}

type fakePage struct {
	prot Prot
	phys uint64
}

type call struct {
	Op         string // "unmap", "protect", "invalidate", "revoke"
	Addr, Size uint64
	Prot       Prot
}

func newFake() *fakeBackend { return &fakeBackend{pages: map[uint64]fakePage{}} }

// attachFake attaches a new fake to as.
func attachFake(as *AddressSpace) (*fakeBackend, error) {
	f := newFake()
	f.as = as
	return f, as.Attach(f)
}

func checkRange(addr, size uint64) error {
	if addr&pageMask != 0 || size&pageMask != 0 || size == 0 {
		return fmt.Errorf("fake: bad range %#x+%#x", addr, size)
	}
	return nil
}

func (f *fakeBackend) MapPhys(paddr, size uint64, host unsafe.Pointer) error {
	f.physCalls++
	if f.failPhysAt != 0 && f.physCalls == f.failPhysAt {
		return fmt.Errorf("fake: injected MapPhys failure")
	}
	if err := checkRange(paddr, size); err != nil {
		return err
	}
	// Not in calls: the tests follow the translation changes there.
	f.phys = append(f.phys, fakePhys{paddr, size, host})
	return nil
}

// heldIn lists the held pages of [addr, addr+size).
func (f *fakeBackend) heldIn(addr, size uint64) []uint64 {
	var out []uint64
	if size/PageSize <= uint64(len(f.pages)) {
		for a := addr; a < addr+size; a += PageSize {
			if _, ok := f.pages[a]; ok {
				out = append(out, a)
			}
		}
		return out
	}
	for a := range f.pages {
		if a >= addr && a < addr+size {
			out = append(out, a)
		}
	}
	return out
}

func (f *fakeBackend) Unmap(addr, size uint64) error {
	if err := checkRange(addr, size); err != nil {
		return err
	}
	for _, a := range f.heldIn(addr, size) {
		delete(f.pages, a)
	}
	f.calls = append(f.calls, call{"unmap", addr, size, 0})
	return nil
}

func (f *fakeBackend) Protect(addr, size uint64, p Prot) error {
	if err := checkRange(addr, size); err != nil {
		return err
	}
	if HardwareProt(p) != p {
		return fmt.Errorf("fake: prot %v is not a hardware protection", p)
	}
	for _, a := range f.heldIn(addr, size) {
		pg := f.pages[a]
		pg.prot = p
		f.pages[a] = pg
	}
	f.calls = append(f.calls, call{"protect", addr, size, p})
	return nil
}

// mappedInSpace reports whether every page of the range is in a VMA of the
// fake's space. The space's lock is held by the caller of the backend
// methods, so this reads the VMAs directly.
func (f *fakeBackend) mappedInSpace(addr, size uint64) bool {
	if f.as == nil {
		return true
	}
	for a := pageAlignDown(addr); a < addr+size; a += PageSize {
		if _, ok := f.as.findVMA(a); !ok {
			return false
		}
	}
	return true
}

func (f *fakeBackend) InvalidateCode(addr, size uint64) {
	// Record whether the range was still mapped: invalidation must come
	// before the unmap (see the Backend contract).
	op := "invalidate"
	if !f.mappedInSpace(addr, size) {
		op = "invalidate-unmapped"
	}
	f.calls = append(f.calls, call{op, addr, size, 0})
}

func (f *fakeBackend) RevokeExec(addr, size uint64) {
	op := "revoke"
	if !f.mappedInSpace(addr, size) {
		op = "revoke-unmapped"
	}
	f.calls = append(f.calls, call{op, addr, size, 0})
}

// touch returns the translation of the page holding addr, asking the space
// for it when none is held (a TLB fill). grow is set for data accesses.
func (f *fakeBackend) touch(addr uint64, grow bool) (fakePage, error) {
	page := pageAlignDown(addr)
	if pg, ok := f.pages[page]; ok {
		return pg, nil
	}
	if f.as == nil {
		return fakePage{}, fmt.Errorf("fake: no address space to translate %#x", addr)
	}
	t, err := f.as.Translate(page, grow)
	if err != nil {
		return fakePage{}, err
	}
	pg := fakePage{prot: t.Prot, phys: t.Phys}
	f.pages[page] = pg
	return pg, nil
}

// host is the host memory of a physical address.
func (f *fakeBackend) host(paddr uint64) (unsafe.Pointer, error) {
	for _, r := range f.phys {
		if paddr >= r.paddr && paddr-r.paddr < r.size {
			return unsafe.Add(r.host, paddr-r.paddr), nil
		}
	}
	return nil, fmt.Errorf("fake: physical address %#x was never given", paddr)
}

func (f *fakeBackend) byteAt(addr uint64) (*byte, error) {
	pg, err := f.touch(addr, false)
	if err != nil {
		return nil, err
	}
	h, err := f.host(pg.phys + addr&pageMask)
	if err != nil {
		return nil, err
	}
	return (*byte)(h), nil
}

// peek reads guest memory through the backend's translations, as an engine
// would (ignoring permissions).
func (f *fakeBackend) peek(addr uint64, n int) ([]byte, error) {
	out := make([]byte, n)
	for i := range out {
		b, err := f.byteAt(addr + uint64(i))
		if err != nil {
			return nil, err
		}
		out[i] = *b
	}
	return out, nil
}

// poke writes guest memory through the backend's translations, as guest
// code running in an engine would.
func (f *fakeBackend) poke(addr uint64, data []byte) error {
	for i, v := range data {
		b, err := f.byteAt(addr + uint64(i))
		if err != nil {
			return err
		}
		*b = v
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

// store writes guest memory as a CPU does: through a translation with
// write permission, asking the space again (TranslateAccess, a write
// fault) when the held one lacks it, as the engine's page-table fill
// does; a write the space still refuses is a protection fault.
func (f *fakeBackend) store(addr uint64, data []byte) error {
	for i, v := range data {
		a := addr + uint64(i)
		pg, err := f.touch(a, true)
		if err != nil {
			return err
		}
		if pg.prot&ProtWrite == 0 {
			t, err := f.as.TranslateAccess(pageAlignDown(a), true, true)
			if err != nil {
				return err
			}
			pg = fakePage{prot: t.Prot, phys: t.Phys}
			f.pages[pageAlignDown(a)] = pg
			if pg.prot&ProtWrite == 0 {
				return fmt.Errorf("fake: protection fault writing %#x", a)
			}
		}
		h, err := f.host(pg.phys + a&pageMask)
		if err != nil {
			return err
		}
		*(*byte)(h) = v
	}
	return nil
}
