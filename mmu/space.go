package mmu

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
)

// AddressSpace is one guest process's memory: its VMAs, the host memory
// behind every mapped page, and the attached backends kept in step with
// them. All methods are safe for concurrent use (one mutex guards
// everything); see the package documentation for the locking rules.
type AddressSpace struct {
	mu  sync.Mutex
	cfg Config

	vmas     []VMA           // sorted, non-overlapping, adjacent mergeable ones merged
	pageProt map[uint64]Prot // page-table overrides set by SetPageProt, keyed by page address
	revoked  []addrRange     // ranges whose execute permission was revoked (revoke.go)
	backends []Backend

	fileObserver FileMapObserver // told of file mappings (notify.go)
	fileEvents   []fileEvent     // collected under mu, delivered after it

	// Physical memory (physmem.go): where frames come from, the frame
	// behind each window with pages of the address space's own, and how
	// many such pages are present.
	phys     *Phys
	ownPhys  bool               // phys was made for this address space (closed with it)
	windows  map[uint64]*window // by window number (address >> 16)
	resident uint64
	oom      bool // a page could not be populated

	// File pages (file.go): the page-cache page each mapped file page
	// not privately written uses, and for each such cache page how many
	// of the address space's pages map it (counted once as resident).
	cache     *PageCache
	filePages map[uint64]*cachePage
	cacheRefs map[*cachePage]int

	vsyscallPage bool // the gate VMA is listed in MapsText (maps.go)

	startBrk, brk uint64 // mm->start_brk and mm->brk
	brkSet        bool

	mapped  uint64 // sum of VMA sizes
	stats   Stats
	failure error // first backend or host failure (see Err)
	dead    error // why every operation fails: ErrClosed, or an invalid Config
}

// Stats are counters describing an address space.
type Stats struct {
	MappedBytes         uint64 // bytes in all VMAs
	PeakMappedBytes     uint64 // highest MappedBytes so far
	VMAs                int    // number of VMAs
	StackGrowths        uint64 // successful growths of a growsdown VMA
	StackGrowthRefusals uint64 // growths refused (stack limit, guard gap, budget)
	Invalidations       uint64 // ranges whose translations were dropped (each sent to every backend)
	ExecRevocations     uint64 // ranges that lost execute permission (RevokeExec to every backend)
	COWBreaks           uint64 // private file pages copied at their first write
	PageProtOverrides   int    // pages whose page-table permissions differ from their VMA
	ResidentPages       uint64 // pages populated (touched) now: own pages plus the distinct page-cache pages mapped
	PeakResidentPages   uint64 // highest ResidentPages so far
	FileCachePages      uint64 // distinct page-cache pages mapped now (in ResidentPages)
	// RSSPages is Linux's resident set (mm_counters: MM_ANONPAGES plus
	// MM_FILEPAGES), what /proc/self/status shows as VmRSS: a cache page
	// counts once per page mapping it, so 16 mappings of one file page are
	// 16 pages here and 1 in ResidentPages.
	RSSPages     uint64
	PeakRSSPages uint64 // highest RSSPages so far (VmHWM, ru_maxrss)
	FilePTEs     uint64 // pages mapping page-cache pages now (RssFile)
	Frames       int    // 64 KiB frames in use
	Arenas       int    // physical regions (host reservations of ArenaSize)
	Backends     int    // attached backends
}

// NewChecked creates an empty address space. Zero Config fields take
// defaults; an inconsistent Config is an error.
func NewChecked(cfg Config) (*AddressSpace, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	as := &AddressSpace{cfg: c, pageProt: map[uint64]Prot{}, windows: map[uint64]*window{},
		phys: c.Phys, cache: c.PageCache, filePages: map[uint64]*cachePage{}, cacheRefs: map[*cachePage]int{}}
	if as.phys == nil {
		if as.phys, err = NewPhys(c.PhysMemory); err != nil {
			return nil, err
		}
		as.ownPhys = true
	}
	if as.cache == nil {
		as.cache = NewPageCache(as.phys)
	} else if as.cache.phys != as.phys {
		return nil, errors.New("mmu: the page cache is on another Phys than the address space")
	}
	return as, nil
}

// New is NewChecked for callers whose Config is known to be good. An
// inconsistent Config does not panic: it yields an address space on which
// every operation fails (errors carry the reason, syscalls return ENOMEM)
// and whose Err reports the configuration error.
func New(cfg Config) *AddressSpace {
	as, err := NewChecked(cfg)
	if err != nil {
		return &AddressSpace{pageProt: map[uint64]Prot{}, windows: map[uint64]*window{},
			filePages: map[uint64]*cachePage{}, cacheRefs: map[*cachePage]int{}, cache: NewPageCache(nil), dead: err, failure: err}
	}
	return as
}

// Config returns the configuration in use, defaults filled in.
func (as *AddressSpace) Config() Config {
	as.mu.Lock()
	defer as.mu.Unlock()
	return as.cfg
}

