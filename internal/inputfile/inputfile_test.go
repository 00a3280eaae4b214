package inputfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRead(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.yaml")
	require.NoError(t, os.WriteFile(p, []byte("12345"), 0o644))
	data, err := Read(p, 5, "a config")
	require.NoError(t, err)
	assert.Equal(t, "12345", string(data))
	_, err = Read(p, 4, "a config")
	assert.EqualError(t, err, "more than 4 bytes: too large for a config")
	assert.ErrorIs(t, err, ErrTooLarge)

	// /dev/zero never ends: Read stops one byte past the bound.
	_, err = Read("/dev/zero", 1<<20, "a config")
	assert.EqualError(t, err, "more than 1 MiB: too large for a config")

	_, err = Read(filepath.Join(t.TempDir(), "none"), 10, "a config")
	assert.True(t, errors.Is(err, fs.ErrNotExist))
}
