package main

// The documentation's examples, run as tests, so that what README.md and
// docs/*.md show is what probesim does.
//
// A fenced block is an example when its info string says so after the
// language (GitHub highlights by the first word and ignores the rest):
//
//	```yaml file=NAME      the block is written to NAME, for the examples that follow
//	```sh example          each block is a bash script (bash -e -o pipefail: the first
//	                       failing command ends it), run with probesim on PATH
//	```sh example status=1 ... which must exit with that status (default 0)
//	```python example      a script for Debian's python3 (with python3-pandas)
//	```output              what the example before it prints, stdout and stderr
//	                       together; a line "..." stands for any lines, and
//	                       "..." within a line for any text
//	```sh exempt=REASON    commands that cannot run here, for a reason of
//	                       exemptReasons
//
// Every document, README.md and docs/*.md, is checked (TestDocsAreExamples):
// each of its shell and python blocks is an example, a file or exempt for a
// reason, and each document runs at least one example unless
// docsWithoutExamples says why it has none. So a command added to a
// document is run unless its author says why it cannot be.
//
// Each document's examples run in order, in one fresh directory that holds
// bin/probesim and links to the checkout's fixtures and docs, so commands
// are written as a user in a checkout would type them.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// docFiles are the documents checked: README.md and every docs/*.md.
func docFiles(t *testing.T) []string {
	docs, err := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	require.NoError(t, err)
	out := []string{"README.md"}
	for _, d := range docs {
		out = append(out, filepath.ToSlash(strings.TrimPrefix(d, filepath.Join("..", "..")+string(filepath.Separator))))
	}
	return out
}

// docsWithoutExamples are the documents that run no example, and why.
var docsWithoutExamples = map[string]string{
	"docs/ARCHITECTURE.md": "the code's layout and walk-throughs: it shows no command",
	"docs/calibrate.md": "probesim calibrate measures this host (perf_event_open's uprobe PMU and ptrace need root, " +
		"and the numbers are the host's, not reproducible); make validate-kernel runs its commands",
	"docs/validate-uprobes.md": "make validate-uprobes needs root, perf and the uprobe PMU, and places real uprobes " +
		"on this host; its table is that target's output, and cmd/validateuprobes' tests check its format",
	"docs/timing.md": "the timing model; its one table is make validate-timing's output against llvm-mca-14, " +
		"a package make test does not install",
}

// exemptReasons are why a block of commands may stay unrun.
var exemptReasons = map[string]string{
	"setup":      "make targets that build the checkout this test runs from (make test runs this test)",
	"synopsis":   "a command's usage line, with placeholders, not a command",
	"slurm":      "needs a Slurm cluster: make test-slurm runs docs/sweep.md's job array on one",
	"kubernetes": "needs a Kubernetes cluster and kubectl",
}

// python is Debian's interpreter, the one python3-pandas installs for
// (make deps puts it there; a python3 earlier on PATH may be another).
const python = "/usr/bin/python3"

// docBlock is one fenced block of a document.
type docBlock struct {
	line   int // of the opening fence
	lang   string
	attrs  map[string]string // example, file=NAME, status=N
	text   string
	output *docBlock // the output block right after an example
}

var fence = regexp.MustCompile("^```(.*)$")

// parseBlocks returns the fenced blocks of a markdown document.
func parseBlocks(t *testing.T, path string) []*docBlock {
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var blocks []*docBlock
	var cur *docBlock
	var body strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		m := fence.FindStringSubmatch(line)
		switch {
		case m != nil && cur == nil:
			fields := strings.Fields(m[1])
			cur = &docBlock{line: n, attrs: map[string]string{}}
			if len(fields) > 0 {
				cur.lang = fields[0]
				for _, f := range fields[1:] {
					k, v, _ := strings.Cut(f, "=")
					cur.attrs[k] = v
				}
			}
			body.Reset()
		case m != nil && m[1] == "":
			cur.text = body.String()
			blocks = append(blocks, cur)
			cur = nil
		case cur != nil:
			body.WriteString(line + "\n")
		}
	}
	require.Nil(t, cur, "%s: a block opened at line %d is not closed", path, lineOf(cur))
	var out []*docBlock
	for i, b := range blocks {
		if b.lang == "output" && i > 0 {
			if _, ok := blocks[i-1].attrs["example"]; ok {
				blocks[i-1].output = b
				continue
			}
		}
		out = append(out, b)
	}
	return out
}

func lineOf(b *docBlock) int {
	if b == nil {
		return 0
	}
	return b.line
}

// docDir makes the directory a document's examples run in and returns it
// with the PATH they see.
func docDir(t *testing.T) (string, string) {
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	dir := t.TempDir()
	work := filepath.Join(dir, "work")
	require.NoError(t, os.MkdirAll(filepath.Join(work, "bin"), 0o755))
	require.NoError(t, os.Symlink(probesimBin, filepath.Join(work, "bin", "probesim")))
	for _, link := range []string{filepath.Join(dir, "fixtures"), filepath.Join(work, "fixtures")} {
		require.NoError(t, os.Symlink(filepath.Join(root, "fixtures"), link))
	}
	require.NoError(t, os.Symlink(filepath.Join(root, "docs"), filepath.Join(work, "docs")))
	return work, filepath.Join(work, "bin") + ":/usr/bin:/bin"
}

