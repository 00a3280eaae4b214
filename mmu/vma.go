package mmu

import (
	"slices"
	"sort"
)

// VMA is one virtual memory area, [Start, End), page aligned.
type VMA struct {
	Start, End uint64
	Prot       Prot
	Flags      Flags
	// Name is shown in /proc/self/maps: the file path for file-backed
	// VMAs, "[heap]", "[stack]", or a caller-chosen label.
	Name string
	// Offset is the file offset of Start for FileBacked VMAs, 0 otherwise
	// (Linux shows 0 for anonymous memory too).
	Offset uint64
	// File backs a mapping made with MmapFile: a page is read from it at
	// Offset + (page - Start) when first touched (file.go). nil for
	// anonymous memory and for the loader's file-backed segments, whose
	// bytes are copied in when mapped.
	File File
	// ID is the mapped file's identity (device and inode) for file-backed
	// VMAs whose file has one; the zero FileID otherwise.
	ID FileID
}

// Size is End-Start.
func (v VMA) Size() uint64 { return v.End - v.Start }

// Contains reports whether addr lies in [Start, End).
func (v VMA) Contains(addr uint64) bool { return addr >= v.Start && addr < v.End }

// canMerge reports whether b, starting where a ends, can be one VMA with a.
// This is is_mergeable_vma plus the file-offset contiguity of
// can_vma_merge_after (mm/mmap.c): equal permissions, flags and name, and for
// files consecutive offsets. Deviation: Linux also refuses to merge two
// anonymous VMAs that were both faulted in separately (different anon_vma);
// the emulator does not track faults, so such VMAs merge here.
func canMerge(a, b VMA) bool {
	if a.End != b.Start || a.Prot != b.Prot || a.Flags != b.Flags || a.Name != b.Name || a.File != b.File || a.ID != b.ID {
		return false
	}
	return a.Flags&FileBacked == 0 || b.Offset == a.Offset+a.Size()
}

// vmaIndex is the index of the first VMA ending above addr (find_vma).
func (as *AddressSpace) vmaIndex(addr uint64) int {
	return sort.Search(len(as.vmas), func(i int) bool { return as.vmas[i].End > addr })
}

// findVMA returns the index of the VMA containing addr.
func (as *AddressSpace) findVMA(addr uint64) (int, bool) {
	i := as.vmaIndex(addr)
	return i, i < len(as.vmas) && as.vmas[i].Start <= addr
}

// splitVMAAt makes addr a VMA boundary if it lies inside a VMA
// (__split_vma); the upper part of a file-backed VMA gets its file offset
// advanced.
func (as *AddressSpace) splitVMAAt(addr uint64) {
	i, ok := as.findVMA(addr)
	if !ok || as.vmas[i].Start == addr {
		return
	}
	lower, upper := as.vmas[i], as.vmas[i]
	lower.End, upper.Start = addr, addr
	if upper.Flags&FileBacked != 0 {
		upper.Offset += addr - lower.Start
	}
	as.vmas[i] = lower
	as.vmas = slices.Insert(as.vmas, i+1, upper)
}

// mergeWindow merges every mergeable pair of adjacent VMAs whose common
// boundary lies in [lo, hi] (vma_merge applied around a changed range).
func (as *AddressSpace) mergeWindow(lo, hi uint64) {
	i := sort.Search(len(as.vmas), func(i int) bool { return as.vmas[i].End >= lo })
	for i+1 < len(as.vmas) && as.vmas[i].End <= hi {
		if canMerge(as.vmas[i], as.vmas[i+1]) {
			as.vmas[i].End = as.vmas[i+1].End
			as.vmas = slices.Delete(as.vmas, i+1, i+2)
			continue
		}
		i++
	}
}

// addrRange is a half-open address range.
type addrRange struct{ start, end uint64 }

// mappedRuns returns the maximal mapped sub-ranges of [start,end).
func (as *AddressSpace) mappedRuns(start, end uint64) []addrRange {
	var runs []addrRange
	for i := as.vmaIndex(start); i < len(as.vmas) && as.vmas[i].Start < end; i++ {
		lo, hi := max(as.vmas[i].Start, start), min(as.vmas[i].End, end)
		if n := len(runs); n > 0 && runs[n-1].end == lo {
			runs[n-1].end = hi
		} else {
			runs = append(runs, addrRange{lo, hi})
		}
	}
	return runs
}

// mappedBytesIn counts the mapped bytes of [start,end).
func (as *AddressSpace) mappedBytesIn(start, end uint64) uint64 {
	var n uint64
	for _, r := range as.mappedRuns(start, end) {
		n += r.end - r.start
	}
	return n
}

// insertVMA adds v, which must not overlap any VMA, and merges it with its
// neighbours.
func (as *AddressSpace) insertVMA(v VMA) {
	i := as.vmaIndex(v.Start)
	as.vmas = slices.Insert(as.vmas, i, v)
	as.mergeWindow(v.Start, v.End)
}

// startGap is vm_start_gap (include/linux/mm.h): a growsdown VMA claims
// GuardGap bytes below its start for placement decisions.
func (as *AddressSpace) startGap(v VMA) uint64 {
	if v.Flags&GrowsDown == 0 {
		return v.Start
	}
	if v.Start < as.cfg.GuardGap {
		return 0
	}
	return v.Start - as.cfg.GuardGap
}

// Perms is the permission column of /proc/self/maps: "r-xp", "rw-s".
func (v VMA) Perms() string {
	if v.Flags&Shared != 0 {
		return v.Prot.String() + "s"
	}
	return v.Prot.String() + "p"
}
