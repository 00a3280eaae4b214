// Package chromiumtest runs headless Chromium for tests of probesim's HTML
// pages (the demo, timelines): Debian's chromium package, which make deps
// installs. A test without Chromium fails, never skips.
package chromiumtest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Timeout bounds one headless Chromium run: it takes a second or two, so
// reaching it means Chromium hangs.
const Timeout = 2 * time.Minute

// Run runs headless Chromium with args in a profile of its own and
// returns its standard output (the DOM for --dump-dom).
func Run(t *testing.T, args ...string) []byte {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	require.NoError(t, err, "probesim's HTML pages are checked in headless Chromium: `make deps` installs it (Debian package chromium)")
	profile := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
		"--disable-extensions", "--disable-background-networking", "--hide-scrollbars",
		"--user-data-dir=" + profile,
	}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+profile)
	// Chromium forks helpers: on a timeout kill the whole group, and do
	// not wait forever for pipes a stray helper holds.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	require.NoError(t, ctx.Err(), "chromium %q did not finish within %s", args, Timeout)
	require.NoError(t, err, "chromium %q: %s", args, errb.String())
	return out.Bytes()
}
