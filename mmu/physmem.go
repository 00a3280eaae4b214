package mmu

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"syscall"
	"unsafe"
)

// Physical memory.
//
// Guest pages live in "physical" memory: a few large host mappings
// (arenas, from syscall.Mmap: anonymous, MAP_NORESERVE, outside the Go
// heap, so they may be handed to C and never move), each given to every
// backend once as a physical range (Backend.MapPhys). What the guest maps
// is only bookkeeping here: VMAs, and for each 64 KiB-aligned window of
// virtual addresses that holds touched pages, one 64 KiB frame of an
// arena. Page p of a window is backed by page p of its frame, whatever
// VMA it belongs to, so neighbouring small mappings share a frame.
//
// Pages are populated on first touch, as Linux's demand paging does: a
// backend's translation of a page (Translate), or a host-side write to it.
// A host-side read of a page never touched reads zeros. Releasing a page
// (munmap, a shrinking brk) zeroes its host memory (MADV_DONTNEED) and
// clears its present bit; a window with no present page gives its frame
// back to the free list. Host memory is thus what the guest touched, and
// the number of backend memory regions is the number of arenas, whatever
// the guest does with mmap, mprotect, stacks and threads.
//
// Physical addresses are invisible to the guest and to every result: they
// only name host memory. The allocation order is still deterministic.

const (
	windowShift = 16
	windowSize  = 1 << windowShift // one frame backs one window
	windowPages = windowSize / PageSize

	// ArenaSize is the host memory an arena reserves (address space
	// only: nothing is committed until the guest touches it).
	ArenaSize = 1 << 30
	// PhysBase is the physical address of the first arena; arena i
	// starts at PhysBase + i*ArenaSize.
	PhysBase = 1 << 32
	// DefaultPhysMemory is how much memory the modelled machine has for
	// guest pages when Config.PhysMemory is 0: a guest that touches more
	// is out of memory (OutOfMemory), as the OOM killer would end it.
	DefaultPhysMemory = 8 << 30
)

// errOutOfMemory is the failure to populate a page.
var errOutOfMemory = errors.New("mmu: out of physical memory")

type arena struct {
	mem   []byte // from syscall.Mmap
	paddr uint64 // physical address of mem[0]
	used  uint64 // bytes handed out from the start (bump allocation)
}

// window is the frame behind one 64 KiB window of virtual addresses, and
// which of its pages are populated (bit i: page i).
type window struct {
	paddr   uint64
	host    []byte // the frame's host memory, windowSize bytes
	present uint16
}

func (w *window) page(i uint64) []byte {
	return w.host[i*PageSize : (i+1)*PageSize : (i+1)*PageSize]
}

var hostPageSize = uint64(os.Getpagesize())

// frameAlloc returns a zeroed frame: a freed one, else the next of the
// newest arena, else one of a new arena (given to every backend).
func (as *AddressSpace) frameAlloc() (paddr uint64, host []byte, err error) {
	if n := len(as.freeFrames); n > 0 {
		paddr = as.freeFrames[n-1]
		as.freeFrames = as.freeFrames[:n-1]
		return paddr, as.frameHost(paddr), nil
	}
	if n := len(as.arenas); n == 0 || as.arenas[n-1].used == ArenaSize {
		if err := as.addArena(); err != nil {
			return 0, nil, err
		}
	}
	a := as.arenas[len(as.arenas)-1]
	paddr = a.paddr + a.used
	a.used += windowSize
	return paddr, as.frameHost(paddr), nil
}

func (as *AddressSpace) frameHost(paddr uint64) []byte {
	a := as.arenas[(paddr-PhysBase)/ArenaSize]
	off := paddr - a.paddr
	return a.mem[off : off+windowSize : off+windowSize]
}

func (as *AddressSpace) maxArenas() int {
	return int((as.cfg.PhysMemory + ArenaSize - 1) / ArenaSize * 2)
}

// addArena reserves a new arena and gives it to every backend.
func (as *AddressSpace) addArena() error {
	if len(as.arenas) >= as.maxArenas() {
		return errOutOfMemory
	}
	mem, err := syscall.Mmap(-1, 0, ArenaSize, syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS|syscall.MAP_NORESERVE)
	if err != nil {
		return fmt.Errorf("mmu: reserving %#x bytes of host memory: %w", ArenaSize, err)
	}
	a := &arena{mem: mem, paddr: PhysBase + uint64(len(as.arenas))*ArenaSize}
	for i, b := range as.backends {
		if err := b.MapPhys(a.paddr, ArenaSize, unsafe.Pointer(&mem[0])); err != nil {
			// Backends that took it keep a region the address space
			// will not use again; that is harmless, only the failure
			// matters.
			syscall.Munmap(mem)
			return as.noteFailure(fmt.Errorf("mmu: backend %d MapPhys [%#x,+%#x): %w", i, a.paddr, ArenaSize, err))
		}
	}
	as.arenas = append(as.arenas, a)
	return nil
}

