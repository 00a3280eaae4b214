package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCalibrateBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"calibrate"}, "probesim: calibrate: --out FILE is required\n"},
		{[]string{"calibrate", "--out", "x.json", "--repeat", "0"}, "probesim: invalid argument 0 for --repeat: want 1 to 1000\n"},
		{[]string{"calibrate", "--out", "x.json", "--cpus", "-1"}, "probesim: invalid argument -1 for --cpus: want 0 or more\n"},
		{[]string{"calibrate", "--out", "x.json", "--cpus", "4096"}, "probesim: calibrate: --cpus 4096: this process may run on "},
		{[]string{"calibrate", "extra"}, "probesim: unknown command \"extra\" for \"probesim calibrate\"\n"},
	} {
		r := cli(t, c.args...)
		require.Equal(t, exitUsage, r.status, "%q: %s", c.args, r.stderr)
		require.True(t, strings.HasPrefix(string(r.stderr), c.want), "%q: %s", c.args, r.stderr)
		require.Equal(t, 1, strings.Count(string(r.stderr), "\n"), "%q: %s", c.args, r.stderr)
	}
}

// calibHelpers lists the running processes whose executable is calibrate's
// embedded helper (a memfd named probesim-calib).
func calibHelpers(t *testing.T) []string {
	t.Helper()
	exes, err := filepath.Glob("/proc/[0-9]*/exe")
	require.NoError(t, err)
	var out []string
	for _, e := range exes {
		if target, err := os.Readlink(e); err == nil && strings.Contains(target, "probesim-calib") {
			out = append(out, e)
		}
	}
	return out
}

// SIGINT in the middle of a calibration: one line, status 130, no profile
// written, and no helper process left (uprobes are owned by descriptors
// that die with the process, see calibrate/uprobe.go).
func TestCalibrateInterrupted(t *testing.T) {
	require.Empty(t, calibHelpers(t), "a helper of another run is alive")
	out := filepath.Join(t.TempDir(), "host.json")
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, probesimBin, "calibrate", "--quiet", "--repeat", "50", "--out", out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	for len(calibHelpers(t)) == 0 {
		require.NoError(t, ctx.Err(), "calibrate never started a helper")
		time.Sleep(time.Millisecond)
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	err := cmd.Wait()
	require.Error(t, err)
	require.Equal(t, 130, cmd.ProcessState.ExitCode(), stderr.String())
	require.Equal(t, "probesim: calibrate: interrupted, nothing written\n", stderr.String())
	require.NoFileExists(t, out)
	require.Empty(t, calibHelpers(t))
}
