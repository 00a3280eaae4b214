package smp_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/fixtures"
	"github.com/probesim/probesim/smp"
)

// Run with: go test -run '^$' -bench . -benchtime 3x ./smp/
//
// Each iteration is a whole run: smp.New (loading) + Run + Close.
// cmd/probesim-bench compares the loop against bare Unicorn.

var benchArches = []string{fixtures.ArchAMD64, fixtures.ArchI386}

// runFixture runs one fixture to its exit and returns the guest
// instruction count.
func runFixture(b *testing.B, path string, args ...string) uint64 {
	m, err := smp.New(smp.Config{Program: path, Args: args})
	require.NoError(b, err)
	defer m.Close()
	rep, err := m.Run()
	require.NoError(b, err)
	require.Equal(b, "exit", rep.StopReason, "stderr: %s", rep.Stderr)
	return rep.Instructions
}

// BenchmarkLoopFixture: the register-only loop, 10M iterations (~50M guest
// instructions): probesim's steady-state speed with cycle accounting.
func BenchmarkLoopFixture(b *testing.B) {
	for _, arch := range benchArches {
		b.Run(arch, func(b *testing.B) {
			path, err := fixtures.Path(arch, "loop")
			require.NoError(b, err)
			var insns uint64
			for b.Loop() {
				insns += runFixture(b, path, "10000000")
			}
			secs := b.Elapsed().Seconds()
			b.ReportMetric(secs*1e9/float64(insns), "ns/insn")
			b.ReportMetric(float64(insns)/secs/1e6, "MIPS")
		})
	}
}

// BenchmarkStdioFixture: a short glibc program (printf, snprintf, puts),
// dominated by start-up: loading, glibc initialisation, first translations
// and a few dozen system calls.
func BenchmarkStdioFixture(b *testing.B) {
	for _, arch := range benchArches {
		b.Run(arch, func(b *testing.B) {
			path, err := fixtures.Path(arch, "stdio")
			require.NoError(b, err)
			runs := 0
			for b.Loop() {
				runFixture(b, path)
				runs++
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e6/float64(runs), "µs/run")
		})
	}
}
