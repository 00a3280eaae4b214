package kernel

// FDTable is a descriptor table (fs/file.c's files_struct): the numbers a
// task uses for its open file descriptions, each with its close-on-exec
// flag. Tasks created with CLONE_FILES share one table; others get a copy
// (clone.go). Descriptors are allocated lowest-free-first, as alloc_fd does.
type FDTable struct {
	refs  int
	slots []fdSlot
}

type fdSlot struct {
	fd      *FileDescription // nil: free
	cloexec bool
}

func newFDTable() *FDTable { return &FDTable{refs: 1} }

func (t *FDTable) incRef() *FDTable {
	t.refs++
	return t
}

// decRef drops one task's reference; the last one closes every descriptor.
func (t *FDTable) decRef() {
	t.refs--
	if t.refs > 0 {
		return
	}
	for i := range t.slots {
		if f := t.slots[i].fd; f != nil {
			t.slots[i].fd = nil
			f.DecRef()
		}
	}
}

// fork returns a copy of the table whose descriptors refer to the same
// open file descriptions (dup_fd).
func (t *FDTable) fork() *FDTable {
	n := &FDTable{refs: 1, slots: make([]fdSlot, len(t.slots))}
	copy(n.slots, t.slots)
	for _, s := range n.slots {
		if s.fd != nil {
			s.fd.IncRef()
		}
	}
	return n
}

// Get returns the description behind fd, or nil when fd is not open.
func (t *FDTable) Get(fd uint64) *FileDescription {
	if fd >= uint64(len(t.slots)) {
		return nil
	}
	return t.slots[fd].fd
}

// install puts f at the lowest free descriptor and returns it. The table
// takes over the caller's reference.
func (t *FDTable) install(f *FileDescription, cloexec bool) uint64 {
	for i := range t.slots {
		if t.slots[i].fd == nil {
			t.slots[i] = fdSlot{f, cloexec}
			return uint64(i)
		}
	}
	t.slots = append(t.slots, fdSlot{f, cloexec})
	return uint64(len(t.slots) - 1)
}

// remove closes fd, reporting whether it was open.
func (t *FDTable) remove(fd uint64) bool {
	f := t.Get(fd)
	if f == nil {
		return false
	}
	t.slots[fd] = fdSlot{}
	f.DecRef()
	return true
}

// lowestFree is the descriptor install would take now.
func (t *FDTable) lowestFree() uint64 {
	for i := range t.slots {
		if t.slots[i].fd == nil {
			return uint64(i)
		}
	}
	return uint64(len(t.slots))
}
