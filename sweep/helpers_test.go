package sweep

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/fixtures"
)

// threadsYAML is the test sweep: the threaded fixture, small enough that
// its 8 configurations run in about a second.
const threadsYAML = `program: %s
args: [4, 50]
probes: [probed]
cpus: [1, 2]
strategies: [inline, ssol-stack]
seeds: [1, 2]
`

// threadsProgram is the threaded fixture, or the test fails with the way
// to build it.
func threadsProgram(t *testing.T) string {
	t.Helper()
	p, err := fixtures.Path(fixtures.ArchAMD64, "threads")
	require.NoError(t, err, "build the fixtures first: make fixtures")
	return p
}

// writeConfig writes text as sweep.yaml in a fresh directory.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sweep.yaml")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	return path
}

// loadThreads loads the test sweep.
func loadThreads(t *testing.T) *Config {
	t.Helper()
	c, err := Load(writeConfig(t, fmt.Sprintf(threadsYAML, threadsProgram(t))))
	require.NoError(t, err)
	return c
}
