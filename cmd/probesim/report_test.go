package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/fixtures"
	"github.com/probesim/probesim/report"
)

// withoutKeys re-encodes a report without the given top-level keys.
func withoutKeys(t *testing.T, obj map[string]any, keys ...string) string {
	t.Helper()
	c := make(map[string]any, len(obj))
	for k, v := range obj {
		c[k] = v
	}
	for _, k := range keys {
		delete(c, k)
	}
	b, err := json.Marshal(c)
	require.NoError(t, err)
	return string(b)
}

// TestReportDeterministic checks the schema's promise: the same inputs give
// byte-identical reports once "host" is gone.
func TestReportDeterministic(t *testing.T) {
	type program struct {
		name  string
		flags []string
		args  []string
	}
	programs := []program{
		{name: "stdio"},
		{name: "qsort"},
		{name: "threads", flags: []string{"--cpus", "4"}, args: []string{"4", "1000"}},
	}
	for _, arch := range arches {
		for _, p := range programs {
			t.Run(arch+"/"+p.name, func(t *testing.T) {
				t.Parallel()
				path := fixturePath(t, arch, p.name)
				flags := append([]string{"--seed", "7"}, p.flags...)
				_, rep1, obj1, _ := runReport(t, flags, path, p.args...)
				_, _, obj2, _ := runReport(t, flags, path, p.args...)
				require.Contains(t, obj1, "host")
				assert.Equal(t, withoutKeys(t, obj1, "host"), withoutKeys(t, obj2, "host"))
				assert.Equal(t, uint64(7), rep1.Seed)

				// Another seed may change the schedule and the clocks' start
				// skew, but not what these programs compute.
				flags[1] = "8"
				_, rep3, _, _ := runReport(t, flags, path, p.args...)
				assert.Equal(t, uint64(8), rep3.Seed)
				assert.Equal(t, rep1.Stdout, rep3.Stdout)
				assert.Equal(t, rep1.Stderr, rep3.Stderr)
				assert.Equal(t, rep1.ExitStatus, rep3.ExitStatus)
				assert.Equal(t, rep1.StopReason, rep3.StopReason)
				if p.name != "threads" {
					// One thread: the same instructions, syscalls and memory.
					assert.Equal(t, rep1.Instructions, rep3.Instructions)
					assert.Equal(t, rep1.Syscalls, rep3.Syscalls)
					assert.Equal(t, rep1.Memory, rep3.Memory)
					assert.Equal(t, rep1.Maps, rep3.Maps)
				}
			})
		}
	}
}

