package main

// End-to-end tests: TestMain builds the probesim binary once and the tests
// run it as a user would, comparing with native runs of the same programs.
// The fixtures must be built first (make fixtures); the tests fail, never
// skip, when they are missing.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/fixtures"
	"github.com/probesim/probesim/report"
)

var (
	// probesimBin is the binary under test, built by TestMain.
	probesimBin string
	// workDir holds the binary and the test programs built from testdata/.
	workDir string
	// slots bounds the programs (emulated or native) running at once: the
	// subtests are parallel but the machine has few cores.
	slots = make(chan struct{}, max(1, runtime.NumCPU()))
)

// runTimeout bounds one probesim or native run; every run here takes
// seconds at most, so reaching it means probesim hangs.
const runTimeout = 2 * time.Minute

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "probesim-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "probesim e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	workDir = dir
	probesimBin = filepath.Join(dir, "probesim")
	// go test puts its own GOROOT/bin first on PATH, so "go" is the same
	// toolchain that builds this test.
	build := exec.Command("go", "build", "-o", probesimBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "probesim e2e: go build:", err)
		return 1
	}
	return m.Run()
}

// result is what a shell sees of a finished process.
type result struct {
	stdout, stderr []byte
	status         int // exit code, or 128+N for signal N
}

// execute runs name with args in dir ("" = the current directory), with an
// empty environment and stdin /dev/null; it fails the test if the process
// has not finished within timeout.
func execute(t *testing.T, dir string, timeout time.Duration, name string, args ...string) result {
	t.Helper()
	slots <- struct{}{}
	defer func() { <-slots }()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = []string{}
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	require.NoError(t, ctx.Err(), "%s %q did not finish within %s", name, args, timeout)
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		require.NoError(t, err, "run %s %q", name, args)
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	status := ws.ExitStatus()
	if ws.Signaled() {
		status = 128 + int(ws.Signal())
	}
	return result{stdout: out.Bytes(), stderr: errb.Bytes(), status: status}
}

// cli runs the binary under test with args.
func cli(t *testing.T, args ...string) result {
	t.Helper()
	return execute(t, "", runTimeout, probesimBin, args...)
}

// native runs a guest program on the host through the fixtures package.
func native(t *testing.T, path string, args, env []string) result {
	t.Helper()
	slots <- struct{}{}
	defer func() { <-slots }()
	stdout, stderr, status, err := fixtures.RunNative(path, args, env, nil)
	require.NoError(t, err)
	return result{stdout: stdout, stderr: stderr, status: status}
}

// runReport runs `probesim run --json FILE flags... program args...` and
// returns the result with the report decoded both as report.Run and as a
// generic JSON object (numbers as json.Number, so nothing is rounded).
func runReport(t *testing.T, flags []string, program string, args ...string) (result, report.Run, map[string]any, []byte) {
	t.Helper()
	return runReportTimeout(t, runTimeout, flags, program, args...)
}

// runReportWithin is runReport with a deadline of its own.
func runReportWithin(t *testing.T, timeout time.Duration, flags []string, program string, args ...string) (result, report.Run) {
	t.Helper()
	res, rep, _, _ := runReportTimeout(t, timeout, flags, program, args...)
	return res, rep
}

func runReportTimeout(t *testing.T, timeout time.Duration, flags []string, program string, args ...string) (result, report.Run, map[string]any, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "report.json")
	cmd := append([]string{"run", "--json", path}, flags...)
	cmd = append(append(cmd, program), args...)
	res := execute(t, "", timeout, probesimBin, cmd...)
	raw, err := os.ReadFile(path)
	require.NoError(t, err, "report of %q (stderr %q)", cmd, res.stderr)
	var rep report.Run
	require.NoError(t, json.Unmarshal(raw, &rep), "report of %q", cmd)
	return res, rep, decodeObject(t, raw), raw
}

// decodeObject decodes a JSON object keeping numbers exact.
func decodeObject(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var obj map[string]any
	require.NoError(t, dec.Decode(&obj))
	return obj
}

// fixturePath returns a built fixture or fails with the way to build it.
func fixturePath(t *testing.T, arch, name string) string {
	t.Helper()
	p, err := fixtures.Path(arch, name)
	require.NoError(t, err, "build the fixtures first: make fixtures")
	return p
}

// builtPrograms caches the programs compiled from testdata/ by key.
var builtPrograms struct {
	sync.Mutex
	byKey map[string]*builtProgram
}

type builtProgram struct {
	once sync.Once
	path string
	err  error
}

// compileC builds testdata/SRC for arch (fixtures.ArchI386 adds -m32) into
// workDir, static unless dynamic is set, once per test binary.
func compileC(t *testing.T, src, arch string, dynamic bool) string {
	t.Helper()
	name := strings.TrimSuffix(src, ".c") + "-" + arch
	if dynamic {
		name += "-dynamic"
	}
	builtPrograms.Lock()
	if builtPrograms.byKey == nil {
		builtPrograms.byKey = map[string]*builtProgram{}
	}
	bp := builtPrograms.byKey[name]
	if bp == nil {
		bp = &builtProgram{}
		builtPrograms.byKey[name] = bp
	}
	builtPrograms.Unlock()
	bp.once.Do(func() {
		srcPath, err := filepath.Abs(filepath.Join("testdata", src))
		if err != nil {
			bp.err = err
			return
		}
		bp.path = filepath.Join(workDir, name)
		args := []string{"-O2", "-Wall", "-o", bp.path, srcPath}
		if !dynamic {
			args = append(args, "-static")
		}
		if arch == fixtures.ArchI386 {
			args = append(args, "-m32")
		} else {
			args = append(args, "-m64")
		}
		out, err := exec.Command("gcc", args...).CombinedOutput()
		if err != nil {
			bp.err = fmt.Errorf("gcc %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	})
	require.NoError(t, bp.err)
	return bp.path
}

// arches lists both guest architectures, in a fixed order.
var arches = []string{fixtures.ArchAMD64, fixtures.ArchI386}

// envFlags turns an environment into probesim --env flags.
func envFlags(env []string) []string {
	var flags []string
	for _, e := range env {
		flags = append(flags, "--env", e)
	}
	return flags
}

// outputLines splits program output into lines, without the empty string
// after the final newline.
func outputLines(b []byte) []string {
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
