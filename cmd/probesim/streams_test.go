package main

// Tests of run's output streams ("-", --stdout, -q) and of a run ended by
// SIGINT, SIGTERM or SIGPIPE.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/fixtures"
	"github.com/probesim/probesim/report"
)

// decodeReport decodes a report the test expects whole.
func decodeReport(t *testing.T, data []byte) report.Run {
	t.Helper()
	var rep report.Run
	require.NoError(t, json.Unmarshal(data, &rep), "a whole report: %q", data)
	return rep
}

// TestStreamsToStdout: "-" puts the report, the event log or the probe log
// on standard output and nothing else: the guest's output goes to
// --stdout, or only into the report; -q leaves standard error empty.
func TestStreamsToStdout(t *testing.T) {
	threads := fixturePath(t, fixtures.ArchAMD64, "threads")
	dir := t.TempDir()
	guestOut := filepath.Join(dir, "guest.txt")
	res := cli(t, "run", "-q", "--json", "-", "--stdout", guestOut, "--cpus", "2", "--probe", "probed", threads, "4", "100")
	require.Equal(t, 0, res.status, "stderr: %s", res.stderr)
	assert.Empty(t, res.stderr, "-q: no summary lines")
	rep := decodeReport(t, res.stdout)
	assert.Equal(t, "exit", rep.StopReason)
	assert.Contains(t, rep.Stdout, "calls=400\n")
	assert.Equal(t, rep.Stdout, string(readFile(t, guestOut)), "the guest's output went to --stdout")

	// A device takes an output as it goes.
	res = cli(t, "run", "-q", "--json", "/dev/null", "--stdout", "/dev/null", threads, "4", "100")
	require.Equal(t, 0, res.status, "stderr: %s", res.stderr)
	assert.Empty(t, res.stdout)

	// Without --stdout and without a terminal, the guest's output is in
	// the report only.
	res = cli(t, "run", "--json", "-", threads, "4", "100")
	require.Equal(t, 0, res.status, "stderr: %s", res.stderr)
	assert.Contains(t, decodeReport(t, res.stdout).Stdout, "calls=400\n")

	// The event log on standard output is the one --events FILE writes.
	evFile := filepath.Join(dir, "ev.jsonl")
	res = cli(t, "run", "-q", "--events", evFile, "--cpus", "2", "--probe", "probed", "--strategy", "inline", threads, "4", "100")
	require.Equal(t, 0, res.status, "stderr: %s", res.stderr)
	res2 := cli(t, "run", "-q", "--events", "-", "--cpus", "2", "--probe", "probed", "--strategy", "inline", threads, "4", "100")
	require.Equal(t, 0, res2.status, "stderr: %s", res2.stderr)
	assert.Equal(t, string(readFile(t, evFile)), string(res2.stdout))
	assert.Greater(t, bytes.Count(res2.stdout, []byte("\n")), 400, "every hit, miss and window")

	res = cli(t, "run", "-q", "--probe-log", "-", "--probe", "probed", threads, "2", "10")
	require.Equal(t, 0, res.status, "stderr: %s", res.stderr)
	assert.Equal(t, 20, bytes.Count(res.stdout, []byte("\"registers\"")), "one line per hit, nothing else: %s", res.stdout)

	// Without -q the summary lines go to standard error.
	res = cli(t, "run", "--json", "-", "--probe", "probed", threads, "2", "10")
	require.Equal(t, 0, res.status)
	assert.Contains(t, string(res.stderr), "probesim: probe probed (")

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--json", "-", "--events", "-", "--probe", "probed"}, "--json and --events: only one output can be - (standard output)"},
		{[]string{"--stdout", "-"}, "--stdout: want a FILE (the guest's output goes to standard output without --stdout)"},
		{[]string{"--json", filepath.Join(dir, "no", "r.json")}, "--json " + filepath.Join(dir, "no", "r.json") + ": no such file or directory"},
		{[]string{"--json", dir}, "--json " + dir + ": is a directory"},
	} {
		res := cli(t, append(append([]string{"run"}, tc.args...), threads)...)
		assert.Equal(t, 125, res.status, "%q", tc.args)
		assert.Equal(t, "probesim: "+tc.want+"\n", string(res.stderr), "%q", tc.args)
		assert.Empty(t, res.stdout)
	}
}

// pipeline runs a bash pipeline with probesim as bin/probesim and returns
// the exit status of each command (PIPESTATUS) and its stderr.
func pipeline(t *testing.T, dir, script string) ([]string, string) {
	t.Helper()
	slots <- struct{}{}
	defer func() { <-slots }()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/bash", "-c", script+`; echo "${PIPESTATUS[@]}" >&3`)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + filepath.Dir(probesimBin) + ":/usr/bin:/bin"}
	r, w, err := os.Pipe()
	require.NoError(t, err)
	cmd.ExtraFiles = []*os.File{w}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdout = &bytes.Buffer{}
	require.NoError(t, cmd.Start())
	w.Close()
	statuses, _ := bufio.NewReader(r).ReadString('\n')
	r.Close()
	require.NoError(t, cmd.Wait(), "stderr: %s", stderr.String())
	require.NoError(t, ctx.Err())
	return strings.Fields(statuses), stderr.String()
}

