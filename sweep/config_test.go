package sweep

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim"
	"github.com/probesim/probesim/smp"
)

func TestParseFullConfig(t *testing.T) {
	dir := t.TempDir()
	prof, err := os.ReadFile("../timing/profiles/skylake.json")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "slow.json"), prof, 0o644))
	c, err := Parse(filepath.Join(dir, "s.yaml"), []byte(`
program: bin/prog          # relative to the config's directory
args: [4, "a b", 0x10]
probes: probed
env: [LANG=C, "EMPTY="]
cpus: [4, 1]
strategies: [ssol-stack, inline]
seeds: {from: 3, to: 5}
quantum: [1_000, 20000]
profile: [skylake, slow.json]
params:
  kernel.syscall_entry_exit: [100, 200]
  issue_width: 4
max_cycles: 5_000_000
stack_limit: 1M
`))
	require.NoError(t, err)
	assert.Equal(t, "bin/prog", c.Program)
	assert.Equal(t, filepath.Join(dir, "bin/prog"), c.ProgramPath)
	assert.Equal(t, [][]string{{"4", "a b", "0x10"}}, c.Args, "scalars are taken as written")
	assert.Equal(t, [][]string{{"probed"}}, c.Probes)
	assert.Equal(t, [][]string{{"LANG=C", "EMPTY="}}, c.Env)
	assert.Equal(t, []int{4, 1}, c.CPUs)
	assert.Equal(t, []probesim.Strategy{probesim.SSOLStack, probesim.Inline}, c.Strategies)
	assert.Equal(t, []uint64{3, 4, 5}, c.Seeds)
	assert.Equal(t, []uint64{1000, 20000}, c.Quanta)
	assert.Equal(t, []string{"skylake", "slow.json"}, c.Profiles)
	assert.Equal(t, []Param{{"issue_width", []string{"4"}}, {"kernel.syscall_entry_exit", []string{"100", "200"}}}, c.Params, "params in name order")
	assert.Equal(t, []uint64{5_000_000}, c.MaxCycles)
	assert.Equal(t, []uint64{1 << 20}, c.StackLimits)
	assert.Equal(t, 2*2*2*2*2*3, c.Len())
	assert.Regexp(t, "^[0-9a-f]{16}$", c.ID())
}

// TestEverySettingIsAnAxis: args, env and probes take a list of lists,
// stack_limit and max_cycles a list; every combination is a configuration,
// in the configuration order, and the fingerprint follows the values.
func TestEverySettingIsAnAxis(t *testing.T) {
	c, err := Parse("s.yaml", []byte(`program: /p
args: [[4, 500, 0], [4, 500, 1000]]
env: [[], [LANG=C]]
probes: [[f], [f, g]]
stack_limit: [1M, 8M]
max_cycles: [0, 1_000_000]
cpus: 2
strategies: inline
seeds: 1
`))
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"4", "500", "0"}, {"4", "500", "1000"}}, c.Args)
	assert.Equal(t, [][]string{{}, {"LANG=C"}}, c.Env)
	assert.Equal(t, [][]string{{"f"}, {"f", "g"}}, c.Probes)
	assert.Equal(t, []uint64{1 << 20, 8 << 20}, c.StackLimits)
	assert.Equal(t, []uint64{0, 1_000_000}, c.MaxCycles)
	require.Equal(t, 32, c.Len())
	p := c.Point(0)
	assert.Equal(t, []string{"4", "500", "0"}, p.Args)
	assert.Equal(t, uint64(1_000_000), c.Point(1).MaxCycles, "max_cycles varies fastest of them")
	last := c.Point(31)
	assert.Equal(t, []string{"4", "500", "1000"}, last.Args, "args vary slowest")
	assert.Equal(t, []string{"LANG=C"}, last.Env)
	assert.Equal(t, []string{"f", "g"}, last.Probes)
	rc := c.RunConfig(last)
	assert.Equal(t, []string{"4", "500", "1000"}, rc.Args)
	assert.Equal(t, []string{"f", "g"}, rc.Probes)
	assert.Equal(t, uint64(8<<20), rc.StackLimit)
	assert.Equal(t, `cpus=2 strategy=inline seed=1 args=["4","500","1000"] env=["LANG=C"] probes=["f","g"] stack_limit=8388608 max_cycles=1000000`, c.Label(last))

	other, err := Parse("s.yaml", []byte("program: /p\nargs: [[4, 500, 0]]\nprobes: [f]\ncpus: 2\nstrategies: inline\nseeds: 1\n"))
	require.NoError(t, err)
	same, err := Parse("t.yaml", []byte("program: /p\nargs: [4, 500, 0]\nprobes: f\ncpus: [2]\nstrategies: [inline]\nseeds: [1]\n"))
	require.NoError(t, err)
	assert.Equal(t, other.ID(), same.ID(), "one design, one fingerprint, however it is spelled")
	assert.NotEqual(t, c.ID(), other.ID())
}

