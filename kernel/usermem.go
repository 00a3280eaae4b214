package kernel

import (
	"encoding/binary"
	"syscall"
)

// Accessors for guest memory with copy_from_user/copy_to_user semantics: an
// unmapped or inaccessible address is EFAULT.

func (k *Kernel) readBytes(addr uint64, n int) ([]byte, syscall.Errno) {
	b := make([]byte, n)
	if err := k.mm().Read(addr, b); err != nil {
		return nil, syscall.EFAULT
	}
	return b, 0
}

func (k *Kernel) writeBytes(addr uint64, b []byte) syscall.Errno {
	if err := k.mm().Write(addr, b); err != nil {
		return syscall.EFAULT
	}
	return 0
}

// readWord reads a C long of the guest ABI.
func (k *Kernel) readWord(addr uint64) (uint64, syscall.Errno) {
	n := k.cfg.Arch.wordSize()
	b, e := k.readBytes(addr, n)
	if e != 0 {
		return 0, e
	}
	if n == 4 {
		return uint64(binary.LittleEndian.Uint32(b)), 0
	}
	return binary.LittleEndian.Uint64(b), 0
}

func (k *Kernel) readU32(addr uint64) (uint32, syscall.Errno) {
	b, e := k.readBytes(addr, 4)
	if e != 0 {
		return 0, e
	}
	return binary.LittleEndian.Uint32(b), 0
}

func (k *Kernel) readU64(addr uint64) (uint64, syscall.Errno) {
	b, e := k.readBytes(addr, 8)
	if e != 0 {
		return 0, e
	}
	return binary.LittleEndian.Uint64(b), 0
}

// readPath reads a NUL-terminated path (PATH_MAX bytes at most).
func (k *Kernel) readPath(addr uint64) (string, syscall.Errno) {
	s, err := k.mm().ReadString(addr, 4096)
	if err != nil {
		return "", syscall.EFAULT
	}
	return s, 0
}

// structBuf builds a little-endian C structure image.
type structBuf struct{ b []byte }

func newStruct(size int) *structBuf { return &structBuf{b: make([]byte, size)} }

func (s *structBuf) u16(off int, v uint16) { binary.LittleEndian.PutUint16(s.b[off:], v) }
func (s *structBuf) u32(off int, v uint32) { binary.LittleEndian.PutUint32(s.b[off:], v) }
func (s *structBuf) u64(off int, v uint64) { binary.LittleEndian.PutUint64(s.b[off:], v) }

// word stores a C long of the given ABI.
func (s *structBuf) word(a Arch, off int, v uint64) {
	if a == I386 {
		s.u32(off, uint32(v))
	} else {
		s.u64(off, v)
	}
}
