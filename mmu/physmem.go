package mmu

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
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

// Phys is the physical memory of a machine: the arenas, the frames free
// for reuse, the single pages the page cache uses (pagecache.go), and how
// many pages are in use against the machine's memory. Address spaces
// draw their 64 KiB frames from it and the page cache its 4 KiB pages,
// so every page is counted once against the bound, whoever maps it. An
// address space made without Config.Phys has a Phys of its own, released
// at its Close; several address spaces (the processes of a machine) may
// share one, whose owner closes it after them.
//
// Every backend attached to an address space on a Phys holds every arena
// of it (MapPhys), so a frame of one process (a page-cache page) can be
// mapped by another. Phys's mutex is the innermost lock: it is taken with
// an address space's or the page cache's held, never the other way round.
type Phys struct {
	mu         sync.Mutex
	limit      uint64 // pages the machine has
	used       uint64 // pages in use: address spaces' and the page cache's
	arenas     []*arena
	freeFrames []uint64
	freePages  []uint64 // single pages of split frames (the page cache's)
	backends   []physBackend
	closed     bool
}

type physBackend struct {
	b    Backend
	refs int // attachments through address spaces
}

// NewPhys is physical memory of size bytes (0: DefaultPhysMemory),
// rounded down to pages.
func NewPhys(size uint64) (*Phys, error) {
	if size == 0 {
		size = DefaultPhysMemory
	}
	size = pageAlignDown(size)
	if size < windowSize || size > 1<<46 {
		return nil, fmt.Errorf("mmu: physical memory %#x must be between 64 KiB and 64 TiB", size)
	}
	return &Phys{limit: size / PageSize}, nil
}

// UsedPages is the number of pages in use.
func (p *Phys) UsedPages() uint64 {
	if p == nil {
		return 0 // an address space that failed its Config
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.used
}

// takePages charges n pages against the bound.
func (p *Phys) takePages(n uint64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.used+n > p.limit {
		return errOutOfMemory
	}
	p.used += n
	return nil
}

func (p *Phys) givePages(n uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.used -= n
}

// frameAlloc returns a zeroed frame: a freed one, else the next of the
// newest arena, else one of a new arena (given to every backend).
func (p *Phys) frameAlloc() (paddr uint64, host []byte, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.frameAllocLocked()
}

func (p *Phys) frameAllocLocked() (paddr uint64, host []byte, err error) {
	if p.closed {
		return 0, nil, ErrClosed
	}
	if n := len(p.freeFrames); n > 0 {
		paddr = p.freeFrames[n-1]
		p.freeFrames = p.freeFrames[:n-1]
		return paddr, p.host(paddr, windowSize), nil
	}
	if n := len(p.arenas); n == 0 || p.arenas[n-1].used == ArenaSize {
		if err := p.addArena(); err != nil {
			return 0, nil, err
		}
	}
	a := p.arenas[len(p.arenas)-1]
	paddr = a.paddr + a.used
	a.used += windowSize
	return paddr, p.host(paddr, windowSize), nil
}

// frameFree gives a frame, whose pages must read zeros, back.
func (p *Phys) frameFree(paddr uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.freeFrames = append(p.freeFrames, paddr)
}

// pageAlloc returns one zeroed page (the page cache's), splitting a frame
// when no freed page is left. It does not charge the page (takePages).
// Split frames are never joined again; their freed pages are returned to
// the host (zeroHost), only their physical addresses stay reserved.
func (p *Phys) pageAlloc() (paddr uint64, host []byte, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.freePages) == 0 {
		f, _, err := p.frameAllocLocked()
		if err != nil {
			return 0, nil, err
		}
		for i := uint64(windowPages); i > 0; i-- {
			p.freePages = append(p.freePages, f+(i-1)*PageSize)
		}
	}
	n := len(p.freePages)
	paddr = p.freePages[n-1]
	p.freePages = p.freePages[:n-1]
	return paddr, p.host(paddr, PageSize), nil
}

// pageFree gives a page of pageAlloc back; its contents are dropped.
func (p *Phys) pageFree(paddr uint64, host []byte) {
	zeroHost(host)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.freePages = append(p.freePages, paddr)
}

func (p *Phys) host(paddr, size uint64) []byte {
	a := p.arenas[(paddr-PhysBase)/ArenaSize]
	off := paddr - a.paddr
	return a.mem[off : off+size : off+size]
}

func (p *Phys) maxArenas() int {
	return int((p.limit*PageSize + ArenaSize - 1) / ArenaSize * 2)
}

// addArena reserves a new arena and gives it to every backend.
func (p *Phys) addArena() error {
	if len(p.arenas) >= p.maxArenas() {
		return errOutOfMemory
	}
	mem, err := syscall.Mmap(-1, 0, ArenaSize, syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS|syscall.MAP_NORESERVE)
	if err != nil {
		return fmt.Errorf("mmu: reserving %#x bytes of host memory: %w", ArenaSize, err)
	}
	a := &arena{mem: mem, paddr: PhysBase + uint64(len(p.arenas))*ArenaSize}
	for i, b := range p.backends {
		if err := b.b.MapPhys(a.paddr, ArenaSize, unsafe.Pointer(&mem[0])); err != nil {
			// Backends that took it keep a region the address space
			// will not use again; that is harmless, only the failure
			// matters.
			syscall.Munmap(mem)
			return &backendError{fmt.Errorf("mmu: backend %d MapPhys [%#x,+%#x): %w", i, a.paddr, ArenaSize, err)}
		}
	}
	p.arenas = append(p.arenas, a)
	return nil
}

