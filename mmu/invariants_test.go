package mmu

import (
	"fmt"
	"testing"
)

// checkInvariants verifies the package invariants (doc.go) for as and the
// given backends, which must be attached.
// physSharers are the other address spaces on an address space's own Phys
// (a test's forked children), whose own pages the Phys counts too.
var physSharers = map[*Phys][]*AddressSpace{}

func checkInvariants(as *AddressSpace, backends ...*fakeBackend) error {
	as.mu.Lock()
	defer as.mu.Unlock()
	var sum uint64
	for i, v := range as.vmas {
		switch {
		case v.Start&pageMask != 0 || v.End&pageMask != 0:
			return fmt.Errorf("VMA %d [%#x,%#x) not page aligned", i, v.Start, v.End)
		case v.Start >= v.End:
			return fmt.Errorf("VMA %d [%#x,%#x) empty", i, v.Start, v.End)
		case v.End > as.cfg.TaskSize:
			return fmt.Errorf("VMA %d [%#x,%#x) beyond the task size", i, v.Start, v.End)
		}
		if err := checkAccounting(v); err != nil {
			return fmt.Errorf("VMA %d [%#x,%#x): %v", i, v.Start, v.End, err)
		}
		if i > 0 {
			p := as.vmas[i-1]
			if p.End > v.Start {
				return fmt.Errorf("VMAs %d and %d overlap or are unsorted", i-1, i)
			}
			if canMerge(p, v) {
				return fmt.Errorf("VMAs %d %+v and %d %+v should have merged", i-1, p, i, v)
			}
		}
		sum += v.Size()
	}
	if sum != as.mapped {
		return fmt.Errorf("mapped bytes %#x, VMAs sum to %#x", as.mapped, sum)
	}
	if as.cfg.MaxMemory != 0 && as.mapped > as.cfg.MaxMemory {
		return fmt.Errorf("mapped bytes %#x exceed the budget %#x", as.mapped, as.cfg.MaxMemory)
	}
	// Populated pages lie in VMAs; frames are distinct and inside the
	// arenas; the resident count adds up.
	var resident uint64
	frames := map[uint64]bool{}
	for wn, w := range as.windows {
		if w.present == 0 {
			return fmt.Errorf("window %#x holds a frame but no page", wn<<windowShift)
		}
		if frames[w.paddr] {
			return fmt.Errorf("frame %#x backs two windows", w.paddr)
		}
		frames[w.paddr] = true
		if k := (w.paddr - PhysBase) / ArenaSize; w.paddr < PhysBase || k >= uint64(len(as.phys.arenas)) || w.paddr%windowSize != 0 {
			return fmt.Errorf("frame %#x is not a frame of an arena", w.paddr)
		}
		for i := uint64(0); i < windowPages; i++ {
			if w.present&(1<<i) == 0 {
				continue
			}
			resident++
			if a := wn<<windowShift + i*PageSize; !mapped(as, a) {
				return fmt.Errorf("page %#x is populated but not mapped", a)
			}
		}
	}
	if resident != as.resident {
		return fmt.Errorf("%d pages counted resident, %d present", as.resident, resident)
	}
	for _, f := range as.phys.freeFrames {
		if frames[f] {
			return fmt.Errorf("frame %#x is both free and in use", f)
		}
	}
	// A page maps the cache or a page of its own, never both; cache pages
	// are counted once per distinct page; a private file page's own copy
	// and shared ones are in file VMAs; the Phys counts every page.
	refs := map[*cachePage]int{}
	for a, cp := range as.filePages {
		i, ok := as.findVMA(a)
		if _, anon := cp.key.f.(*anonPages); anon {
			// A private page a fork shares: in a private mapping, keyed
			// by its address.
			if !ok || as.vmas[i].Flags&Private == 0 || cp.key.index != a/PageSize {
				return fmt.Errorf("page %#x maps a fork's shared page of another page", a)
			}
		} else if !ok || as.vmas[i].File == nil || as.vmas[i].File != cp.key.f ||
			(as.vmas[i].Offset+a-as.vmas[i].Start)/PageSize != cp.key.index {
			return fmt.Errorf("page %#x maps a cache page of another file page", a)
		}
		if w := as.windows[a>>windowShift]; w != nil && w.present&(1<<((a&(windowSize-1))/PageSize)) != 0 {
			return fmt.Errorf("page %#x is both the cache's and its own", a)
		}
		refs[cp]++
	}
	if len(refs) != len(as.cacheRefs) {
		return fmt.Errorf("%d distinct cache pages mapped, %d counted", len(refs), len(as.cacheRefs))
	}
	for cp, n := range refs {
		if as.cacheRefs[cp] != n || cp.maps < n {
			return fmt.Errorf("cache page %v: %d mappings here, counted %d, %d in all", cp.key, n, as.cacheRefs[cp], cp.maps)
		}
	}
	others := uint64(0)
	for _, o := range physSharers[as.phys] {
		if o != as {
			others += o.resident
		}
	}
	if as.ownPhys && as.phys.used != as.resident+others+uint64(len(as.cache.pages)) {
		return fmt.Errorf("phys counts %d pages, %d own and %d cached", as.phys.used, as.resident, len(as.cache.pages))
	}
	for page := range as.pageProt {
		if _, ok := as.findVMA(page); !ok {
			return fmt.Errorf("override on unmapped page %#x", page)
		}
	}
	// Every translation a backend holds is the space's: a mapped,
	// populated page, its frame, its effective permissions.
	for bi, b := range backends {
		for a, pg := range b.pages {
			i, ok := as.findVMA(a)
			if !ok {
				return fmt.Errorf("backend %d: holds a translation of unmapped page %#x", bi, a)
			}
			phys, ok := as.pagePhys(a)
			if !ok || phys != pg.phys {
				return fmt.Errorf("backend %d: page %#x translates to %#x, the space has %#x (populated %v)", bi, a, pg.phys, phys, ok)
			}
			want := as.effectiveProt(as.vmas[i], a)
			if as.cowPage(as.vmas[i], a) {
				want &^= ProtWrite // copy on write: the first write asks again
			}
			if want := HardwareProt(want); pg.prot != want {
				return fmt.Errorf("backend %d: page %#x has %v, want %v", bi, a, pg.prot, want)
			}
		}
	}
	return nil
}

// checkAccounting is invariant 7: VM_ACCOUNT is where mm/mmap.c and
// mm/mprotect.c put it and nowhere else.
func checkAccounting(v VMA) error {
	acct := v.Flags&Accounted != 0
	switch {
	case acct && v.Flags&(Shared|NoReserve) != 0:
		return fmt.Errorf("flags %v: a shared or unreserved mapping is never accounted", v.Flags)
	case !acct && v.Flags&(Private|NoReserve) == Private && v.Prot&ProtWrite != 0:
		return fmt.Errorf("flags %v: private writable memory must be accounted", v.Flags)
	case !acct && v.Flags&(Heap|Stack) != 0:
		return fmt.Errorf("flags %v: the heap and the stack are always accounted", v.Flags)
	}
	return nil
}

func requireInvariants(t testing.TB, as *AddressSpace, backends ...*fakeBackend) {
	t.Helper()
	if err := checkInvariants(as, backends...); err != nil {
		t.Fatalf("invariant broken: %v", err)
	}
}

func mapped(as *AddressSpace, a uint64) bool {
	_, ok := as.findVMA(a)
	return ok
}
