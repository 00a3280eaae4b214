package mmu

import (
	"fmt"
	"testing"
	"unsafe"
)

// checkInvariants verifies the package invariants (doc.go) for as and the
// given backends, which must be attached.
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
	// Segments cover exactly the VMAs.
	runs := as.mappedRuns(0, ^uint64(0))
	var segRuns []addrRange
	live := map[*hostChunk]uint64{}
	for i, s := range as.segs {
		if s.start >= s.end || (i > 0 && as.segs[i-1].end > s.start) {
			return fmt.Errorf("segment %d [%#x,%#x) empty, overlapping or unsorted", i, s.start, s.end)
		}
		if !s.chunk.covers(s.start, s.end) || s.chunk.mem == nil {
			return fmt.Errorf("segment %d [%#x,%#x) outside its chunk", i, s.start, s.end)
		}
		live[s.chunk] += s.end - s.start
		if n := len(segRuns); n > 0 && segRuns[n-1].end == s.start {
			segRuns[n-1].end = s.end
		} else {
			segRuns = append(segRuns, addrRange{s.start, s.end})
		}
	}
	if fmt.Sprint(runs) != fmt.Sprint(segRuns) {
		return fmt.Errorf("segments cover %v, VMAs cover %v", segRuns, runs)
	}
	for c, n := range live {
		if c.live != n {
			return fmt.Errorf("chunk at %#x: live %#x, segments use %#x", c.guestBase, c.live, n)
		}
	}
	if as.stats.HostChunks != len(live) {
		return fmt.Errorf("%d chunks counted, %d in use", as.stats.HostChunks, len(live))
	}
	for page := range as.pageProt {
		if _, ok := as.findVMA(page); !ok {
			return fmt.Errorf("override on unmapped page %#x", page)
		}
	}
	// Every backend sees exactly the mapped pages with the right
	// permissions and host memory.
	for bi, b := range backends {
		if err := b.checkRegions(); err != nil {
			return fmt.Errorf("backend %d: %v", bi, err)
		}
		var pages int
		for _, v := range as.vmas {
			for a := v.Start; a < v.End; a += PageSize {
				pg, ok := b.pages[a]
				if !ok {
					return fmt.Errorf("backend %d: page %#x missing", bi, a)
				}
				if want := HardwareProt(as.effectiveProt(v, a)); pg.prot != want {
					return fmt.Errorf("backend %d: page %#x has %v, want %v", bi, a, pg.prot, want)
				}
				s := as.segs[as.segIndex(a)]
				if want := unsafe.Pointer(&s.chunk.mem[a-s.chunk.guestBase]); pg.host != want {
					return fmt.Errorf("backend %d: page %#x points at the wrong host memory", bi, a)
				}
				pages++
			}
		}
		if pages != len(b.pages) {
			return fmt.Errorf("backend %d maps %d pages, VMAs hold %d", bi, len(b.pages), pages)
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