// backendError is a backend's failure, which the address space keeps
// (Err), as opposed to running out of memory.
type backendError struct{ err error }

func (e *backendError) Error() string { return e.err.Error() }
func (e *backendError) Unwrap() error { return e.err }

// attach gives b every arena (once per backend, however many address
// spaces it is attached through).
func (p *Phys) attach(b Backend) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range p.backends {
		if p.backends[i].b == b {
			p.backends[i].refs++
			return nil
		}
	}
	for _, a := range p.arenas {
		if err := b.MapPhys(a.paddr, ArenaSize, unsafe.Pointer(&a.mem[0])); err != nil {
			return fmt.Errorf("mmu: giving the arena at %#x to a new backend: %w", a.paddr, err)
		}
	}
	p.backends = append(p.backends, physBackend{b: b, refs: 1})
	return nil
}

func (p *Phys) detach(b Backend) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range p.backends {
		if p.backends[i].b == b {
			if p.backends[i].refs--; p.backends[i].refs == 0 {
				p.backends = slices.Delete(p.backends, i, i+1)
			}
			return
		}
	}
}

// arenaCount is the number of arenas reserved.
func (p *Phys) arenaCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.arenas)
}

// Close returns every arena to the host. Backends must no longer use
// them; every address space on p must be closed first.
func (p *Phys) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var first error
	for _, a := range p.arenas {
		if err := syscall.Munmap(a.mem); err != nil && first == nil {
			first = fmt.Errorf("mmu: releasing host memory: %w", err)
		}
	}
	p.arenas, p.freeFrames, p.freePages, p.backends, p.used, p.closed = nil, nil, nil, nil, 0, true
	return first
}

// populateLocked makes the page at addr present and returns its host
// memory: a page of a file mapping not yet written privately is the page
// cache's (file.go), any other page the address space's own. It fails only
// when physical memory is exhausted, which is then remembered
// (OutOfMemory).
func (as *AddressSpace) populateLocked(addr uint64) ([]byte, error) {
	if h := as.pageHost(addr); h != nil {
		return h, nil
	}
	if i, ok := as.findVMA(addr); ok && as.vmas[i].File != nil {
		cp, err := as.mapCachePageLocked(as.vmas[i], addr)
		if err != nil {
			as.oom = as.oom || errors.Is(err, errOutOfMemory)
			return nil, err
		}
		return cp.host, nil
	}
	return as.populateOwnLocked(addr)
}

// populateOwnLocked makes the page at addr present in the address space's
// own frame of its window, zeroed.
func (as *AddressSpace) populateOwnLocked(addr uint64) ([]byte, error) {
	wn, i := addr>>windowShift, (addr&(windowSize-1))/PageSize
	w := as.windows[wn]
	if w != nil && w.present&(1<<i) != 0 {
		return w.page(i), nil
	}
	if err := as.phys.takePages(1); err != nil {
		as.oom = true
		return nil, err
	}
	if w == nil {
		paddr, host, err := as.phys.frameAlloc()
		if err != nil {
			as.phys.givePages(1)
			as.oom = true
			var be *backendError
			if errors.As(err, &be) {
				as.noteFailure(be.err)
			}
			return nil, err
		}
		w = &window{paddr: paddr, host: host}
		as.windows[wn] = w
	}
	w.present |= 1 << i
	as.resident++
	as.notePeakLocked()
	return w.page(i), nil
}

// pageHost returns the host memory of the page at addr if it is present
// (the address space's own, else a page-cache page it maps).
func (as *AddressSpace) pageHost(addr uint64) []byte {
	w := as.windows[addr>>windowShift]
	i := (addr & (windowSize - 1)) / PageSize
	if w == nil || w.present&(1<<i) == 0 {
		if cp := as.filePages[addr]; cp != nil {
			return cp.host
		}
		return nil
	}
	return w.page(i)
}

// pagePhys returns the physical address of the present page at addr.
func (as *AddressSpace) pagePhys(addr uint64) (uint64, bool) {
	w := as.windows[addr>>windowShift]
	i := (addr & (windowSize - 1)) / PageSize
	if w == nil || w.present&(1<<i) == 0 {
		if cp := as.filePages[addr]; cp != nil {
			return cp.paddr, true
		}
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
	var released uint64
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
				released++
				j++
			}
			zeroHost(w.host[i*PageSize : j*PageSize])
			i = j
		}
		if w.present == 0 {
			as.phys.frameFree(w.paddr)
			delete(as.windows, wn)
		}
	}
	as.phys.givePages(released)
	as.releaseFilePagesLocked(start, end)
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

// freeMemoryLocked gives every page back (Close): the page-cache pages
// mapped were released with the mappings; the own frames go back to the
// Phys, which is closed too when it is the address space's own.
func (as *AddressSpace) freeMemoryLocked() error {
	for _, w := range as.windows {
		zeroHost(w.host)
		as.phys.frameFree(w.paddr)
	}
	as.phys.givePages(as.resident)
	as.windows, as.resident = map[uint64]*window{}, 0
	if as.ownPhys {
		return as.phys.Close()
	}
	return nil
}