// TestReportSchemaDocumented checks that docs/report-schema.md documents
// every field a report has, and that every documented field is there.
func TestReportSchemaDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "report-schema.md"))
	require.NoError(t, err)
	// Table rows: | `name`[, `name`] | type | meaning |
	documented := map[string]string{} // field -> its row's meaning
	for _, line := range strings.Split(string(doc), "\n") {
		cols := strings.Split(line, "|")
		if len(cols) < 5 || !strings.Contains(cols[1], "`") {
			continue
		}
		for _, m := range backticked.FindAllStringSubmatch(cols[1], -1) {
			documented[m[1]] = cols[3]
		}
	}
	require.Contains(t, documented, "schema", "the schema table was found")

	// A normal exit and a fault: together they have every field but the
	// optional ones the other runs bring: kernel notes (fds' locks), host
	// files (busybox cat) and truncated output (busybox seq: 1.2 MB).
	_, _, stdio, _ := runReport(t, nil, fixturePath(t, fixtures.ArchAMD64, "stdio"))
	_, _, nx, _ := runReport(t, nil, fixturePath(t, fixtures.ArchAMD64, "nx"))
	_, _, fds, _ := runReport(t, nil, fixturePath(t, fixtures.ArchAMD64, "fds"))
	_, _, cat, _ := runReport(t, nil, "/bin/busybox", "cat", "/etc/passwd")
	_, _, seq, _ := runReport(t, nil, "/bin/busybox", "seq", "1", "200000")
	_, _, dyn, _ := runReport(t, nil, "/bin/true")
	for name, obj := range map[string]map[string]any{"fds": fds, "cat": cat, "seq": seq, "dyn": dyn} {
		field := map[string]string{"fds": "kernel_notes", "cat": "host_files", "seq": "stdout_truncated", "dyn": "libraries"}[name]
		require.Contains(t, obj, field, name)
	}
	reported := map[string]map[string]bool{} // field -> its subfields, if an object
	for _, obj := range []map[string]any{stdio, nx, fds, cat, seq, dyn} {
		for field, v := range obj {
			if reported[field] == nil {
				reported[field] = map[string]bool{}
			}
			for _, sub := range subfields(v) {
				reported[field][sub] = true
			}
		}
	}

	optional := map[string]bool{"fault": true, "stdout_base64": true, "stderr_base64": true, "probes": true, "strategy": true, "out_of_line": true,
		"kernel_notes": true, "host_files": true, "libraries": true, "stdout_truncated": true, "stderr_truncated": true}
	for _, field := range sortedKeys(documented) {
		if !optional[field] {
			assert.Contains(t, stdio, field, "documented field missing from the report")
		}
	}
	// Objects keyed by data (syscall names), not by field names.
	keyedByData := map[string]bool{"syscalls": true, "unsupported_syscalls": true, "kernel_notes": true}
	for _, field := range sortedKeys(reported) {
		meaning, ok := documented[field]
		if !assert.True(t, ok, "report field %q is not in docs/report-schema.md", field) || keyedByData[field] {
			continue
		}
		for _, sub := range sortedKeys(reported[field]) {
			assert.True(t, strings.Contains(meaning, "`"+sub+"`"), "%s.%s is not documented (row: %q)", field, sub, meaning)
		}
	}
}

// sortedKeys returns m's keys in order, so failures are reported in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var backticked = regexp.MustCompile("`([a-z_0-9]+)`")

// subfields lists the keys of an object, or of the objects in a list.
func subfields(v any) []string {
	var keys []string
	switch v := v.(type) {
	case map[string]any:
		for k := range v {
			keys = append(keys, k)
		}
	case []any:
		seen := map[string]bool{}
		for _, e := range v {
			for _, k := range subfields(e) {
				if !seen[k] {
					seen[k] = true
					keys = append(keys, k)
				}
			}
		}
	}
	sort.Strings(keys)
	return keys
}

// TestSeedDrivesRandomness runs testdata/seeded.c, which prints its
// AT_RANDOM bytes and 16 bytes of getrandom: a function of --seed alone.
func TestSeedDrivesRandomness(t *testing.T) {
	for _, arch := range arches {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			prog := compileC(t, "seeded.c", arch, false)
			run := func(seed string) []string {
				res := cli(t, "run", "--seed", seed, prog)
				require.Equal(t, 0, res.status, "stderr %q", res.stderr)
				lines := outputLines(res.stdout)
				require.Len(t, lines, 2, "stdout %q", res.stdout)
				require.True(t, strings.HasPrefix(lines[0], "at_random="), lines[0])
				require.True(t, strings.HasPrefix(lines[1], "getrandom="), lines[1])
				return lines
			}
			a, b, c := run("1"), run("1"), run("2")
			assert.Equal(t, a, b, "same seed")
			assert.NotEqual(t, a[0], c[0], "AT_RANDOM with another seed")
			assert.NotEqual(t, a[1], c[1], "getrandom with another seed")
			// The two uses draw from separate streams.
			assert.NotEqual(t, strings.TrimPrefix(a[0], "at_random="), strings.TrimPrefix(a[1], "getrandom="))
		})
	}
}

// schemaFields lists every field docs/report-schema.md documents, except
// the optional fault, stdout_base64 and stderr_base64.
var schemaFields = []string{
	"schema", "program", "args", "env", "arch", "seed", "profile", "limits",
	"stop_reason", "exit_status", "signal", "stdout", "stderr", "cycles",
	"instructions", "vcpus", "syscalls", "unsupported_syscalls", "memory",
	"maps", "host",
}

