package mmu

import (
	"fmt"
	"math"
	"os"
	"slices"
	"sort"
	"syscall"
	"unsafe"
)

// Host memory. Guest pages live in host memory obtained with syscall.Mmap
// (anonymous, outside the Go heap), so pointers into it can be handed to C
// engines and never move. A hostChunk is one host mapping that stands for
// the guest range [guestBase, guestBase+len(mem)): guest address a is always
// backed by mem[a-guestBase] while it is in use, which is what lets a stack
// or a heap grow into the unused part of its chunk without copying.
//
// Which guest pages use which chunk is recorded by segments: a sorted,
// non-overlapping list whose union is exactly the union of the VMAs. A
// segment never spans two chunks; VMA boundaries (permissions) are
// independent of segment boundaries.

// Host reservations for areas that grow. They cost host address space
// only (MAP_NORESERVE, untouched pages are not allocated).
const (
	maxStackReserve = 64 << 20 // host room reserved below a new stack
	growthReserve   = 8 << 20  // room reserved when a stack outgrows its chunk
	heapReserve     = 16 << 20 // room reserved above a brk extension
)

type hostChunk struct {
	mem       []byte // from syscall.Mmap
	guestBase uint64 // guest address backed by mem[0]
	live      uint64 // bytes of mem currently used by segments
}

type segment struct {
	start, end uint64
	chunk      *hostChunk
}

var hostPageSize = uint64(os.Getpagesize())

// newHostChunk maps size bytes of zeroed host memory standing for guest
// addresses from guestBase on.
func newHostChunk(guestBase, size uint64) (*hostChunk, error) {
	if size == 0 || size > math.MaxInt {
		return nil, fmt.Errorf("mmu: cannot allocate %#x bytes of host memory: %w", size, syscall.ENOMEM)
	}
	mem, err := syscall.Mmap(-1, 0, int(size), syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS|syscall.MAP_NORESERVE)
	if err != nil {
		return nil, fmt.Errorf("mmu: allocating %#x bytes of host memory: %w", size, err)
	}
	return &hostChunk{mem: mem, guestBase: guestBase}, nil
}

func (c *hostChunk) covers(start, end uint64) bool {
	return start >= c.guestBase && end-c.guestBase <= uint64(len(c.mem))
}

// bytes is the host memory of guest [start,end), which must be covered.
func (c *hostChunk) bytes(start, end uint64) []byte {
	lo, hi := start-c.guestBase, end-c.guestBase
	return c.mem[lo:hi:hi]
}

func (c *hostChunk) pointer(addr uint64) unsafe.Pointer {
	return unsafe.Pointer(&c.mem[addr-c.guestBase])
}

func (c *hostChunk) free() error {
	if c.mem == nil {
		return nil
	}
	err := syscall.Munmap(c.mem)
	c.mem = nil
	return err
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

// segIndex is the index of the first segment ending above addr.
func (as *AddressSpace) segIndex(addr uint64) int {
	return sort.Search(len(as.segs), func(i int) bool { return as.segs[i].end > addr })
}

// addSegment records that chunk backs the free guest range [start,end).
func (as *AddressSpace) addSegment(start, end uint64, c *hostChunk) {
	i := as.segIndex(start)
	if c.live == 0 {
		as.stats.HostChunks++
		as.stats.HostReservedBytes += uint64(len(c.mem))
	}
	c.live += end - start
	as.segs = slices.Insert(as.segs, i, segment{start, end, c})
}

// releaseSegments forgets the backing of guest [start,end): pages of chunks
// still in use elsewhere are zeroed (so a later growth into them reads
// zeros), chunks no longer used are unmapped.
func (as *AddressSpace) releaseSegments(start, end uint64) {
	i := as.segIndex(start)
	var keep []segment
	j := i
	for ; j < len(as.segs) && as.segs[j].start < end; j++ {
		s := as.segs[j]
		lo, hi := max(s.start, start), min(s.end, end)
		if s.start < lo {
			keep = append(keep, segment{s.start, lo, s.chunk})
		}
		if hi < s.end {
			keep = append(keep, segment{hi, s.end, s.chunk})
		}
		s.chunk.live -= hi - lo
		if s.chunk.live == 0 {
			as.freeChunk(s.chunk)
		} else {
			zeroHost(s.chunk.bytes(lo, hi))
		}
	}
	as.segs = slices.Replace(as.segs, i, j, keep...)
}

func (as *AddressSpace) freeChunk(c *hostChunk) {
	as.stats.HostChunks--
	as.stats.HostReservedBytes -= uint64(len(c.mem))
	if err := c.free(); err != nil {
		as.noteFailure(fmt.Errorf("mmu: releasing host memory: %w", err))
	}
}

// backingBelow returns a chunk able to back the free guest range
// [start,end) just below a mapping that starts at end: the chunk of that
// mapping's segment when it has room (growth in place), else a new chunk
// with room for further downward growth.
func (as *AddressSpace) backingBelow(start, end uint64) (*hostChunk, error) {
	if i := as.segIndex(end); i < len(as.segs) && as.segs[i].start == end && as.segs[i].chunk.covers(start, end) {
		return as.segs[i].chunk, nil
	}
	base := start
	if end-start < growthReserve && end >= growthReserve {
		base = end - growthReserve
	}
	return newHostChunk(base, end-base)
}

// backingAbove is backingBelow for upward growth: the free guest range
// [start,end) lies just above a mapping that ends at start.
func (as *AddressSpace) backingAbove(start, end uint64) (*hostChunk, error) {
	if i := as.segIndex(start - 1); start > 0 && i < len(as.segs) && as.segs[i].end == start && as.segs[i].chunk.covers(start, end) {
		return as.segs[i].chunk, nil
	}
	size := max(end-start, heapReserve)
	if start+size < start || start+size > as.cfg.TaskSize {
		size = end - start
	}
	return newHostChunk(start, size)
}

// extendSegment records chunk c backing the free range [start,end) and
// joins it to an adjacent segment of the same chunk.
func (as *AddressSpace) extendSegment(start, end uint64, c *hostChunk) {
	i := as.segIndex(start)
	if i < len(as.segs) && as.segs[i].start == end && as.segs[i].chunk == c {
		as.segs[i].start = start
		c.live += end - start
		return
	}
	if i > 0 && as.segs[i-1].end == start && as.segs[i-1].chunk == c {
		as.segs[i-1].end = end
		c.live += end - start
		return
	}
	as.addSegment(start, end, c)
}