// TestIncludeAndExclude: exclude takes configurations out of the top
// level's product, include adds products of its own (the top level's
// values for what it does not name), each configuration once, in order.
func TestIncludeAndExclude(t *testing.T) {
	c, err := Parse("s.yaml", []byte(`program: /p
probes: [f]
cpus: [1, 2, 4]
strategies: [inline, xol]
seeds: [1, 2]
params: {kernel.syscall_entry_exit: [100, 200]}
exclude:
  - {cpus: 1, strategies: xol}
  - {cpus: [2, 4], params: {kernel.syscall_entry_exit: 200}}
include:
  - {cpus: 64, seeds: 1}
  - {cpus: [1, 8], strategies: xol, seeds: [2]}
`))
	require.NoError(t, err)
	var labels []string
	for i := range c.Len() {
		p := c.Point(i)
		require.Equal(t, i, p.Index)
		j, ok := c.IndexOf(p)
		require.True(t, ok, "configuration %d found by its values", i)
		require.Equal(t, i, j)
		labels = append(labels, c.Label(p))
	}
	// 24 in the product; -4 (cpus 1, xol), -8 (cpus 2 and 4 at 200);
	// include 1 adds cpus 64 for both strategies and both params (4);
	// include 2 cpus 1 and 8 with xol and seed 2 (4), of which cpus 1 at
	// 100 and 200 were excluded, so are new.
	assert.Equal(t, []string{
		"cpus=1 strategy=inline seed=1 param.kernel.syscall_entry_exit=100",
		"cpus=1 strategy=inline seed=2 param.kernel.syscall_entry_exit=100",
		"cpus=2 strategy=inline seed=1 param.kernel.syscall_entry_exit=100",
		"cpus=2 strategy=inline seed=2 param.kernel.syscall_entry_exit=100",
		"cpus=4 strategy=inline seed=1 param.kernel.syscall_entry_exit=100",
		"cpus=4 strategy=inline seed=2 param.kernel.syscall_entry_exit=100",
		"cpus=2 strategy=xol seed=1 param.kernel.syscall_entry_exit=100",
		"cpus=2 strategy=xol seed=2 param.kernel.syscall_entry_exit=100",
		"cpus=4 strategy=xol seed=1 param.kernel.syscall_entry_exit=100",
		"cpus=4 strategy=xol seed=2 param.kernel.syscall_entry_exit=100",
		"cpus=1 strategy=inline seed=1 param.kernel.syscall_entry_exit=200",
		"cpus=1 strategy=inline seed=2 param.kernel.syscall_entry_exit=200",
		"cpus=64 strategy=inline seed=1 param.kernel.syscall_entry_exit=100",
		"cpus=64 strategy=xol seed=1 param.kernel.syscall_entry_exit=100",
		"cpus=64 strategy=inline seed=1 param.kernel.syscall_entry_exit=200",
		"cpus=64 strategy=xol seed=1 param.kernel.syscall_entry_exit=200",
		"cpus=1 strategy=xol seed=2 param.kernel.syscall_entry_exit=100",
		"cpus=8 strategy=xol seed=2 param.kernel.syscall_entry_exit=100",
		"cpus=1 strategy=xol seed=2 param.kernel.syscall_entry_exit=200",
		"cpus=8 strategy=xol seed=2 param.kernel.syscall_entry_exit=200",
	}, labels)
	_, ok := c.IndexOf(Point{Args: []string{}, Env: []string{}, Probes: []string{"f"}, StackLimit: 8 << 20,
		MaxCycles: DefaultMaxCycles, Profile: "skylake", Params: []string{"kernel.syscall_entry_exit=100"},
		Quantum: 10000, Strategy: "xol", CPUs: 1, Seed: 1})
	assert.False(t, ok, "excluded, and not included back")

	for _, tc := range []struct{ extra, want string }{
		{"include: [{cpus: 1}]\n", "s.yaml:6: include 1: adds no configuration (every one it names is already in the sweep)"},
		{"exclude: [{strategies: inline}]\n", "s.yaml:6: exclude: leaves no configuration"},
		{"exclude: [{colour: red}]\n", `s.yaml:6: exclude 1: unknown key "colour" (known: args, env, probes, stack_limit, max_cycles, profile, params, quantum, strategies, cpus, seeds)`},
		{"exclude: [{}]\n", "s.yaml:6: exclude 1: an empty entry: name at least one setting"},
		{"include: [{cpus: 99}]\n", "s.yaml:6: include 1: cpus: 99 is not a vCPU count (1..64)"},
		{"include: [{params: {issue_width: 2}}]\n", "s.yaml:6: include 1: params: issue_width: not a parameter of the top level's params (every configuration sets the same parameters)"},
		{"include: {cpus: 2}\n", "s.yaml:6: include: want a list of mappings of settings, such as {cpus: 16, seeds: 1}, got a mapping"},
		{"include: [{program: /q}]\n", `s.yaml:6: include 1: unknown key "program" (known: args, env, probes, stack_limit, max_cycles, profile, params, quantum, strategies, cpus, seeds)`},
	} {
		_, err := Parse("s.yaml", []byte("program: /p\nprobes: [f]\ncpus: [1]\nstrategies: [inline]\nseeds: [1]\n"+tc.extra))
		if assert.Error(t, err, tc.extra) {
			assert.Equal(t, tc.want, err.Error())
		}
	}
}

