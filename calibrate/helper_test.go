package calibrate

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/internal/rebuildtest"
)

// The embedded helper is helper/calib.c built by the go:generate line of
// helper.go: a rebuild gives the same bytes, so binary and source cannot
// drift.
func TestHelperReproducible(t *testing.T) {
	rebuildtest.MuslStatic(t, "helper/calib.c", helperELF, "go generate ./calibrate/")
}

func TestHelperSymbols(t *testing.T) {
	h, err := openHelper()
	require.NoError(t, err)
	defer h.Close()
	require.NotZero(t, h.nopOff)
	require.NotZero(t, h.stepOff)
	require.NotEqual(t, h.nopOff, h.stepOff)
	// The probe points' first bytes: nop (emulated by Linux), lea (stepped).
	require.Equal(t, byte(0x90), helperELF[h.nopOff])
	require.Equal(t, []byte{0x48, 0x8d, 0x47, 0x01}, helperELF[h.stepOff:h.stepOff+stepInsnBytes])
	require.True(t, strings.HasPrefix(h.path, "/proc/"))
}

// Bad arguments and unknown modes are one-line errors from the helper.
func TestHelperErrors(t *testing.T) {
	h, err := openHelper()
	require.NoError(t, err)
	defer h.Close()
	_, err = h.run(context.Background(), "nosuchmode")
	require.EqualError(t, err, "nosuchmode: calib: unknown mode nosuchmode")
	_, err = h.run(context.Background(), "syscall", "-3")
	require.EqualError(t, err, "syscall -3: calib: syscall: bad argument -3")
	res, err := h.run(context.Background(), "syscall", "1000")
	require.NoError(t, err)
	require.Contains(t, res, "syscall_ns")
}

func TestParseResults(t *testing.T) {
	got, err := parseResults(strings.NewReader("a_ns 1.5\n\nb 2\n"))
	require.NoError(t, err)
	require.Equal(t, map[string]float64{"a_ns": 1.5, "b": 2}, got)
	_, err = parseResults(strings.NewReader("ready\n"))
	require.EqualError(t, err, `helper printed "ready", want "key value"`)
	_, err = parseResults(strings.NewReader("x y\n"))
	require.Error(t, err)
}
