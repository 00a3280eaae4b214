package probesim_test

import (
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim"
	"github.com/probesim/probesim/fixtures"
)

// openFDs is the number of descriptors this process has open.
func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	return len(ents)
}

// TestRunsLeakNoHostResources: runs that open, read, write, map and list
// host files, make pipes, epoll sets, timers and threads, and end with
// descriptors still open, leave the host process with the descriptors and
// goroutines it had.
func TestRunsLeakNoHostResources(t *testing.T) {
	var runs []probesim.Config
	for _, name := range []string{"files", "fds", "pipes", "poll", "timers", "goprog"} {
		path, err := fixtures.Path(fixtures.ArchAMD64, name)
		require.NoError(t, err, "make fixtures")
		runs = append(runs, probesim.Config{Program: path, CPUs: 2})
	}
	runs = append(runs, probesim.Config{Program: busybox, Args: []string{"grep", "-r", "-c", "root", "/etc/passwd", "/etc/group"}})
	// One run first: lazily opened process-wide files (the loader's
	// caches, the Go runtime's) are not the runs' leaks.
	_, err := probesim.Run(t.Context(), runs[0])
	require.NoError(t, err)
	runtime.GC()
	fds, goroutines := openFDs(t), runtime.NumGoroutine()
	for i := 0; i < 3; i++ {
		for _, cfg := range runs {
			res, err := probesim.Run(t.Context(), cfg)
			require.NoError(t, err, cfg.Program)
			require.Equal(t, 0, res.Report.ExitStatus, "%s: %s", cfg.Program, res.Report.Stderr)
		}
	}
	runtime.GC()
	time.Sleep(10 * time.Millisecond) // finalizers of anything collected
	assert.Equal(t, fds, openFDs(t), "host descriptors")
	assert.LessOrEqual(t, runtime.NumGoroutine(), goroutines, "goroutines")
}
