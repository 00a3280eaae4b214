package kernel

import (
	"syscall"

	"github.com/probesim/probesim/kernel/vfs"
	"github.com/probesim/probesim/mmu"
)

const (
	mapAnonymous = 0x20
	protMask     = 0x7        // PROT_READ|PROT_WRITE|PROT_EXEC
	protSem      = 0x8        // accepted and ignored, as on x86
	protGrowsDn  = 0x01000000 // PROT_GROWSDOWN
	protGrowsUp  = 0x02000000 // PROT_GROWSUP
)

// TLB shootdowns: a syscall that takes away or changes translations other
// vCPUs may cache (munmap, mprotect, madvise(MADV_DONTNEED/MADV_FREE), a
// shrinking brk) ends with one, as flush_tlb_mm_range does.

func sysBrk(k *Kernel, t *Task, a Args) (uint64, Result) {
	_, before := k.mm().BrkRange()
	v := k.mm().Brk(a[0])
	if _, after := k.mm().BrkRange(); after < before {
		k.sched.TLBShootdown()
	}
	return okv(v)
}

// mmap is the common body of mmap (x86-64), mmap2 and old_mmap (i386).
// A regular file of the view maps through the page cache (mmu.MmapFile):
// privately (copy on write per address space) or shared, writable when
// the file was opened for writing, its stores reaching the view (the
// overlay, or the host through an rw mount) at msync, fsync and the last
// unmap; /dev/zero maps as anonymous memory. Other files (procfs, pipes,
// the standard streams) cannot be mapped (ENODEV), as on Linux.
func (k *Kernel) mmap(t *Task, addr, length, prot, flags, fd, off uint64) (uint64, Result) {
	if prot&^uint64(protMask|protSem) != 0 {
		return fail(syscall.EINVAL)
	}
	if off&0xfff != 0 {
		return fail(syscall.EINVAL)
	}
	if flags&mapAnonymous == 0 {
		return k.mmapFile(t, addr, length, prot, flags, fd, off)
	}
	v, e := k.mm().Mmap(addr, length, mmu.Prot(prot&protMask), uint32(flags), "")
	if e != 0 {
		return fail(e)
	}
	return okv(v)
}

func sysMmap(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.mmap(t, a[0], a[1], a[2], a[3], a[4], a[5])
}

// sysMmap2 is i386 mmap2, whose offset is in 4096-byte units.
func sysMmap2(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.mmap(t, a[0], a[1], a[2], a[3], a[4], a[5]<<12)
}

// sysOldMmap is i386 old_mmap, which takes its six arguments in memory.
func sysOldMmap(k *Kernel, t *Task, a Args) (uint64, Result) {
	v, e := k.argBlock32(a[0], 6)
	if e != 0 {
		return fail(e)
	}
	return k.mmap(t, v[0], v[1], v[2], v[3], v[4], v[5])
}

// argBlock32 reads n 32-bit arguments an old i386 syscall takes in memory.
func (k *Kernel) argBlock32(addr uint64, n int) ([]uint64, syscall.Errno) {
	v := make([]uint64, n)
	for i := range v {
		w, e := k.readU32(addr + uint64(4*i))
		if e != 0 {
			return nil, e
		}
		v[i] = uint64(w)
	}
	return v, 0
}

func sysMunmap(k *Kernel, t *Task, a Args) (uint64, Result) {
	if e := k.mm().Munmap(a[0], a[1]); e != 0 {
		return fail(e)
	}
	k.sched.TLBShootdown()
	return ok0()
}

// sysMprotect accepts PROT_GROWSDOWN by ignoring it: probesim applies the
// change to the named range only (a documented simplification of
// mm/mprotect.c, which would extend it to the start of the stack VMA).
func sysMprotect(k *Kernel, t *Task, a Args) (uint64, Result) {
	prot := a[2]
	if prot&protGrowsDn != 0 && prot&protGrowsUp != 0 {
		return fail(syscall.EINVAL)
	}
	prot &^= protGrowsDn | protSem
	if prot&^uint64(protMask) != 0 {
		return fail(syscall.EINVAL)
	}
	if e := k.mm().Mprotect(a[0], a[1], mmu.Prot(prot)); e != 0 {
		return fail(e)
	}
	k.sched.TLBShootdown()
	return ok0()
}

func sysMadvise(k *Kernel, t *Task, a Args) (uint64, Result) {
	if e := k.mm().Madvise(a[0], a[1], int(a[2])); e != 0 {
		return fail(e)
	}
	const madvDontneed, madvFree = 4, 8
	if a[2] == madvDontneed || a[2] == madvFree {
		k.sched.TLBShootdown()
	}
	return ok0()
}

