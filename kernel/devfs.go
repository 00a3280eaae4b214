package kernel

import (
	"syscall"

	"github.com/probesim/probesim/kernel/vfs"
)

// /dev: an in-memory directory with the character devices a program may
// open (drivers/char/mem.c: null, zero, full; drivers/char/random.c:
// random, urandom), the standard-descriptor links and /dev/fd, and empty
// /dev/shm and /dev/pts. Randomness comes from the kernel's seeded
// generator, the stream getrandom uses. No host device is ever opened.

type devKind int

const (
	devNull devKind = iota
	devZero
	devFull
	devRandom
)

// devFile is an open memory or random device.
type devFile struct {
	FileDefaults
	k    *Kernel
	kind devKind
	fs   *vfs.FS
	n    *vfs.Node
}

func (d *devFile) setNode(fs *vfs.FS, n *vfs.Node) { d.fs, d.n = fs, n }
func (d *devFile) node() *vfs.Node                 { return d.n }
func (d *devFile) Stat() fileStat                  { return nodeStat(d.fs, d.n) }

func (d *devFile) Read(f *FileDescription, dst []byte) (int, syscall.Errno) {
	switch d.kind {
	case devNull:
		return 0, 0
	case devRandom:
		d.k.fillRandom(dst)
	default:
		clear(dst)
	}
	return len(dst), 0
}

func (d *devFile) ReadAt(f *FileDescription, dst []byte, off int64) (int, syscall.Errno) {
	return d.Read(f, dst)
}

func (d *devFile) Write(f *FileDescription, src []byte) (int, syscall.Errno) {
	if d.kind == devFull {
		return 0, syscall.ENOSPC
	}
	return len(src), 0
}

func (d *devFile) WriteAt(f *FileDescription, src []byte, off int64) (int, syscall.Errno) {
	return d.Write(f, src)
}

// Seek: the memory devices accept any position and stay where they are
// (null_lseek, memory_lseek).
func (d *devFile) Seek(f *FileDescription, off int64, whence int) (int64, syscall.Errno) {
	if whence > 2 {
		return 0, syscall.EINVAL
	}
	f.pos = 0
	return 0, 0
}

// fillRandom fills b from the seeded generator.
func (k *Kernel) fillRandom(b []byte) {
	for i := range b {
		b[i] = byte(k.rng.Uint32())
	}
}

// mkdev is the device number of major:minor (new_encode_dev).
func mkdev(major, minor uint64) uint64 { return minor&0xff | major<<8 | (minor&^0xff)<<12 }

// buildDev makes the /dev directory.
func (k *Kernel) buildDev() *vfs.Node {
	fs := k.fs
	dev := fs.NewDir("dev", 0o755, vfs.DevDev)
	for _, d := range []struct {
		name  string
		minor uint64
		kind  devKind
	}{{"null", 3, devNull}, {"zero", 5, devZero}, {"full", 7, devFull}, {"random", 8, devRandom}, {"urandom", 9, devRandom}} {
		kind := d.kind
		dev.AddChild(fs.NewDevice(d.name, 0o666, mkdev(1, d.minor), func() (any, syscall.Errno) {
			return &devFile{k: k, kind: kind}, 0
		}))
	}
	// No controlling terminal: /dev/tty is ENXIO, as for a daemon.
	dev.AddChild(fs.NewDevice("tty", 0o666, mkdev(5, 0), func() (any, syscall.Errno) { return nil, syscall.ENXIO }))
	for i, name := range []string{"stdin", "stdout", "stderr"} {
		target := "/proc/self/fd/" + itoa(i)
		dev.AddChild(fs.NewLink(name, vfs.DevDev, func() string { return target }))
	}
	dev.AddChild(fs.NewLink("fd", vfs.DevDev, func() string { return "/proc/self/fd" }))
	dev.AddChild(fs.NewDir("shm", 0o1777, vfs.DevTmpfs))
	dev.AddChild(fs.NewDir("pts", 0o755, vfs.DevDev))
	return dev
}