var schemaSubfields = map[string][]string{
	"limits": {"max_cycles", "stack_limit", "memory_limit"},
	"memory": {"mapped_bytes", "peak_mapped_bytes", "stack_bytes", "stack_growths"},
	"host":   {"wall_seconds", "guest_mips", "blocks_costed", "distinct_blocks", "go_version"},
}

// TestReportFields checks every documented field of a stdio run's report.
func TestReportFields(t *testing.T) {
	for _, arch := range arches {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			path := fixturePath(t, arch, "stdio")
			nat := native(t, path, nil, nil)
			res, rep, obj, _ := runReport(t, []string{"--seed", "5"}, path)
			require.Equal(t, 3, res.status, "stderr %q", res.stderr)

			for _, k := range schemaFields {
				assert.Contains(t, obj, k)
			}
			for k, subs := range schemaSubfields {
				sub, ok := obj[k].(map[string]any)
				require.True(t, ok, "%s is an object", k)
				for _, s := range subs {
					assert.Contains(t, sub, s, k)
				}
			}
			assert.NotContains(t, obj, "fault", "no fault in an exit")
			assert.NotContains(t, obj, "stdout_base64")
			assert.NotContains(t, obj, "stderr_base64")
			assert.Nil(t, obj["signal"], "signal is null")
			assert.Equal(t, []any{}, obj["args"], "args is a list, even empty")
			assert.Equal(t, []any{}, obj["env"], "env is a list, even empty")

			assert.Equal(t, report.Schema, rep.Schema)
			assert.Equal(t, "probesim.run/v2", rep.Schema)
			assert.Equal(t, path, rep.Program)
			assert.Equal(t, arch, rep.Arch)
			assert.Equal(t, uint64(5), rep.Seed)
			assert.Equal(t, "skylake", rep.Profile)
			assert.Equal(t, report.Limits{MaxCycles: 0, StackLimit: 8 << 20, MemoryLimit: 0}, rep.Limits)
			assert.Equal(t, "exit", rep.StopReason)
			assert.Equal(t, 3, rep.ExitStatus)
			assert.Nil(t, rep.Signal)
			assert.Equal(t, string(nat.stdout), rep.Stdout)
			assert.Equal(t, string(nat.stderr), rep.Stderr)
			assert.Equal(t, string(res.stdout), rep.Stdout, "the report holds what was printed")

			assert.Greater(t, rep.Cycles, uint64(0))
			assert.Greater(t, rep.Instructions, uint64(0))
			assert.Equal(t, 1, rep.CPUs)
			require.Len(t, rep.VCPUs, 1)
			assert.Equal(t, 0, rep.VCPUs[0].ID)
			assert.Equal(t, rep.Cycles, rep.VCPUs[0].Cycles)
			assert.Equal(t, rep.Instructions, rep.VCPUs[0].Instructions)
			require.Len(t, rep.Threads, 1)
			assert.Equal(t, 1000, rep.Threads[0].TID)
			assert.Equal(t, []int{0}, rep.Threads[0].VCPUs)

			assert.GreaterOrEqual(t, rep.Syscalls["write"], uint64(1))
			assert.Equal(t, uint64(1), rep.Syscalls["exit_group"])
			assert.NotContains(t, rep.Syscalls, "exit", "exit_group ends the process")
			for name, n := range rep.Syscalls {
				assert.Greater(t, n, uint64(0), name)
			}
			require.Contains(t, obj, "unsupported_syscalls")
			_, isMap := obj["unsupported_syscalls"].(map[string]any)
			assert.True(t, isMap, "unsupported_syscalls is an object")

			checkMapsWellFormed(t, rep.Maps)
			var stacks, text, files int
			var mapped uint64
			for _, m := range rep.Maps {
				mapped += m.End - m.Start
				switch {
				case m.Name == "[stack]":
					stacks++
					assert.Equal(t, "rw-p", m.Perms)
					assert.Equal(t, rep.Memory.StackBytes, m.End-m.Start)
				case m.Name == path:
					files++
					if m.Perms == "r-xp" {
						text++
					}
				}
			}
			assert.Equal(t, 1, stacks, "one [stack]")
			assert.Equal(t, 1, text, "one r-xp mapping of the program")
			assert.GreaterOrEqual(t, files, 3, "the program's segments")
			assert.Equal(t, "[stack]", rep.Maps[len(rep.Maps)-1].Name, "the stack is the highest mapping")
			assert.Equal(t, rep.Memory.MappedBytes, mapped, "mapped_bytes is the size of the maps")
			assert.GreaterOrEqual(t, rep.Memory.PeakMappedBytes, rep.Memory.MappedBytes)
		})
	}
}

