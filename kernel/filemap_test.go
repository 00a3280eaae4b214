package kernel

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/probesim/probesim/kernel/vfs"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	mapShared         = 0x01
	mapSharedValidate = 0x03
	mapSync           = 0x80000
	msSync            = 4
)

// withHostView gives the harness a view of a fresh host directory as its
// root (read-only: changes go to the overlay), with another one mounted
// read-write at /rw; it returns the host path of the latter.
func withHostView(t *testing.T) (harnessOption, string) {
	root, rw := t.TempDir(), t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(root, "rw"), 0o755))
	fs, err := vfs.New(vfs.Config{Root: root, Mounts: []vfs.Mount{{Host: rw, Guest: "/rw", RW: true}},
		UID: testUID, GID: testUID, HostUID: os.Getuid(), HostGID: os.Getgid()})
	require.NoError(t, err)
	return func(c *Config) { c.FS = fs }, rw
}

// fileWith creates a file of the view holding data and returns its
// descriptor, open for reading and writing.
func (h *harness) fileWith(path string, data []byte) uint64 {
	fd := h.call("open", h.str(path), oCreat|oReadWrite|oTrunc, 0o644)
	require.Less(h.t, fd, uint64(1<<20), "open %s", path)
	require.Equal(h.t, uint64(len(data)), h.call("write", fd, h.data(data), uint64(len(data))))
	return fd
}

// TestSharedFileMappingIsTheFile: with the page cache between the
// mappings and the file, a store through a MAP_SHARED mapping is read(2)
// at once, pwrite(2) is seen by the shared mapping and by a private page
// not yet written but not by one already written, msync and munmap put
// the bytes in the file, and what stays refused is Linux's refusal.
func TestSharedFileMappingIsTheFile(t *testing.T) {
	for _, arch := range arches {
		view, rwDir := withHostView(t)
		h := newHarness(t, arch, view)
		content := bytes.Repeat([]byte("abcdefgh"), 1024) // two pages
		fd := h.fileWith("/filemap", content)
		mm := "mmap"
		if h.arch == I386 {
			mm = "mmap2"
		}
		shared := h.call(mm, 0, 0x2000, protRead|protWrite, mapShared, fd, 0)
		require.Less(t, shared, uint64(1)<<47)
		priv := h.call(mm, 0, 0x2000, protRead|protWrite, mapPrivate, fd, 0)
		h.put(shared+10, []byte("SHARED"))
		buf := h.alloc(16)
		assert.Equal(t, uint64(6), h.call("pread64", fd, buf, 6, 10))
		assert.Equal(t, "SHARED", string(h.get(buf, 6)), "read(2) sees the store")
		assert.Equal(t, "SHARED", string(h.get(priv+10, 6)), "an unwritten private page is the cache's")

		h.put(priv+0x1000, []byte("mine"))
		assert.Equal(t, uint64(3), h.call("pwrite64", fd, h.data([]byte("PW1")), 3, 0x1000))
		assert.Equal(t, uint64(3), h.call("pwrite64", fd, h.data([]byte("PW0")), 3, 0))
		assert.Equal(t, "PW1", string(h.get(shared+0x1000, 3)), "the shared mapping sees pwrite")
		assert.Equal(t, "PW0", string(h.get(priv, 3)), "so does an unwritten private page")
		assert.Equal(t, "mine", string(h.get(priv+0x1000, 4)), "a written private page is its own")

		assert.Equal(t, uint64(0), h.call("msync", shared, 0x2000, msSync))
		assert.Equal(t, h.errRet(syscall.EINVAL), h.call("msync", shared+1, 0x1000, msSync))
		assert.Equal(t, uint64(0), h.call("munmap", shared, 0x2000))
		assert.Equal(t, uint64(0), h.call("munmap", priv, 0x2000))
		assert.Equal(t, uint64(16), h.call("pread64", fd, buf, 16, 0))
		assert.Equal(t, "PW0defghabSHARED", string(h.get(buf, 16)), "the file has every write, no private one")

		ro := h.call("open", h.str("/filemap"), oRdonly)
		assert.Equal(t, h.errRet(syscall.EACCES), h.call(mm, 0, 0x1000, protRead|protWrite, mapShared, ro, 0),
			"MAP_SHARED|PROT_WRITE needs a file open for writing")
		a := h.call(mm, 0, 0x1000, protRead, mapShared, ro, 0)
		require.Less(t, a, uint64(1)<<47)
		assert.Equal(t, h.errRet(syscall.EACCES), h.call("mprotect", a, 0x1000, protRead|protWrite), "no VM_MAYWRITE")
		assert.Equal(t, h.errRet(syscall.EOPNOTSUPP), h.call(mm, 0, 0x1000, protRead, mapSharedValidate|mapSync, fd, 0),
			"MAP_SYNC needs DAX")
		assert.Empty(t, h.k.unsupported, "nothing refused as unsupported")

		// Through an rw mount the stores reach the host file at msync,
		// only then.
		hfd := h.fileWith("/rw/host", content)
		a = h.call(mm, 0, 0x2000, protRead|protWrite, mapShared, hfd, 0)
		h.put(a+0x1000, []byte("HOST"))
		onHost, err := os.ReadFile(filepath.Join(rwDir, "host"))
		require.NoError(t, err)
		assert.Equal(t, content, onHost, "not yet")
		assert.Equal(t, uint64(0), h.call("msync", a, 0x2000, msSync))
		onHost, err = os.ReadFile(filepath.Join(rwDir, "host"))
		require.NoError(t, err)
		assert.Equal(t, "HOST", string(onHost[0x1000:0x1004]), "%v", arch)
	}
}
