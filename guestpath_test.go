package probesim_test

import (
	"bytes"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim"
)

// TestGuestPathHidesTheHostPath: with GuestPath the guest sees only that
// path: readlink(/proc/self/exe), the program's file there in its view,
// the report's program and VMA names; a bad one is a configuration error.
func TestGuestPathHidesTheHostPath(t *testing.T) {
	const guest = "/opt/tools/busybox"
	run := func(args ...string) (string, *probesim.Result) {
		var out bytes.Buffer
		res, err := probesim.Run(t.Context(), probesim.Config{Program: busybox, GuestPath: guest, Args: args, Stdout: &out})
		require.NoError(t, err)
		require.Equal(t, 0, res.Report.ExitStatus, res.Report.Stderr)
		return out.String(), res
	}
	out, res := run("readlink", "/proc/self/exe")
	assert.Equal(t, guest+"\n", out)
	assert.Equal(t, guest, res.Report.Program)
	assert.Equal(t, guest, res.Report.Maps[0].Name)
	st, err := os.Stat(busybox)
	require.NoError(t, err)
	out, _ = run("wc", "-c", guest)
	assert.Equal(t, fmt.Sprintf("%d %s\n", st.Size(), guest), out, "the program's bytes are at the guest path")

	_, err = probesim.Run(t.Context(), probesim.Config{Program: busybox, GuestPath: "opt/../x"})
	var ce *probesim.ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, `guest-path: "opt/../x": want a clean absolute path`, err.Error())
}
