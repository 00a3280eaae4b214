package probesim_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim"
)

// hostTree makes a directory for hostwrite to change and returns it with
// a snapshot function of its whole state (names, modes, contents, link
// targets).
func hostTree(t *testing.T) (string, func() map[string]string) {
	dir := t.TempDir()
	for name, body := range map[string]string{"keep.txt": "keep\n", "big.txt": "0123456789\n",
		"old.txt": "old\n", "gone.txt": "gone\n"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
	}
	require.NoError(t, os.Mkdir(filepath.Join(dir, "emptydir"), 0o755))
	return dir, func() map[string]string {
		out := map[string]string{}
		require.NoError(t, filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
			require.NoError(t, err)
			rel, _ := filepath.Rel(dir, p)
			v := info.Mode().String()
			switch {
			case info.Mode()&os.ModeSymlink != 0:
				target, _ := os.Readlink(p)
				v += " -> " + target
			case info.Mode().IsRegular():
				b, _ := os.ReadFile(p)
				v += ": " + string(b)
			}
			out[rel] = v
			return nil
		}))
		return out
	}
}

func buildHostwrite(t *testing.T) string {
	bin := filepath.Join(t.TempDir(), "hostwrite")
	out, err := exec.Command("gcc", "-static", "-O2", "-o", bin, "testdata/hostwrite.c").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

// TestHostIsNeverWrittenWithoutRW: a guest that creates, writes, renames,
// removes and re-permissions everything in a host directory succeeds in
// its view, and the host directory stays exactly as it was, whether the
// directory is part of the default view, the --root, or a read-only
// mount; a read-write mount makes the same changes on the host.
func TestHostIsNeverWrittenWithoutRW(t *testing.T) {
	bin := buildHostwrite(t)
	img, err := os.ReadFile(bin)
	require.NoError(t, err)
	run := func(cfg probesim.Config, dirArg string) string {
		var out bytes.Buffer
		cfg.Program, cfg.Image, cfg.Args, cfg.Stdout = "/probesim/hostwrite", img, []string{dirArg}, &out
		res, err := probesim.Run(t.Context(), cfg)
		require.NoError(t, err)
		require.Equal(t, 0, res.Report.ExitStatus, "%s%s", out.String(), res.Report.Stderr)
		return out.String()
	}
	for _, tc := range []struct {
		name string
		cfg  func(dir string) (probesim.Config, string)
	}{
		{"default view", func(dir string) (probesim.Config, string) { return probesim.Config{}, dir }},
		{"root", func(dir string) (probesim.Config, string) { return probesim.Config{Root: dir}, "/" }},
		{"ro mount", func(dir string) (probesim.Config, string) {
			return probesim.Config{Mounts: []string{dir + ":/data:ro"}}, "/data"
		}},
		{"mount without a mode", func(dir string) (probesim.Config, string) {
			return probesim.Config{Mounts: []string{dir + ":/data"}}, "/data"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, snap := hostTree(t)
			before := snap()
			cfg, arg := tc.cfg(dir)
			out := run(cfg, arg)
			assert.Contains(t, out, "keep.txt now: keep\nmore\n")
			assert.Equal(t, before, snap(), "the host directory changed")
		})
	}
	t.Run("rw mount", func(t *testing.T) {
		dir, snap := hostTree(t)
		before := snap()
		run(probesim.Config{Mounts: []string{dir + ":/data:rw"}}, "/data")
		after := snap()
		assert.NotEqual(t, before, after)
		assert.Equal(t, "-rw-r--r--: new\n", after["new.txt"])
		assert.Equal(t, "-rw-------: keep\nmore\n", after["keep.txt"])
		assert.Equal(t, "-rw-r--r--: 0", after["big.txt"])
		assert.Equal(t, "-rw-r--r--: old\n", after["renamed.txt"])
		assert.Equal(t, "Lrwxrwxrwx -> keep.txt", after["link"])
		assert.Equal(t, "drwxr-xr-x", after["made"])
		for _, gone := range []string{"old.txt", "gone.txt", "emptydir"} {
			assert.NotContains(t, after, gone)
		}
	})
}