// TestSIGPIPEWritesTheReport: a reader that goes away (| head -1) ends
// the run with SIGPIPE, and the report is still whole, saying so.
func TestSIGPIPEWritesTheReport(t *testing.T) {
	threads := fixturePath(t, fixtures.ArchAMD64, "threads")
	chatter := compileC(t, "chatter.c", fixtures.ArchAMD64, false)
	dir := t.TempDir()
	for name, cmd := range map[string]string{
		// The event log streams (tens of MB) into a pipe closed after a line.
		"events": "probesim run -q --json r.json --cpus 4 --probe probed --strategy inline --events - " + threads + " 4 200000 | head -1",
		// The guest's own output does.
		"guest": "probesim run -q --json r.json " + chatter + " | head -1",
	} {
		t.Run(name, func(t *testing.T) {
			os.Remove(filepath.Join(dir, "r.json"))
			statuses, stderr := pipeline(t, dir, cmd)
			require.Equal(t, []string{"141", "0"}, statuses, "stderr: %s", stderr)
			assert.Empty(t, stderr, "-q")
			rep := decodeReport(t, readFile(t, filepath.Join(dir, "r.json")))
			assert.Equal(t, "interrupted", rep.StopReason)
			require.NotNil(t, rep.Signal)
			assert.Equal(t, "SIGPIPE", *rep.Signal)
			assert.Equal(t, 141, rep.ExitStatus)
			for _, p := range rep.Probes {
				assert.Equal(t, p.Executions, p.Hits+p.Misses)
			}
		})
	}
}

// TestSignalsWriteTheReport: SIGINT and SIGTERM end a run at its next
// scheduling decision with a whole report and 128+signal; nothing is
// written before the end (the report appears whole, by a rename).
func TestSignalsWriteTheReport(t *testing.T) {
	loop := fixturePath(t, fixtures.ArchAMD64, "loop") // 200 M iterations: seconds
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "r.json")
			ev := filepath.Join(dir, "ev.jsonl")
			slots <- struct{}{}
			cmd := exec.Command(probesimBin, "run", "--json", out, "--events", ev, "--probe", "_start", loop)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			require.NoError(t, cmd.Start())
			// The temporary files exist once the run is about to start.
			deadline := time.Now().Add(runTimeout)
			for {
				tmps, _ := filepath.Glob(filepath.Join(dir, ".r.json.*"))
				if len(tmps) > 0 {
					break
				}
				require.True(t, time.Now().Before(deadline), "no temporary report")
				time.Sleep(5 * time.Millisecond)
			}
			assert.NoFileExists(t, out, "the report appears at the end")
			require.NoError(t, cmd.Process.Signal(sig))
			err := cmd.Wait()
			<-slots
			var ee *exec.ExitError
			require.ErrorAs(t, err, &ee)
			assert.Equal(t, 128+int(sig), ee.ExitCode(), "stderr: %s", stderr.String())
			rep := decodeReport(t, readFile(t, out))
			assert.Equal(t, "interrupted", rep.StopReason)
			require.NotNil(t, rep.Signal)
			assert.Equal(t, map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM"}[sig], *rep.Signal)
			assert.Equal(t, 128+int(sig), rep.ExitStatus)
			require.Len(t, rep.Probes, 1)
			assert.Equal(t, uint64(1), rep.Probes[0].Hits, "_start ran once")
			assert.Equal(t, "{\"cycle\":", string(readFile(t, ev))[:9], "the event log is written too")
			assert.Regexp(t, `^probesim: probe _start \(.*\): 1 executions, 1 hits, 0 misses \(ssol-stack\)\n`+
				`probesim: .*loop interrupted by SIG(INT|TERM) at cycle \d+: the report is complete up to there\n$`, stderr.String())
			tmps, _ := filepath.Glob(filepath.Join(dir, ".*"))
			assert.Empty(t, tmps, "no temporary file left")
		})
	}
}

// TestFlagsThatNeedAProbe: --strategy, --events and --probe-log do
// nothing without --probe or --probe-at, so asking for them is an error;
// a probe placed while the program runs is a probe.
func TestFlagsThatNeedAProbe(t *testing.T) {
	hello := fixturePath(t, fixtures.ArchAMD64, "exit42")
	out := filepath.Join(t.TempDir(), "ev.jsonl")
	for _, tc := range [][]string{{"--strategy", "inline"}, {"--events", out}, {"--probe-log", out}} {
		res := cli(t, append(append([]string{"run"}, tc...), hello)...)
		assert.Equal(t, 125, res.status, "%q", tc)
		assert.Equal(t, "probesim: "+tc[0]+": needs --probe or --probe-at (there is no probe to run a strategy for, or to log)\n", string(res.stderr))
		assert.NoFileExists(t, out)
	}
	res := cli(t, "run", "--probe-at", "1000:_start", "--strategy", "inline", "--events", out, hello)
	assert.Equal(t, 42, res.status, "stderr %s", res.stderr)
	assert.FileExists(t, out)
}