// TestDocExamples runs the examples of every document in docFiles.
func TestDocExamples(t *testing.T) {
	for _, doc := range docFiles(t) {
		t.Run(doc, func(t *testing.T) {
			path := filepath.Join("..", "..", doc)
			blocks := parseBlocks(t, path)
			work, pathEnv := docDir(t)
			ran := 0
			for _, b := range blocks {
				where := fmt.Sprintf("%s:%d", doc, b.line)
				if name, ok := b.attrs["file"]; ok {
					file := filepath.Join(work, name)
					require.NoError(t, os.MkdirAll(filepath.Dir(file), 0o755), where)
					require.NoError(t, os.WriteFile(file, []byte(b.text), 0o644), where)
				}
				if _, ok := b.attrs["example"]; !ok {
					continue
				}
				ran++
				want := 0
				if s, ok := b.attrs["status"]; ok {
					var err error
					want, err = strconv.Atoi(s)
					require.NoError(t, err, where)
				}
				out, status := runExample(t, work, pathEnv, b)
				assert.Equal(t, want, status, "%s: exit status; output:\n%s", where, out)
				if b.output != nil {
					if msg := matchOutput(b.output.text, out); msg != "" {
						t.Errorf("%s: the output differs from the block at line %d: %s\ngot:\n%s", where, b.output.line, msg, out)
					}
				}
			}
			if why, ok := docsWithoutExamples[doc]; ok {
				require.Zero(t, ran, "%s runs examples but docsWithoutExamples says it has none (%s)", doc, why)
			} else {
				require.Positive(t, ran, "%s has no example (give it one, or a reason in docsWithoutExamples)", doc)
			}
		})
	}
}

// runnable are the languages of blocks that are commands or scripts.
var runnable = map[string]bool{"sh": true, "bash": true, "console": true, "shell": true, "python": true}

// TestDocsAreExamples: every block of commands in every document runs as
// an example, is a file the examples use, or is exempt for a known reason;
// every document without examples is listed, and every listed one exists.
func TestDocsAreExamples(t *testing.T) {
	docs := docFiles(t)
	for _, doc := range docs {
		for _, b := range parseBlocks(t, filepath.Join("..", "..", doc)) {
			where := fmt.Sprintf("%s:%d", doc, b.line)
			_, example := b.attrs["example"]
			_, file := b.attrs["file"]
			reason, exempt := b.attrs["exempt"]
			switch {
			case exempt:
				assert.Contains(t, exemptReasons, reason, "%s: exempt=%s is not a reason of exemptReasons", where, reason)
				assert.False(t, example, "%s: an example cannot be exempt", where)
			case runnable[b.lang]:
				assert.True(t, example || file, "%s: a %s block that neither runs (example) nor is a file: mark it, or say why with exempt=REASON", where, b.lang)
			case b.lang == "":
				assert.NotRegexp(t, `(?m)^\s*(bin/)?probesim (run|sweep|check|plot|merge|demo|timeline) `, b.text,
					"%s: a block of probesim commands without a language: make it ```sh example (or exempt)", where)
			}
		}
	}
	for doc := range docsWithoutExamples {
		assert.Contains(t, docs, doc, "docsWithoutExamples names a document that does not exist")
	}
}

// runExample runs one example block and returns its output (stdout and
// stderr together) and exit status.
func runExample(t *testing.T, dir, pathEnv string, b *docBlock) (string, int) {
	t.Helper()
	slots <- struct{}{}
	defer func() { <-slots }()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	var cmd *exec.Cmd
	switch b.lang {
	case "sh", "bash", "console":
		cmd = exec.CommandContext(ctx, "/bin/bash", "-e", "-o", "pipefail", "-c", b.text)
	case "python":
		cmd = exec.CommandContext(ctx, python, "-")
		cmd.Stdin = strings.NewReader(b.text)
	default:
		t.Fatalf("line %d: no way to run a %q example", b.line, b.lang)
	}
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + pathEnv, "HOME=" + dir, "LANG=C.UTF-8"}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	require.NoError(t, ctx.Err(), "line %d did not finish within %s", b.line, runTimeout)
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		require.NoError(t, err, "line %d", b.line)
	}
	return out.String(), cmd.ProcessState.ExitCode()
}

// matchOutput compares output with the excerpt want, line by line (trailing
// space ignored), a line "..." matching any lines; it says where they
// part, or "" when they agree.
func matchOutput(want, got string) string {
	split := func(s string) []string {
		lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
		for i := range lines {
			lines[i] = strings.TrimRight(lines[i], " \t")
		}
		return lines
	}
	if matchLines(split(want), split(got)) {
		return ""
	}
	return "no match"
}

// matchLines matches want (with "..." wildcards) against got.
func matchLines(want, got []string) bool {
	if len(want) == 0 {
		return len(got) == 0
	}
	if want[0] == "..." {
		for i := 0; i <= len(got); i++ {
			if matchLines(want[1:], got[i:]) {
				return true
			}
		}
		return false
	}
	return len(got) > 0 && lineMatches(want[0], got[0]) && matchLines(want[1:], got[1:])
}

// lineMatches compares one line, "..." within want standing for any text.
func lineMatches(want, got string) bool {
	if !strings.Contains(want, "...") {
		return want == got
	}
	parts := strings.Split(want, "...")
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$").MatchString(got)
}

// TestMatchOutput pins the excerpt rule.
func TestMatchOutput(t *testing.T) {
	assert.Empty(t, matchOutput("a\n...\nd\n", "a\nb\nc\nd\n"))
	assert.Empty(t, matchOutput("a\n...\n", "a\n"))
	assert.Empty(t, matchOutput("a  \nb\n", "a\nb\n"))
	assert.NotEmpty(t, matchOutput("a\nd\n", "a\nb\nd\n"))
	assert.NotEmpty(t, matchOutput("a\n", "a\nb\n"))
	assert.Empty(t, matchOutput("cycles ... to ...\n", "cycles 1 to 20\n"))
	assert.NotEmpty(t, matchOutput("cycles ... to ...\n", "cycle 1 to 20\n"))
}