// TestParseOneExplicitDocument: "---" before and "..." after the one
// document are fine.
func TestParseOneExplicitDocument(t *testing.T) {
	_, err := Parse("s.yaml", []byte("---\nprogram: /p\nprobes: [f]\ncpus: 2\nstrategies: inline\nseeds: 7\n...\n"))
	require.NoError(t, err)
}

// TestQuantumZeroIsTheDefault: quantum 0 means the default, as in
// probesim run and the library; rows record the quantum the runs had.
func TestQuantumZeroIsTheDefault(t *testing.T) {
	c, err := Parse("s.yaml", []byte("program: /p\nprobes: [f]\ncpus: 2\nstrategies: inline\nseeds: 7\nquantum: [0, 500]\n"))
	require.NoError(t, err)
	assert.Equal(t, []uint64{smp.DefaultQuantum, 500}, c.Quanta)
	assert.Equal(t, uint64(smp.DefaultQuantum), c.RunConfig(c.Point(0)).Quantum)
}

func TestParseDefaults(t *testing.T) {
	c, err := Parse("s.yaml", []byte("program: /p\nprobes: [f]\ncpus: 2\nstrategies: inline\nseeds: 7\n"))
	require.NoError(t, err)
	assert.Equal(t, [][]string{{}}, c.Args)
	assert.Equal(t, [][]string{{}}, c.Env)
	assert.Equal(t, []uint64{smp.DefaultQuantum}, c.Quanta)
	assert.Equal(t, []string{"skylake"}, c.Profiles)
	assert.Empty(t, c.Params)
	assert.Equal(t, []uint64{DefaultMaxCycles}, c.MaxCycles)
	assert.Equal(t, []uint64{smp.DefaultStackLimit}, c.StackLimits)
	require.Equal(t, 1, c.Len())
	assert.Equal(t, `args=[] env=[] probes=["f"] stack_limit=8388608 max_cycles=10000000000 profile=skylake quantum=10000 strategy=inline cpus=2 seed=7`, c.Point(0).Key())
	assert.Equal(t, "cpus=2 strategy=inline seed=7", c.Label(c.Point(0)))
}

