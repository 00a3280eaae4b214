package vfs

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const epoch = int64(1126742400) * 1e9

// hostTree makes a host directory with a few files and returns its path
// and a snapshot function of everything in it (to prove nothing changed).
func hostTree(t *testing.T) (string, func() map[string]string) {
	dir := t.TempDir()
	must := func(err error) { require.NoError(t, err) }
	must(os.MkdirAll(filepath.Join(dir, "etc"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "etc", "hosts"), []byte("127.0.0.1 localhost\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "etc", "b"), []byte("b"), 0o600))
	must(os.MkdirAll(filepath.Join(dir, "data", "sub"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "data", "sub", "f"), []byte("deep"), 0o644))
	must(os.Symlink("../etc/hosts", filepath.Join(dir, "data", "link")))
	must(os.Mkdir(filepath.Join(dir, "tmp"), 0o777))
	must(os.Chmod(filepath.Join(dir, "tmp"), 0o777|os.ModeSticky))
	snap := func() map[string]string {
		out := map[string]string{}
		filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
			require.NoError(t, err)
			rel, _ := filepath.Rel(dir, p)
			v := info.Mode().String()
			if info.Mode().IsRegular() {
				b, _ := os.ReadFile(p)
				v += ":" + string(b)
			}
			out[rel] = v
			return nil
		})
		return out
	}
	return dir, snap
}

func newView(t *testing.T, cfg Config) *FS {
	t.Helper()
	cfg.Epoch = epoch
	cfg.UID, cfg.GID = 1000, 1000
	cfg.HostUID, cfg.HostGID = os.Getuid(), os.Getgid()
	f, err := New(cfg)
	require.NoError(t, err)
	return f
}

func lookup(t *testing.T, f *FS, p string) *Node {
	t.Helper()
	n, e := f.Lookup(nil, p, true)
	require.Zero(t, e, "lookup %s: %v", p, e)
	return n
}

func TestViewOfAHostRootIsReadOnlyWithAnOverlay(t *testing.T) {
	root, snap := hostTree(t)
	before := snap()
	f := newView(t, Config{Root: root})

	hosts := lookup(t, f, "/etc/hosts")
	buf := make([]byte, 64)
	n, e := f.ReadAt(hosts, buf, 0)
	require.Zero(t, e)
	assert.Equal(t, "127.0.0.1 localhost\n", string(buf[:n]))
	sum := sha256.Sum256([]byte("127.0.0.1 localhost\n"))
	assert.Equal(t, []HostRead{{Path: "/etc/hosts", Size: 20, SHA256: hex.EncodeToString(sum[:])}}, f.HostReads())
	assert.Equal(t, "127.0.0.1 localhost\n", string(buf[:n]))

	// Symlinks resolve inside the view.
	assert.Same(t, hosts, lookup(t, f, "/data/link"))
	l, e := f.Lookup(nil, "/data/link", false)
	require.Zero(t, e)
	target, _ := l.Readlink()
	assert.Equal(t, "../etc/hosts", target)
	assert.Same(t, f.Root(), lookup(t, f, "/../../.."), ".. of the root is the root")

	// Writes, creations, renames and removals change the view only.
	_, e = f.WriteAt(hosts, []byte("10.0.0.1"), 0)
	require.Zero(t, e)
	etc := lookup(t, f, "/etc")
	nf, e := f.Create(etc, "new", 0o644)
	require.Zero(t, e)
	_, e = f.WriteAt(nf, []byte("fresh"), 0)
	require.Zero(t, e)
	require.Zero(t, f.Rename(etc, "new", lookup(t, f, "/data"), "moved", 0))
	require.Zero(t, f.Unlink(lookup(t, f, "/data/sub"), "f"))
	require.Zero(t, f.Rmdir(lookup(t, f, "/data"), "sub"))
	_, e = f.Mkdir(f.Root(), "made", 0o755)
	require.Zero(t, e)
	_, e = f.Symlink(f.Root(), "sl", "/etc")
	require.Zero(t, e)
	require.Zero(t, f.Truncate(lookup(t, f, "/etc/b"), 0))

	n, _ = f.ReadAt(lookup(t, f, "/etc/hosts"), buf, 0)
	assert.Equal(t, "10.0.0.11 localhost\n", string(buf[:n]), "eight bytes overwritten")
	n, _ = f.ReadAt(lookup(t, f, "/data/moved"), buf, 0)
	assert.Equal(t, "fresh", string(buf[:n]))
	_, e = f.Lookup(nil, "/data/sub/f", true)
	assert.Equal(t, syscall.ENOENT, e)
	assert.Same(t, etc, lookup(t, f, "/sl"))

	ents, e := f.Root().Entries()
	require.Zero(t, e)
	var names []string
	for _, d := range ents {
		names = append(names, d.Name)
	}
	assert.Equal(t, []string{"data", "etc", "made", "sl", "tmp"}, names, "sorted, overlay included")
	assert.Equal(t, before, snap(), "the host is unchanged")
}

func TestReadWriteMountChangesTheHost(t *testing.T) {
	root, _ := hostTree(t)
	shared := t.TempDir()
	f := newView(t, Config{Root: root, Mounts: []Mount{{Host: shared, Guest: "/data/out", RW: true}}})
	out := lookup(t, f, "/data/out")
	n, e := f.Create(out, "result", 0o644)
	require.Zero(t, e)
	_, e = f.WriteAt(n, []byte("written"), 0)
	require.Zero(t, e)
	d, e := f.Mkdir(out, "d", 0o755)
	require.Zero(t, e)
	require.Zero(t, f.Rename(out, "result", d, "r2", 0))
	b, err := os.ReadFile(filepath.Join(shared, "d", "r2"))
	require.NoError(t, err)
	assert.Equal(t, "written", string(b))
	assert.Equal(t, syscall.EXDEV, f.Rename(out, "d", f.Root(), "d", 0), "across mounts")
}

func TestPermissionsAndOwners(t *testing.T) {
	root, _ := hostTree(t)
	f := newView(t, Config{Root: root})
	// The invoking user's files are the guest's own.
	assert.Equal(t, uint32(1000), f.Stat(lookup(t, f, "/etc/b")).UID)
	tmp := lookup(t, f, "/tmp")
	assert.Equal(t, uint32(S_IFDIR|0o1777), f.Stat(tmp).Mode)
	tmp.uid = 0 // as the host's /tmp is root's

	n, e := f.Create(tmp, "ro", 0o400)
	require.Zero(t, e)
	assert.Zero(t, f.Access(n, mayRead))
	assert.Equal(t, syscall.EACCES, f.Access(n, mayWrite))
	assert.Equal(t, syscall.EACCES, f.Access(n, mayExec))
	n.uid = 0 // someone else's file in a sticky directory
	assert.Equal(t, syscall.EPERM, f.Unlink(tmp, "ro"))
	assert.Equal(t, syscall.EACCES, f.Access(n, mayRead), "other bits")
	_, e = f.Create(tmp, "ro", 0o600)
	assert.Equal(t, syscall.EEXIST, e)
	locked, e := f.Mkdir(tmp, "locked", 0o500)
	require.Zero(t, e)
	_, e = f.Create(locked, "x", 0o600)
	assert.Equal(t, syscall.EACCES, e)
	_, e = f.Lookup(nil, "/tmp/locked/x", true)
	assert.Equal(t, syscall.ENOENT, e)
	require.Zero(t, f.Chmod(locked, 0o000))
	_, e = f.Lookup(nil, "/tmp/locked/x", true)
	assert.Equal(t, syscall.EACCES, e, "no search permission")
}

func TestInodesAreDeterministic(t *testing.T) {
	root, _ := hostTree(t)
	a, b := newView(t, Config{Root: root}), newView(t, Config{Root: root})
	for _, p := range []string{"/etc/hosts", "/data/sub/f", "/data", "/tmp"} {
		na, nb := lookup(t, a, p), lookup(t, b, p)
		assert.Equal(t, na.Ino(), nb.Ino(), p)
		assert.Equal(t, epoch, a.Stat(na).Mtime, p)
	}
	assert.NotEqual(t, lookup(t, a, "/etc/hosts").Ino(), lookup(t, a, "/etc/b").Ino())
}

func TestResolutionErrors(t *testing.T) {
	root, _ := hostTree(t)
	f := newView(t, Config{Root: root})
	for p, want := range map[string]syscall.Errno{
		"":                              syscall.ENOENT,
		"/nope":                         syscall.ENOENT,
		"/etc/hosts/x":                  syscall.ENOTDIR,
		"/etc/hosts/":                   syscall.ENOTDIR,
		"/" + string(make([]byte, 300)): syscall.ENAMETOOLONG,
	} {
		_, e := f.Lookup(nil, p, true)
		assert.Equal(t, want, e, "%q", p)
	}
	_, e := f.Symlink(f.Root(), "loop", "/loop")
	require.Zero(t, e)
	_, e = f.Lookup(nil, "/loop", true)
	assert.Equal(t, syscall.ELOOP, e)
	dir, last, trailing, e := f.LookupParent(nil, "/data/sub/")
	require.Zero(t, e)
	assert.Equal(t, "sub", last)
	assert.True(t, trailing)
	assert.Equal(t, "/data", dir.Path())
	assert.Equal(t, syscall.EINVAL, f.Rename(f.Root(), "data", lookup(t, f, "/data/sub"), "x", 0), "into itself")
	assert.Equal(t, syscall.ENOTEMPTY, f.Rmdir(f.Root(), "data"))
}

func TestBadConfigurations(t *testing.T) {
	root, _ := hostTree(t)
	file := filepath.Join(root, "etc", "hosts")
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Root: filepath.Join(root, "missing")}, "root: " + filepath.Join(root, "missing") + ": no such directory"},
		{Config{Root: file}, "root: " + file + ": not a directory"},
		{Config{Root: root, Mounts: []Mount{{Host: filepath.Join(root, "x"), Guest: "/x"}}}, "mount: " + filepath.Join(root, "x") + ": no such directory"},
		{Config{Root: root, Mounts: []Mount{{Host: root, Guest: "rel"}}}, "mount: target rel: outside the view (want an absolute path without . or ..)"},
		{Config{Root: root, Mounts: []Mount{{Host: root, Guest: "/a/../.."}}}, "mount: target /a/../..: outside the view (want an absolute path without . or ..)"},
		{Config{Root: root, Mounts: []Mount{{Host: root, Guest: "/etc/hosts/x"}}}, "mount: target /etc/hosts/x: /etc/hosts is not a directory in the view"},
	} {
		_, err := New(tc.cfg)
		require.Error(t, err)
		assert.Equal(t, tc.want, err.Error())
	}
	for _, s := range []string{"a", ":b", "a:b:rx", "a:b:c:d"} {
		_, err := ParseMount(s)
		assert.Error(t, err, s)
	}
	m, err := ParseMount("/h:/g:rw")
	require.NoError(t, err)
	assert.Equal(t, Mount{Host: "/h", Guest: "/g", RW: true}, m)
}