// checkMapsWellFormed checks what /proc/self/maps guarantees of its lines:
// sorted, disjoint, page-aligned, non-empty, and permissions of the form
// [r-][w-][x-][ps].
func checkMapsWellFormed(t *testing.T, maps []report.VMA) {
	t.Helper()
	require.NotEmpty(t, maps)
	assert.True(t, sort.SliceIsSorted(maps, func(i, j int) bool { return maps[i].Start < maps[j].Start }))
	for i, m := range maps {
		assert.Less(t, m.Start, m.End, "%+v", m)
		assert.Zero(t, m.Start%4096, "%+v", m)
		assert.Zero(t, m.End%4096, "%+v", m)
		assert.Zero(t, m.Offset%4096, "%+v", m)
		if i > 0 {
			assert.LessOrEqual(t, maps[i-1].End, m.Start, "%+v overlaps %+v", maps[i-1], m)
		}
		require.Len(t, m.Perms, 4, "%+v", m)
		assert.Contains(t, "r-", m.Perms[0:1], "%+v", m)
		assert.Contains(t, "w-", m.Perms[1:2], "%+v", m)
		assert.Contains(t, "x-", m.Perms[2:3], "%+v", m)
		assert.Contains(t, "ps", m.Perms[3:4], "%+v", m)
		if !strings.HasPrefix(m.Name, "/") {
			assert.Zero(t, m.Offset, "anonymous mappings have offset 0: %+v", m)
		}
	}
}

// TestCycleBudget checks --max-cycles ends the guest as RLIMIT_CPU would.
func TestCycleBudget(t *testing.T) {
	const budget = 100000
	for _, arch := range arches {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			// Without arguments loop runs 200,000,000 iterations: far more.
			path := fixturePath(t, arch, "loop")
			res, rep, _, _ := runReport(t, []string{"--max-cycles", "100000"}, path)
			assert.Equal(t, 128+24, res.status, "128+SIGXCPU (stderr %q)", res.stderr)
			assert.Empty(t, res.stdout)
			lines := outputLines(res.stderr)
			require.Len(t, lines, 1, "stderr %q", res.stderr)
			assert.Equal(t, "probesim: "+path+" killed by SIGXCPU (cycle budget of 100000 exhausted)", lines[0])

			assert.Equal(t, "cycle_budget", rep.StopReason)
			assert.Equal(t, 152, rep.ExitStatus)
			require.NotNil(t, rep.Signal)
			assert.Equal(t, "SIGXCPU", *rep.Signal)
			assert.Nil(t, rep.Fault)
			assert.Equal(t, uint64(budget), rep.Limits.MaxCycles)
			assert.GreaterOrEqual(t, rep.Cycles, uint64(budget))
			assert.Less(t, rep.Cycles, uint64(budget+1000))
			require.Len(t, rep.VCPUs, 1)
			assert.Equal(t, rep.Cycles, rep.VCPUs[0].Cycles)
			assert.Greater(t, rep.Instructions, uint64(budget/10), "the loop ran")
			assert.NotContains(t, rep.Syscalls, "exit_group")

			// The catalogue's million iterations fit in a larger budget.
			f, err := fixtures.Lookup("loop")
			require.NoError(t, err)
			res = cli(t, append([]string{"run", "--max-cycles", "1000000000", path}, f.Args...)...)
			assert.Equal(t, f.ExitStatus, res.status, "stderr %q", res.stderr)
		})
	}
}