// StackLimit returns the current RLIMIT_STACK.
func (as *AddressSpace) StackLimit() uint64 {
	as.mu.Lock()
	defer as.mu.Unlock()
	return as.cfg.StackLimit
}

// SetStackLimit changes RLIMIT_STACK (setrlimit). It bounds later stack
// growth only: mmap_base was fixed when the address space was created, as
// Linux fixes it at exec. 0 is taken as "no growth beyond the current size".
func (as *AddressSpace) SetStackLimit(limit uint64) {
	as.mu.Lock()
	defer as.mu.Unlock()
	as.cfg.StackLimit = limit
}

// Attach adds a backend and gives it every arena (MapPhys). Translations
// are not replayed: a backend asks for them (Translate). On error the
// backend is not attached and may hold some arenas; discard it.
func (as *AddressSpace) Attach(b Backend) error {
	if b == nil {
		return errors.New("mmu: attaching a nil backend")
	}
	if !reflect.TypeOf(b).Comparable() {
		return fmt.Errorf("mmu: backend type %T is not comparable (attach a pointer)", b)
	}
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.dead != nil {
		return as.dead
	}
	for _, x := range as.backends {
		if x == b {
			return errors.New("mmu: backend is already attached")
		}
	}
	if err := as.phys.attach(b); err != nil {
		return err
	}
	as.backends = append(as.backends, b)
	return nil
}

// Detach removes a backend without touching its mappings (its engine is
// about to be closed). It is an error if b is not attached.
func (as *AddressSpace) Detach(b Backend) error {
	as.mu.Lock()
	defer as.mu.Unlock()
	for i, x := range as.backends {
		if x == b {
			as.backends = append(as.backends[:i], as.backends[i+1:]...)
			as.phys.detach(b)
			return nil
		}
	}
	return errors.New("mmu: backend is not attached")
}

// Close unmaps everything from the attached backends (their translations
// go), detaches them and returns all host memory, arenas included. Engines must not use the memory afterwards, so
// close or Detach engines that can no longer be called before closing the
// address space. Further calls fail (ErrClosed, ENOMEM, EFAULT). Close is
// idempotent.
func (as *AddressSpace) Close() error {
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.dead != nil {
		return nil
	}
	var first error
	as.fileObserver, as.fileEvents = nil, nil // the process is gone: nothing to tell
	if len(as.vmas) > 0 {
		first = as.unmapLocked(0, as.vmas[len(as.vmas)-1].End)
	}
	if err := as.freeMemoryLocked(); err != nil && first == nil {
		first = err
	}
	for _, b := range as.backends {
		as.phys.detach(b)
	}
	as.backends = nil
	as.dead = ErrClosed
	if first == nil && as.failure != nil {
		first = as.failure
	}
	return first
}

// Err reports the first failure of a backend or of host memory management,
// or the invalid Config New was given. After a backend failure the
// engines' view of memory may differ from the bookkeeping; the machine
// should stop.
func (as *AddressSpace) Err() error {
	as.mu.Lock()
	defer as.mu.Unlock()
	return as.failure
}

// Stats returns the current counters.
func (as *AddressSpace) Stats() Stats {
	as.mu.Lock()
	defer as.mu.Unlock()
	s := as.stats
	s.MappedBytes = as.mapped
	s.VMAs = len(as.vmas)
	s.PageProtOverrides = len(as.pageProt)
	s.Backends = len(as.backends)
	s.ResidentPages = as.resident + uint64(len(as.cacheRefs))
	s.FileCachePages = uint64(len(as.cacheRefs))
	s.FilePTEs = uint64(len(as.filePages))
	s.RSSPages = as.resident + s.FilePTEs
	s.Frames = len(as.windows)
	if as.phys != nil {
		s.Arenas = as.phys.arenaCount()
	}
	return s
}

// Phys is the physical memory the address space's pages come from.
func (as *AddressSpace) Phys() *Phys { return as.phys }

// PageCache is the page cache its file mappings use.
func (as *AddressSpace) PageCache() *PageCache { return as.cache }

// notePeakLocked updates the peak resident count.
func (as *AddressSpace) notePeakLocked() {
	as.stats.PeakResidentPages = max(as.stats.PeakResidentPages, as.resident+uint64(len(as.cacheRefs)))
	as.stats.PeakRSSPages = max(as.stats.PeakRSSPages, as.resident+uint64(len(as.filePages)))
}

// addMapped accounts newly mapped bytes.
func (as *AddressSpace) addMapped(n uint64) {
	as.mapped += n
	as.stats.PeakMappedBytes = max(as.stats.PeakMappedBytes, as.mapped)
}

// budgetAllows reports whether extra more mapped bytes fit MaxMemory
// (may_expand_vm in mm/mmap.c, with RLIMIT_AS as the limit).
func (as *AddressSpace) budgetAllows(extra uint64) bool {
	m := as.cfg.MaxMemory
	return m == 0 || (extra <= m && as.mapped <= m-extra)
}