// TestParseErrors: every mistake is one line naming the file, the line,
// the key and the value.
func TestParseErrors(t *testing.T) {
	const head = "program: /p\nprobes: [f]\n" // lines 1-2
	const dims = "cpus: [1]\nstrategies: [inline]\nseeds: [1]\n"
	for _, tc := range []struct{ yaml, want string }{
		{head + "cpus: [0]\nstrategies: [inline]\nseeds: [1]\n", "s.yaml:3: cpus: 0 is not a vCPU count (1..64)"},
		{head + "cpus: [65]\nstrategies: [inline]\nseeds: [1]\n", "s.yaml:3: cpus: 65 is not a vCPU count (1..64)"},
		{head + "cpus: [two]\nstrategies: [inline]\nseeds: [1]\n", "s.yaml:3: cpus: two is not a vCPU count (1..64)"},
		{head + "cpus: [1, 2, 1]\nstrategies: [inline]\nseeds: [1]\n", "s.yaml:3: cpus: 1 is listed twice"},
		{head + "cpus: []\nstrategies: [inline]\nseeds: [1]\n", "s.yaml:3: cpus: empty list: want vCPU counts"},
		{head + "cpus: {a: 1}\nstrategies: [inline]\nseeds: [1]\n", "s.yaml:3: cpus: want a list of vCPU counts, got a mapping"},
		{head + "cpus:\nstrategies: [inline]\nseeds: [1]\n", "s.yaml:3: cpus: want a list of vCPU counts, got nothing"},
		{head + "cpus: [1]\nstrategy: [inline]\nseeds: [1]\n", `s.yaml:4: unknown key "strategy" (did you mean "strategies"?)`},
		{head + dims + "sedes: [1]\n", `s.yaml:6: unknown key "sedes" (did you mean "seeds"?)`},
		{head + dims + "colour: red\n", `s.yaml:6: unknown key "colour" (known: program, args, env, probes, stack_limit, max_cycles, profile, params, quantum, strategies, cpus, seeds, include, exclude)`},
		{head + dims + "cpus: [2]\n", `s.yaml:6: key "cpus" repeats line 3`},
		{head + "cpus: [1]\nstrategies: [inlin]\nseeds: [1]\n", "s.yaml:4: strategies: inlin is not a strategy (inline, ssol-stack, xol, ssol-stack-2005, ssol-stack-2006)"},
		{head + "cpus: [1]\nstrategies: [inline]\nseeds: [-1]\n", "s.yaml:5: seeds: -1 is not a seed (an integer 0..2^64-1)"},
		{head + "cpus: [1]\nstrategies: [inline]\nseeds: [010]\n", "s.yaml:5: seeds: 010 is not a seed (an integer 0..2^64-1)"},
		{head + "cpus: [1]\nstrategies: [inline]\nseeds: {from: 9, to: 1}\n", "s.yaml:5: seeds: from 9 is greater than to 1"},
		{head + "cpus: [1]\nstrategies: [inline]\nseeds: {from: 1}\n", "s.yaml:5: seeds: a range needs both from and to, as {from: 1, to: 100}"},
		{head + "cpus: [1]\nstrategies: [inline]\nseeds: {from: 1, to: 2, by: 1}\n", `s.yaml:5: seeds: unknown key "by" (known: from, to)`},
		{head + "cpus: [1]\nstrategies: [inline]\nseeds: {from: 1, to: 5000000}\n", "s.yaml:5: seeds: 1..5000000 is more than 1000000 seeds"},
		{head + dims + "quantum: [0, 10000]\n", "s.yaml:6: quantum: 10000 is listed twice"},
		{head + dims + "quantum: [-1]\n", "s.yaml:6: quantum: -1 is not a quantum in cycles (0 = the default, 10000)"},
		{head + dims + "max_cycles: lots\n", `s.yaml:6: max_cycles: lots is not a cycle count (0 = no budget)`},
		{head + dims + "max_cycles: [1, 1]\n", "s.yaml:6: max_cycles: 1 is listed twice"},
		{head + dims + "stack_limit: 1K\n", `s.yaml:6: stack_limit: 1K is not a stack size of at least 64K (a byte count such as 8388608 or 8M)`},
		{head + dims + "env: [FOO]\n", `s.yaml:6: env: "FOO" is not NAME=VALUE`},
		{head + dims + "args: 4 500\n", `s.yaml:6: args: want an argument list such as [4, 500], or a list of them, got "4 500"`},
		{head + dims + "args: [[4, 500], 8]\n", `s.yaml:6: args: "8" among lists: write one list such as an argument list such as [4, 500], or a list of them`},
		{head + dims + "args: [4, [500]]\n", `s.yaml:6: args: a list among arguments: write a list of lists such as [an argument list such as [4, 500], an argument list such as [4, 500]]`},
		{head + dims + "args: [[4], [4]]\n", `s.yaml:6: args: ["4"] is listed twice`},
		{head + dims + "env: [[A=1], [B]]\n", `s.yaml:6: env: "B" is not NAME=VALUE`},
		{"program: /p\nprobes: [f, f]\n" + dims, `s.yaml:2: probes: f is listed twice`},
		{"program: /p\nprobes: [[f], []]\n" + dims, `s.yaml:2: probes: an empty probe set: every configuration needs a probe`},
		{head + dims + "params: {kernel.nope: [1]}\n", "s.yaml:6: params: kernel.nope: unknown parameter"},
		{head + dims + "params:\n  issue_width: [4, x]\n", `s.yaml:7: params: issue_width: "x" is not an integer`},
		{head + dims + "params:\n  issue_width: [0]\n", "s.yaml:7: params: issue_width=0: issue_width: must be between 1 and 16, got 0"},
		{head + dims + "params:\n  issue_width: [4, 4]\n", "s.yaml:7: params: issue_width: 4 is listed twice"},
		{head + dims + "profile: [none.json]\n", "s.yaml:6: profile: none.json: no such file or directory"},
		{head + "cpus: [1\n", "s.yaml:3: did not find expected ',' or ']'"},
		{"program: /p\ncpus: [1]\nstrategies: [inline]\nseeds: [1]\n", `s.yaml: missing key "probes"`},
		{"", "s.yaml: empty config: want a mapping with program, probes, cpus, strategies and seeds"},
		{"- a\n", "s.yaml:1: want a mapping, got a list"},
		// A second document was silently ignored.
		{head + dims + "---\nprogram: /q\n", `s.yaml:6: a second YAML document: a config is one document (remove the "---" and what follows, or merge them)`},
		{head + dims + "---\n", `s.yaml:6: a second YAML document: a config is one document (remove the "---" and what follows, or merge them)`},
		{head + dims + "---\ncpus: [1\n", "s.yaml:7: did not find expected ',' or ']'"},
		{head + "cpus: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nstrategies: [inline, ssol-stack]\nseeds: {from: 1, to: 100000}\n",
			"s.yaml: more than 1000000 configurations; at most 1000000 are allowed"},
	} {
		_, err := Parse("s.yaml", []byte(tc.yaml))
		if assert.Error(t, err, "%q", tc.yaml) {
			assert.Equal(t, tc.want, err.Error(), "%q", tc.yaml)
		}
	}
}

