package main

import (
	"regexp"

	"github.com/probesim/probesim/fixtures"
)

// Where the dynamically linked fixtures find glibc on Debian 12: libc6's,
// and gcc-multilib's libc6-i386 (ldd names /lib32/libc.so.6).
var libc = map[string]string{
	fixtures.ArchAMD64: "/lib/x86_64-linux-gnu/libc.so.6",
	fixtures.ArchI386:  "/lib32/libc.so.6",
}

// A probeCase is one row of the table: a fixture run natively under a
// Linux uprobe and under probesim with the same probe.
type probeCase struct {
	Arch, Fixture string
	Args          []string
	// Probe is a probesim probe spec: "SYMBOL[+OFF]" in the main program,
	// "FILE:SYMBOL[+OFF]" in a shared library (issue 12's form).
	Probe string
	// Lock, if set, replaces Probe by the first LOCK-prefixed instruction
	// of that main-program function ("SYMBOL+OFF"), found by decoding it.
	Lock string
	// Count, if set, finds the program's own count of the probed calls in
	// its native standard output (the first group, decimal).
	Count *regexp.Regexp
	// CPUs is the number of vCPUs probesim runs it on.
	CPUs int
	// Processes marks a program of several processes: Linux's hits are
	// counted system-wide (perfprobe.StatSystemWide).
	Processes bool
}

var (
	threadsCalls = regexp.MustCompile(`(?m)^calls=(\d+)$`)
	mallocCalls  = regexp.MustCompile(`(?m)^malloc calls=(\d+)$`)
	freeCalls    = regexp.MustCompile(`(?m)^free calls=(\d+)$`)
	fillCalls    = regexp.MustCompile(`(?m)^fill_block calls=(\d+)$`)
)

// cases is the table, in its fixed order. The static rows run under
// probesim today; the dynamically linked ones (NAME_dyn, probes in
// libc.so.6) need its dynamic loader and file-keyed probes (issue 12),
// and until then show probesim's refusal. Every program here is race-free:
// what it calls does not depend on how its threads interleave.
func cases() []probeCase {
	var out []probeCase
	for _, arch := range []string{fixtures.ArchAMD64, fixtures.ArchI386} {
		lib := libc[arch]
		out = append(out,
			// A function the threads call, in a static main program.
			probeCase{Arch: arch, Fixture: "threads", Args: []string{"4", "1000"}, Probe: "probed", Count: threadsCalls, CPUs: 4},
			// Its "lock add" to the atomic total: Linux refuses LOCK
			// prefixes (arch_uprobe_analyze_insn), probesim does not.
			probeCase{Arch: arch, Fixture: "threads", Args: []string{"4", "1000"}, Lock: "probed", Count: threadsCalls, CPUs: 4},
			// glibc's malloc linked into the static program.
			probeCase{Arch: arch, Fixture: "threads", Args: []string{"4", "1000"}, Probe: "malloc", CPUs: 4},
			// qsort's comparison, called ~130,000 times through a pointer.
			probeCase{Arch: arch, Fixture: "qsort", Probe: "compare_ints", CPUs: 1},
			// Dynamically linked: libc's malloc and free, called by the
			// threads, and a main-program function they call, in a PIE.
			probeCase{Arch: arch, Fixture: "mallocthreads_dyn", Args: []string{"4", "1000"}, Probe: lib + ":malloc", Count: mallocCalls, CPUs: 4},
			probeCase{Arch: arch, Fixture: "mallocthreads_dyn", Args: []string{"4", "1000"}, Probe: lib + ":free", Count: freeCalls, CPUs: 4},
			probeCase{Arch: arch, Fixture: "mallocthreads_dyn", Args: []string{"4", "1000"}, Probe: "fill_block", Count: fillCalls, CPUs: 4},
			probeCase{Arch: arch, Fixture: "threads_dyn", Args: []string{"4", "1000"}, Probe: "probed", Count: threadsCalls, CPUs: 4},
			// Four forked workers call work_item 1,000 times each: a probe
			// on a file hits in every process that runs it (issue 11).
			probeCase{Arch: arch, Fixture: "preforked", Args: []string{"4", "1000"}, Probe: "work_item", Count: threadsCalls, CPUs: 4, Processes: true},
		)
	}
	return out
}