// mmapFile maps the file open at fd (do_mmap's file half).
func (k *Kernel) mmapFile(t *Task, addr, length, prot, flags, fd, off uint64) (uint64, Result) {
	f := t.files.Get(fd)
	if f == nil {
		return fail(syscall.EBADF)
	}
	if d, ok := f.impl.(*devFile); ok && d.kind == devZero {
		v, e := k.mm().Mmap(addr, length, mmu.Prot(prot&protMask), uint32(flags)|mapAnonymous, "")
		return k.mmapResult(v, e)
	}
	r, ok := f.impl.(*regularFile)
	if !ok {
		return fail(syscall.ENODEV)
	}
	if !f.readable() {
		return fail(syscall.EACCES)
	}
	mt := flags & mmu.MapType
	shared := mt == mmu.MapShared || mt == mmu.MapSharedValidate
	if shared && prot&uint64(mmu.ProtWrite) != 0 && !f.writable() {
		return fail(syscall.EACCES)
	}
	// MAP_SHARED_VALIDATE refuses flags the file does not support
	// (do_mmap: LEGACY_MAP_MASK plus mmap_supported_flags); MAP_SYNC
	// needs a DAX file, which the view never is.
	if mt == mmu.MapSharedValidate && flags&mmu.MapSync != 0 {
		return fail(syscall.EOPNOTSUPP)
	}
	v, e := k.mm().MmapFile(addr, length, mmu.Prot(prot&protMask), uint32(flags), nodePages{k.fs, r.n}, off, r.n.Path(), f.writable())
	if e == 0 && prot&uint64(mmu.ProtExec) != 0 {
		k.NoteMappedObject(r.n)
	}
	return k.mmapResult(v, e)
}

// NoteMappedObject records a file mapped executable (a shared library
// mapped by ld.so, or the interpreter the loader mapped): the report's
// libraries, in the order first mapped.
func (k *Kernel) NoteMappedObject(n *vfs.Node) {
	id := ViewFileID(k.fs, n)
	for _, o := range k.objects {
		if o.ID == id {
			return
		}
	}
	k.objects = append(k.objects, MappedObject{Path: n.Path(), ID: id, node: n})
}

// MappedObject is a file the guest mapped executable.
type MappedObject struct {
	Path string // its path in the view when first mapped
	ID   mmu.FileID
	node *vfs.Node
}

// MappedObjects returns the files mapped executable through mmap, in the
// order first mapped, with the SHA-256 of each one's contents now.
func (k *Kernel) MappedObjects() (objs []MappedObject, sums []string) {
	for _, o := range k.objects {
		objs = append(objs, o)
		sums = append(sums, k.fs.SHA256(o.node))
	}
	return objs, sums
}

func (k *Kernel) mmapResult(v uint64, e syscall.Errno) (uint64, Result) {
	if e != 0 {
		return fail(e)
	}
	return okv(v)
}

// nodePages is a mapped file of the view (an mmu.WritableFile): the page
// cache's key (one node, one file) and where its pages are read from and
// written back to, straight to the view, under the cache.
type nodePages struct {
	fs *vfs.FS
	n  *vfs.Node
}

// FileID is the node's identity in the view, for /proc/self/maps and
// for uprobes keyed by file.
func (p nodePages) FileID() mmu.FileID { return ViewFileID(p.fs, p.n) }

// ViewFileID is the identity of a file of the view as a mapping shows it:
// the view's device and inode numbers.
func ViewFileID(fs *vfs.FS, n *vfs.Node) mmu.FileID {
	return mmu.FileID{Dev: fs.Stat(n).Dev, Ino: n.Ino()}
}

func (p nodePages) ReadAt(b []byte, off int64) int {
	n, _ := p.fs.ReadAt(p.n, b, off)
	return n
}

func (p nodePages) WriteAt(b []byte, off int64) int {
	n, _ := p.fs.WriteAt(p.n, b, off)
	return n
}

func (p nodePages) Size() int64 { return p.n.Size() }

// sysMsync is msync(2): the range's dirty shared file pages are written
// back (mmu.Msync).
func sysMsync(k *Kernel, t *Task, a Args) (uint64, Result) {
	if e := k.mm().Msync(a[0], a[1], int(a[2])); e != 0 {
		return fail(e)
	}
	return ok0()
}

// File I/O under the page cache. A regular file's bytes that some mapping
// holds are the page cache's (mmu.PageCache): read(2) overlays them on
// what the view has, write(2) and truncation change them too, so stores
// through MAP_SHARED mappings are read back at once and write(2) is seen
// by every mapping whose page is still the cache's, as on Linux.

func (k *Kernel) fileRead(fs *vfs.FS, n *vfs.Node, dst []byte, off int64) (int, syscall.Errno) {
	m, e := fs.ReadAt(n, dst, off)
	if m > 0 {
		k.mm().PageCache().ReadAt(nodePages{fs, n}, dst[:m], off)
	}
	return m, e
}

func (k *Kernel) fileWrite(fs *vfs.FS, n *vfs.Node, src []byte, off int64) (int, syscall.Errno) {
	m, e := fs.WriteAt(n, src, off)
	if m > 0 {
		f := nodePages{fs, n}
		k.mm().FileChanged(f, k.mm().PageCache().WriteAt(f, src[:m], off))
	}
	return m, e
}

func (k *Kernel) fileTruncate(fs *vfs.FS, n *vfs.Node, size int64) syscall.Errno {
	if e := fs.Truncate(n, size); e != 0 {
		return e
	}
	f := nodePages{fs, n}
	k.mm().FileChanged(f, k.mm().PageCache().Truncate(f, size))
	return 0
}