// TestLoadChecksTheProgram: Load finds a missing program and a probe the
// program does not have before anything runs.
func TestLoadChecksTheProgram(t *testing.T) {
	prog := threadsProgram(t)
	missing := writeConfig(t, "program: bin/none\nprobes: [probed]\ncpus: 1\nstrategies: inline\nseeds: 1\n")
	_, err := Load(missing)
	require.Error(t, err)
	assert.Equal(t, missing+":1: program: "+filepath.Join(filepath.Dir(missing), "bin/none")+
		": no such file (relative paths start at the config's directory)", err.Error())

	badProbe := writeConfig(t, fmt.Sprintf("program: %s\nprobes: [nosuch]\ncpus: 1\nstrategies: inline\nseeds: 1\n", prog))
	_, err = Load(badProbe)
	require.Error(t, err)
	assert.Equal(t, fmt.Sprintf(`%s:2: probes: probe "nosuch": no symbol "nosuch" in %s`, badProbe, prog), err.Error())

	_, err = Load(filepath.Join(t.TempDir(), "none.yaml"))
	require.ErrorContains(t, err, "none.yaml: no such file or directory")

	// A program the loader refuses is named once; one whose section headers
	// are damaged runs, but its probes do not resolve.
	data, err := os.ReadFile(prog)
	require.NoError(t, err)
	dir := t.TempDir()
	cut := filepath.Join(dir, "cut")
	require.NoError(t, os.WriteFile(cut, data[:3000], 0o755))
	cfg := writeConfig(t, "program: "+cut+"\nprobes: [probed]\ncpus: 1\nstrategies: inline\nseeds: 1\n")
	_, err = Load(cfg)
	require.ErrorContains(t, err, cfg+":1: program: "+cut+": corrupt ELF: ")
	damaged := filepath.Join(dir, "damaged")
	binary.LittleEndian.PutUint16(data[62:], 0xfeff) // e_shstrndx
	require.NoError(t, os.WriteFile(damaged, data, 0o755))
	cfg = writeConfig(t, "program: "+damaged+"\nprobes: [probed]\ncpus: 1\nstrategies: inline\nseeds: 1\n")
	_, err = Load(cfg)
	require.ErrorContains(t, err, cfg+":2: probes: "+damaged+`: cannot resolve probe "probed": section headers corrupt: `)

	// /dev/zero is refused after MaxConfigBytes, not read until memory ends.
	_, err = Load("/dev/zero")
	require.EqualError(t, err, "/dev/zero: more than 16 MiB: too large for a sweep config")
	prof := writeConfig(t, fmt.Sprintf("program: %s\nprobes: [probed]\ncpus: 1\nstrategies: inline\nseeds: 1\nprofile: /dev/zero\n", prog))
	_, err = Load(prof)
	require.EqualError(t, err, prof+":6: profile: /dev/zero: more than 1 MiB: too large for a profile")
}

