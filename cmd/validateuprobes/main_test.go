package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/fixtures"
)

func n(v uint64) *uint64 { return &v }

// The verdicts: equal counts, a LOCK-prefixed probe Linux did not count
// (refused, not a mismatch), and each way a row can fail.
func TestVerdict(t *testing.T) {
	for _, c := range []struct {
		name string
		r    row
		want string
		ok   bool
	}{
		{"equal", row{LinuxHits: n(4000), ProbesimExecutions: n(4000)}, "equal", true},
		{"equal to the program's count", row{LinuxHits: n(4000), ProbesimExecutions: n(4000), ProgramCount: n(4000)}, "equal", true},
		{"differ", row{LinuxHits: n(4000), ProbesimExecutions: n(3999)}, "DIFFER", false},
		{"differ with ENOSYS", row{LinuxHits: n(5), ProbesimExecutions: n(4), Unsupported: []string{"rseq", "statx"}},
			"DIFFER (ENOSYS: rseq,statx)", false},
		{"both differ from the program", row{LinuxHits: n(7), ProbesimExecutions: n(7), ProgramCount: n(6)},
			"DIFFER from the program's count", false},
		{"lock refused", row{LockPrefixed: true, LinuxHits: n(0), ProbesimExecutions: n(4000), ProgramCount: n(4000)},
			"refused by Linux", true},
		{"lock refused, probesim wrong", row{LockPrefixed: true, LinuxHits: n(0), ProbesimExecutions: n(3), ProgramCount: n(4000)},
			"refused by Linux; probesim DIFFERS from the program's count", false},
		// A kernel that did probe the LOCK-prefixed instruction is held
		// to equal counts.
		{"lock counted", row{LockPrefixed: true, LinuxHits: n(10), ProbesimExecutions: n(10)}, "equal", true},
		{"lock counted, differ", row{LockPrefixed: true, LinuxHits: n(10), ProbesimExecutions: n(9)}, "DIFFER", false},
		// Zero hits of an instruction without LOCK is a mismatch.
		{"zero not lock", row{LinuxHits: n(0), ProbesimExecutions: n(4000)}, "DIFFER", false},
		{"probesim refuses", row{LinuxHits: n(4000), ProbesimError: "prog: dynamically linked programs are not supported yet"},
			"probesim: prog: dynamically linked programs are not supported yet", false},
		{"perf failed", row{LinuxError: "perf probe: boom", ProbesimExecutions: n(1)}, "linux: perf probe: boom", false},
		{"no fixture", row{SetupError: "fixture x for i386 is not built: run make fixtures"},
			"setup: fixture x for i386 is not built: run make fixtures", false},
	} {
		got, ok := verdict(c.r)
		assert.Equal(t, c.want, got, c.name)
		assert.Equal(t, c.ok, ok, c.name)
	}
}

func TestWriteTable(t *testing.T) {
	rows := []row{
		{Arch: "x86_64", Fixture: "threads", Args: []string{"4", "1000"}, Probe: "probed", Instruction: "imul edi, edi, -0x61c8864f",
			LinuxHits: n(4000), ProbesimExecutions: n(4000), ProgramCount: n(4000)},
		{Arch: "x86_64", Fixture: "threads", Args: []string{"4", "1000"}, Probe: "probed+0x6", Instruction: "lock add qword ptr [rip+0xbe871], 0x1",
			LockPrefixed: true, LinuxHits: n(0), ProbesimExecutions: n(4000), ProgramCount: n(4000)},
		{Arch: "i386", Fixture: "qsort", Probe: "compare_ints", Instruction: "mov edx, dword ptr [esp+0x4]",
			LinuxHits: n(120531), ProbesimExecutions: n(120531)},
		{Arch: "x86_64", Fixture: "mallocthreads_dyn", Args: []string{"4", "1000"}, Probe: "/lib/x86_64-linux-gnu/libc.so.6:malloc",
			Instruction: "push r12", LinuxHits: n(4000), ProgramCount: n(4000), ProbesimError: "dynamically linked programs are not supported yet"},
		{Arch: "i386", Fixture: "nosuch", Probe: "f", SetupError: `unknown fixture "nosuch"`},
	}
	for i := range rows {
		rows[i].Result, rows[i].OK = verdict(rows[i])
	}
	var b bytes.Buffer
	writeTable(&b, rows)
	want := `fixture                   args    probe                                   instruction                            Linux hits  probesim executions  program's count  result
x86_64/threads            4 1000  probed                                  imul edi, edi, -0x61c8864f             4000        4000                 4000             equal
x86_64/threads            4 1000  probed+0x6                              lock add qword ptr [rip+0xbe871], 0x1  0           4000                 4000             refused by Linux
i386/qsort                        compare_ints                            mov edx, dword ptr [esp+0x4]           120531      120531               -                equal
x86_64/mallocthreads_dyn  4 1000  /lib/x86_64-linux-gnu/libc.so.6:malloc  push r12                               4000        -                    4000             probesim: dynamically linked programs are not supported yet
i386/nosuch                       f                                       -                                      -           -                    -                setup: unknown fixture "nosuch"
5 rows: 2 equal, 1 refused by Linux, 2 not equal or not run
`
	assert.Equal(t, want, b.String())

	path := filepath.Join(t.TempDir(), "rows.json")
	require.NoError(t, writeJSON(path, rows))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var doc struct {
		Strategy string
		Rows     []map[string]any
	}
	require.NoError(t, json.Unmarshal(data, &doc))
	assert.Equal(t, "xol", doc.Strategy)
	require.Len(t, doc.Rows, 5)
	assert.Equal(t, "refused by Linux", doc.Rows[1]["result"])
	assert.Equal(t, true, doc.Rows[1]["ok"])
	assert.Equal(t, float64(0), doc.Rows[1]["linux_hits"], "a count of 0 is written, not left out")
	assert.NotContains(t, doc.Rows[3], "probesim_executions")
	assert.Equal(t, "dynamically linked programs are not supported yet", doc.Rows[3]["probesim_error"])
}