// populateLocked makes the page at addr present and returns its host
// memory; it fails only when physical memory is exhausted, which is then
// remembered (OutOfMemory).
func (as *AddressSpace) populateLocked(addr uint64) ([]byte, error) {
	wn, i := addr>>windowShift, (addr&(windowSize-1))/PageSize
	w := as.windows[wn]
	if w == nil {
		if as.resident >= as.cfg.PhysMemory/PageSize {
			as.oom = true
			return nil, errOutOfMemory
		}
		paddr, host, err := as.frameAlloc()
		if err != nil {
			as.oom = true
			return nil, err
		}
		w = &window{paddr: paddr, host: host}
		as.windows[wn] = w
	}
	if w.present&(1<<i) == 0 {
		if as.resident >= as.cfg.PhysMemory/PageSize {
			as.oom = true
			return nil, errOutOfMemory
		}
		w.present |= 1 << i
		as.resident++
		as.stats.PeakResidentPages = max(as.stats.PeakResidentPages, as.resident)
		as.fillFromFile(addr, w.page(i))
	}
	return w.page(i), nil
}

// pageHost returns the host memory of the page at addr if it is present.
func (as *AddressSpace) pageHost(addr uint64) []byte {
	w := as.windows[addr>>windowShift]
	i := (addr & (windowSize - 1)) / PageSize
	if w == nil || w.present&(1<<i) == 0 {
		return nil
	}
	return w.page(i)
}

// pagePhys returns the physical address of the present page at addr.
func (as *AddressSpace) pagePhys(addr uint64) (uint64, bool) {
	w := as.windows[addr>>windowShift]
	i := (addr & (windowSize - 1)) / PageSize
	if w == nil || w.present&(1<<i) == 0 {
		return 0, false
	}
	return w.paddr + i*PageSize, true
}

// zeroHost makes b read as zeros again, returning the pages to the host when
// they are whole host pages (a private anonymous mapping refills with zeros
// after MADV_DONTNEED).
func zeroHost(b []byte) {
	if len(b) == 0 {
		return
	}
	start := uint64(uintptr(unsafe.Pointer(&b[0])))
	if start%hostPageSize == 0 && uint64(len(b))%hostPageSize == 0 {
		if syscall.Madvise(b, syscall.MADV_DONTNEED) == nil {
			return
		}
	}
	clear(b)
}

// windowsIn lists, in address order, the populated windows overlapping
// [start,end): by walking the range when it is short, else the table.
func (as *AddressSpace) windowsIn(start, end uint64) []uint64 {
	first, last := start>>windowShift, (end-1)>>windowShift
	var out []uint64
	if last-first < uint64(len(as.windows)) {
		for wn := first; wn <= last; wn++ {
			if as.windows[wn] != nil {
				out = append(out, wn)
			}
		}
		return out
	}
	for wn := range as.windows {
		if wn >= first && wn <= last {
			out = append(out, wn)
		}
	}
	slices.Sort(out)
	return out
}

// releaseLocked depopulates the pages of [start,end): their host memory
// is zeroed and given back to the host, and a window left with no page
// gives its frame back. Backends must have dropped their translations of
// the range first.
func (as *AddressSpace) releaseLocked(start, end uint64) {
	if end <= start {
		return
	}
	for _, wn := range as.windowsIn(start, end) {
		w := as.windows[wn]
		base := wn << windowShift
		lo, hi := max(start, base), min(end, base+windowSize)
		for i := (lo - base) / PageSize; i < (hi-base)/PageSize; {
			if w.present&(1<<i) == 0 {
				i++
				continue
			}
			// Zero the run of present pages from i in one call.
			j := i
			for j < (hi-base)/PageSize && w.present&(1<<j) != 0 {
				w.present &^= 1 << j
				as.resident--
				j++
			}
			zeroHost(w.host[i*PageSize : j*PageSize])
			i = j
		}
		if w.present == 0 {
			as.freeFrames = append(as.freeFrames, w.paddr)
			delete(as.windows, wn)
		}
	}
}

// zeroPagesLocked zeroes the present pages of [start,end) in place
// (MADV_DONTNEED on private anonymous memory): they stay populated, with
// the same frames, so no translation changes.
func (as *AddressSpace) zeroPagesLocked(start, end uint64) {
	if end <= start {
		return
	}
	for _, wn := range as.windowsIn(start, end) {
		base := wn << windowShift
		for a := max(start, base); a < min(end, base+windowSize); a += PageSize {
			if h := as.pageHost(a); h != nil {
				zeroHost(h)
			}
		}
	}
}

// freeArenas returns every arena to the host (Close).
func (as *AddressSpace) freeArenas() error {
	var first error
	for _, a := range as.arenas {
		if err := syscall.Munmap(a.mem); err != nil && first == nil {
			first = fmt.Errorf("mmu: releasing host memory: %w", err)
		}
	}
	as.arenas, as.windows, as.freeFrames, as.resident = nil, map[uint64]*window{}, nil, 0
	return first
}