// TestProgramRelativeToConfig: a relative program path starts at the
// config file's directory, whatever the current directory is.
func TestProgramRelativeToConfig(t *testing.T) {
	prog := threadsProgram(t)
	dir := t.TempDir()
	require.NoError(t, os.Symlink(prog, filepath.Join(dir, "threads")))
	path := filepath.Join(dir, "s.yaml")
	require.NoError(t, os.WriteFile(path, []byte("program: threads\nprobes: [probed]\ncpus: 1\nstrategies: inline\nseeds: 1\n"), 0o644))
	c, err := Load(path)
	require.NoError(t, err)
	assert.Equal(t, "threads", c.Program)
	assert.Equal(t, filepath.Join(dir, "threads"), c.ProgramPath)
}

func TestSuggest(t *testing.T) {
	assert.Equal(t, ` (did you mean "cpus"?)`, suggest("cpu", Keys))
	assert.Equal(t, ` (did you mean "max_cycles"?)`, suggest("max-cycles", Keys))
	assert.Equal(t, ` (did you mean "strategies"?)`, suggest("Strategy", Keys))
	assert.Equal(t, 3, editDistance("kitten", "sitting"))
}

// TestSyntaxErrorLines: a YAML syntax error names the line an editor shows.
func TestSyntaxErrorLines(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"a: 1\nb: 2\nc: [1\n", "s.yaml:3: did not find expected ',' or ']'"},
		{"a: 1\nb: 2\nc: {x\n", "s.yaml:3: did not find expected ',' or '}'"},
		{"a: 1\nb: 2\nc 2\nd: 3\n", "s.yaml:3: could not find expected ':'"},
		{"a: 1\n\tb: 2\n", "s.yaml:2: found a tab character that violates indentation"},
	} {
		_, err := Parse("s.yaml", []byte(tc.yaml))
		if assert.Error(t, err) {
			assert.Equal(t, tc.want, err.Error(), "%q", tc.yaml)
		}
	}
}

// TestDefaultBudgetDocumented: docs/sweep.md gives the default budget's
// value and its host cost at worst (a loop of stores runs about 1 G cycles
// in 50 s here), not "a few minutes".
func TestDefaultBudgetDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/sweep.md")
	require.NoError(t, err)
	var line string
	for _, l := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(l, "| `max_cycles` |") {
			line = l
		}
	}
	require.NotEmpty(t, line, "docs/sweep.md documents max_cycles")
	assert.Contains(t, line, "`10_000_000_000`")
	assert.Equal(t, uint64(10_000_000_000), uint64(DefaultMaxCycles))
	assert.Contains(t, line, "up to about 10 minutes for a loop of stores")
	assert.NotContains(t, string(doc), "few minutes")
}
