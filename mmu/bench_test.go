package mmu

import (
	"testing"
	"unsafe"
)

// nopBackend accepts everything, so benchmarks measure the address space's
// own work plus the calls.
type nopBackend struct{}

func (*nopBackend) MapPhys(uint64, uint64, unsafe.Pointer) error { return nil }
func (*nopBackend) Unmap(uint64, uint64) error                   { return nil }
func (*nopBackend) Protect(uint64, uint64, Prot) error           { return nil }
func (*nopBackend) InvalidateCode(uint64, uint64)                {}
func (*nopBackend) RevokeExec(uint64, uint64)                    {}

func benchSpace(b *testing.B) *AddressSpace {
	as, err := NewChecked(Config{})
	if err != nil {
		b.Fatal(err)
	}
	if err := as.Attach(&nopBackend{}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = as.Close() })
	// A typical static binary's layout: text, data, heap, a few mappings.
	for i := uint64(0); i < 16; i++ {
		if _, e := as.Mmap(0, 16*PageSize, ProtRead|ProtWrite, MapAnonymous|MapPrivate, ""); e != 0 {
			b.Fatal(e)
		}
		if _, e := as.Mmap(0, PageSize, ProtNone, MapAnonymous|MapPrivate, ""); e != 0 {
			b.Fatal(e)
		}
	}
	return as
}

// BenchmarkMmapMunmap is malloc-style churn: map 64 KiB, unmap it.
func BenchmarkMmapMunmap(b *testing.B) {
	as := benchSpace(b)
	for b.Loop() {
		a, e := as.Mmap(0, 64<<10, ProtRead|ProtWrite, MapAnonymous|MapPrivate, "")
		if e != 0 {
			b.Fatal(e)
		}
		if e := as.Munmap(a, 64<<10); e != 0 {
			b.Fatal(e)
		}
	}
}

// BenchmarkMprotectSplitMerge splits a VMA in three and merges it back.
func BenchmarkMprotectSplitMerge(b *testing.B) {
	as := benchSpace(b)
	a, _ := as.Mmap(0, 16*PageSize, ProtRead|ProtWrite, MapAnonymous|MapPrivate, "")
	for b.Loop() {
		as.Mprotect(a+4*PageSize, 4*PageSize, ProtRead)
		as.Mprotect(a+4*PageSize, 4*PageSize, ProtRead|ProtWrite)
	}
}

func BenchmarkRead4K(b *testing.B) {
	as := benchSpace(b)
	a, _ := as.Mmap(0, 1<<20, ProtRead|ProtWrite, MapAnonymous|MapPrivate, "")
	buf := make([]byte, 4096)
	b.SetBytes(4096)
	for b.Loop() {
		if err := as.Read(a+0x800, buf); err != nil { // straddles a page boundary
			b.Fatal(err)
		}
	}
}

func BenchmarkWrite4K(b *testing.B) {
	as := benchSpace(b)
	a, _ := as.Mmap(0, 1<<20, ProtRead|ProtWrite, MapAnonymous|MapPrivate, "")
	buf := make([]byte, 4096)
	b.SetBytes(4096)
	for b.Loop() {
		if err := as.Write(a+0x800, buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWrite4KExec writes into executable memory, which adds an
// invalidation per write.
func BenchmarkWrite4KExec(b *testing.B) {
	as := benchSpace(b)
	a, _ := as.Mmap(0, 1<<20, ProtRead|ProtWrite|ProtExec, MapAnonymous|MapPrivate, "")
	buf := make([]byte, 4096)
	b.SetBytes(4096)
	for b.Loop() {
		if err := as.Write(a+0x800, buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGrowStack grows a stack one page at a time over 8 MiB.
func BenchmarkGrowStack(b *testing.B) {
	for b.Loop() {
		as, err := NewChecked(Config{})
		if err != nil {
			b.Fatal(err)
		}
		if err := as.SetupStack(0x7ffffffff000, PageSize); err != nil {
			b.Fatal(err)
		}
		for a := uint64(0x7ffffffff000 - 2*PageSize); a >= 0x7ffffffff000-(8<<20); a -= PageSize {
			if !as.GrowStack(a) {
				b.Fatal("growth refused")
			}
		}
		_ = as.Close()
	}
}