func TestSplitSpec(t *testing.T) {
	for spec, want := range map[string][3]any{
		"probed":                                 {"", "probed", uint64(0)},
		"probed+0x6":                             {"", "probed", uint64(6)},
		"probed+12":                              {"", "probed", uint64(12)},
		"/lib/x86_64-linux-gnu/libc.so.6:malloc": {"/lib/x86_64-linux-gnu/libc.so.6", "malloc", uint64(0)},
		"uprobe:/lib32/libc.so.6:free+0x4":       {"/lib32/libc.so.6", "free", uint64(4)},
	} {
		file, sym, off, err := splitSpec(spec)
		require.NoError(t, err, spec)
		assert.Equal(t, want, [3]any{file, sym, off}, spec)
	}
	for spec, msg := range map[string]string{
		"":              `probe "": want SYMBOL[+OFF] or FILE:SYMBOL[+OFF]`,
		"0x401000":      `probe "0x401000": want SYMBOL[+OFF] or FILE:SYMBOL[+OFF]`,
		":malloc":       `probe ":malloc": no file before ':'`,
		"probed+x":      `probe "probed+x": bad offset "x"`,
		"/lib/libc.so:": `probe "/lib/libc.so:": want SYMBOL[+OFF] or FILE:SYMBOL[+OFF]`,
	} {
		_, _, _, err := splitSpec(spec)
		assert.EqualError(t, err, msg, spec)
	}
}

// The table's sites are found in the built fixtures and the host's libc:
// the LOCK row finds threads' "lock add", the others are not LOCK-prefixed
// (Linux would refuse them: that would be no test of equal counts).
func TestCasesLocate(t *testing.T) {
	for _, c := range cases() {
		prog, err := fixtures.Path(c.Arch, c.Fixture)
		require.NoError(t, err, "make fixtures builds it")
		s, err := locate(c, prog)
		require.NoError(t, err, "%s/%s %s", c.Arch, c.Fixture, c.Probe)
		assert.Equal(t, c.Lock != "", s.Lock, "%s/%s %s: %s", c.Arch, c.Fixture, s.Spec, s.Insn)
		if c.Lock != "" {
			assert.Regexp(t, regexp.MustCompile(`^probed\+0x[0-9a-f]+$`), s.Spec)
			assert.True(t, strings.HasPrefix(s.Insn, "lock add"), s.Insn)
		}
	}
	_, err := firstLocked(mustPath(t, fixtures.ArchAMD64, "qsort"), "compare_ints")
	assert.ErrorContains(t, err, "compare_ints has no LOCK-prefixed instruction")
}

func mustPath(t *testing.T, arch, name string) string {
	p, err := fixtures.Path(arch, name)
	require.NoError(t, err)
	return p
}

func TestUsageAndSelection(t *testing.T) {
	var out, errb bytes.Buffer
	assert.Equal(t, 2, run([]string{"extra"}, &out, &errb))
	assert.Equal(t, "validateuprobes: usage: validateuprobes [-json FILE] [-run REGEXP]\n", errb.String())
	errb.Reset()
	assert.Equal(t, 2, run([]string{"-run", "nothing-matches-this"}, &out, &errb))
	assert.Equal(t, "validateuprobes: -run \"nothing-matches-this\" matches no row\n", errb.String())
	errb.Reset()
	assert.Equal(t, 2, run([]string{"-run", "("}, &out, &errb))
	assert.Contains(t, errb.String(), "validateuprobes: -run: error parsing regexp")
	assert.Empty(t, out.String())

	got, err := selectCases(cases(), `^x86_64/threads probed\+lock$`)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "probed", got[0].Lock)
	got, err = selectCases(cases(), `libc\.so\.6:malloc`)
	require.NoError(t, err)
	assert.Len(t, got, 2)
}
