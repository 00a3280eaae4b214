package kernel

import "syscall"

// Open-file status and access flags (include/uapi/asm-generic/fcntl.h).
const (
	oReadOnly  = 0
	oWriteOnly = 1
	oReadWrite = 2
	oAccMode   = 3
	oCreat     = 0o100
	oAppend    = 0o2000
	oNonblock  = 0o4000
)

// FileDescription is an open file description (struct file): what open,
// pipe or socket created, shared by every descriptor dup'ed from it and by
// tasks sharing a descriptor table. It holds the access mode, the status
// flags and the position; what the file is and does is its FileImpl.
// Descriptions are reference counted: the last DecRef releases the impl.
type FileDescription struct {
	refs  int
	flags uint32 // O_ACCMODE and the status flags
	pos   int64  // the file position, for impls that have one
	impl  FileImpl
	// watchers are the epoll items on this description, dropped when it
	// is released (eventpoll_release).
	watchers []*epitem
}

func (f *FileDescription) addReleaseHook(it *epitem) { f.watchers = append(f.watchers, it) }

func (f *FileDescription) dropReleaseHook(it *epitem) {
	for i, o := range f.watchers {
		if o == it {
			f.watchers = append(f.watchers[:i], f.watchers[i+1:]...)
			return
		}
	}
}

// NewFileDescription returns a description of impl with one reference.
func NewFileDescription(impl FileImpl, flags uint32) *FileDescription {
	return &FileDescription{refs: 1, flags: flags, impl: impl}
}

// IncRef takes a reference.
func (f *FileDescription) IncRef() { f.refs++ }

// DecRef drops a reference; the last one releases the file.
func (f *FileDescription) DecRef() {
	f.refs--
	if f.refs == 0 {
		for _, it := range f.watchers {
			it.fileReleased()
		}
		f.watchers = nil
		f.impl.Release()
	}
}

// Impl is what the description refers to.
func (f *FileDescription) Impl() FileImpl { return f.impl }

// Flags are the access mode and status flags (F_GETFL).
func (f *FileDescription) Flags() uint32 { return f.flags }

func (f *FileDescription) readable() bool { return f.flags&oAccMode != oWriteOnly }
func (f *FileDescription) writable() bool { return f.flags&oAccMode != oReadOnly }

// FileImpl is what an open file description refers to: a file of the
// filesystem view, a pipe end, a standard stream, an event counter, a
// socket (gVisor's vfs.FileDescriptionImpl, reduced). Methods that a kind
// of file does not support return the errno Linux gives for it; FileDefaults
// supplies those.
type FileImpl interface {
	// Read reads at the description's position (or from the stream) and
	// advances it. EAGAIN means nothing is available yet: the syscall
	// layer blocks or returns it, as O_NONBLOCK says.
	Read(f *FileDescription, dst []byte) (int, syscall.Errno)
	// Write writes at the position (or to the stream); EAGAIN as for Read.
	Write(f *FileDescription, src []byte) (int, syscall.Errno)
	// ReadAt and WriteAt are pread and pwrite: ESPIPE for streams.
	ReadAt(f *FileDescription, dst []byte, off int64) (int, syscall.Errno)
	WriteAt(f *FileDescription, src []byte, off int64) (int, syscall.Errno)
	// Seek moves the position (lseek).
	Seek(f *FileDescription, off int64, whence int) (int64, syscall.Errno)
	// Stat describes the file.
	Stat() fileStat
	// Release frees what the file holds, after the last reference.
	Release()
}

// FileDefaults gives a FileImpl Linux's answers for what it does not do.
type FileDefaults struct{}

func (FileDefaults) Read(*FileDescription, []byte) (int, syscall.Errno)  { return 0, syscall.EINVAL }
func (FileDefaults) Write(*FileDescription, []byte) (int, syscall.Errno) { return 0, syscall.EINVAL }
func (FileDefaults) Seek(*FileDescription, int64, int) (int64, syscall.Errno) {
	return 0, syscall.ESPIPE
}
func (FileDefaults) ReadAt(*FileDescription, []byte, int64) (int, syscall.Errno) {
	return 0, syscall.ESPIPE
}
func (FileDefaults) WriteAt(*FileDescription, []byte, int64) (int, syscall.Errno) {
	return 0, syscall.ESPIPE
}
func (FileDefaults) Release() {}
