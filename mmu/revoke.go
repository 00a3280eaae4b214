package mmu

import (
	"slices"
	"sort"
)

// Revoked execute permission.
//
// When a range loses execute permission, the backends are told with
// RevokeExec, and they may keep their translations of it as long as none
// runs while the range is not executable (emu keeps them fenced, so that
// the NX flip of a probe's out-of-line step does not cost a retranslation
// per hit). Those translations are only valid while the bytes under them
// do not change, so until the range is executable again or its
// translations are dropped, the address space reports host-side writes into
// it as it does for executable pages (invariant 6). as.revoked is that set
// of ranges: sorted, non-overlapping, adjacent ranges merged.

// revokeLocked tells every backend that [start,end) loses execute
// permission, before the Protect that removes it.
func (as *AddressSpace) revokeLocked(start, end uint64) {
	as.stats.ExecRevocations++
	for _, b := range as.backends {
		b.RevokeExec(start, end-start)
	}
	as.revoked = addRange(as.revoked, start, end)
}

// revokedOverlaps reports whether [start,end) meets a revoked range.
func (as *AddressSpace) revokedOverlaps(start, end uint64) bool {
	rs := as.revoked
	i := sort.Search(len(rs), func(i int) bool { return rs[i].end > start })
	return i < len(rs) && rs[i].start < end
}

// addRange inserts [start,end) into the sorted, merged set rs.
func addRange(rs []addrRange, start, end uint64) []addrRange {
	i := sort.Search(len(rs), func(i int) bool { return rs[i].end >= start })
	j := i
	for j < len(rs) && rs[j].start <= end {
		start, end = min(start, rs[j].start), max(end, rs[j].end)
		j++
	}
	return slices.Replace(rs, i, j, addrRange{start, end})
}

// cutRange removes [start,end) from the sorted, merged set rs.
func cutRange(rs []addrRange, start, end uint64) []addrRange {
	i := sort.Search(len(rs), func(i int) bool { return rs[i].end > start })
	if i == len(rs) || rs[i].start >= end {
		return rs
	}
	var keep []addrRange
	j := i
	for ; j < len(rs) && rs[j].start < end; j++ {
		if rs[j].start < start {
			keep = append(keep, addrRange{rs[j].start, start})
		}
		if end < rs[j].end {
			keep = append(keep, addrRange{end, rs[j].end})
		}
	}
	return slices.Replace(rs, i, j, keep...)
}
