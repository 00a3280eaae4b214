// Package report defines probesim's JSON run report, documented in
// docs/report-schema.md. Every field outside Host is a pure function of the
// run's inputs (program, arguments, environment, flags and seed): encoding
// is deterministic (struct field order, sorted map keys, no floats outside
// Host), so two runs with the same inputs give byte-identical reports once
// Host is removed.
package report

import (
	"encoding/json"
	"io"
	"os"
	"unicode/utf8"
)

// Schema is the current report schema identifier. It changes whenever a
// field changes meaning or is removed; adding a field keeps it. v2: the
// run may hold several processes (Processes); the per-run counts are the
// whole simulation's, the exit status, stop reason, memory and maps the
// first process's.
const Schema = "probesim.run/v2"

// Run is the report of one probesim run.
type Run struct {
	Schema  string   `json:"schema"`
	Program string   `json:"program"`
	Args    []string `json:"args"`
	Env     []string `json:"env"`
	Arch    string   `json:"arch"`
	Seed    uint64   `json:"seed"`
	Profile string   `json:"profile"`
	// ProfileOverrides are the --param assignments applied to the profile.
	ProfileOverrides []string `json:"profile_overrides"`
	CPUs             int      `json:"cpus"`
	Quantum          uint64   `json:"quantum"`
	Lockstep         bool     `json:"lockstep"`
	Limits           Limits   `json:"limits"`

	// StopReason is "exit", "signal", "fault" or "cycle_budget".
	StopReason string `json:"stop_reason"`
	// ExitStatus is the status a shell would see: the exit code, or
	// 128+signal when a signal ended the process.
	ExitStatus int `json:"exit_status"`
	// Signal names the signal that ended the process, or null.
	Signal *string `json:"signal"`
	// Fault describes a guest fault, as the kernel would log it.
	Fault *Fault `json:"fault,omitempty"`

	Stdout       string `json:"stdout"`
	Stderr       string `json:"stderr"`
	StdoutBase64 []byte `json:"stdout_base64,omitempty"`
	StderrBase64 []byte `json:"stderr_base64,omitempty"`
	// StdoutTruncated and StderrTruncated are set when the stream was
	// longer than the report keeps (2*OutputKeep bytes): Stdout (Stderr)
	// is then its head, and these give its size, hash and tail.
	StdoutTruncated *Truncated `json:"stdout_truncated,omitempty"`
	StderrTruncated *Truncated `json:"stderr_truncated,omitempty"`

	Cycles       uint64   `json:"cycles"`
	Instructions uint64   `json:"instructions"`
	VCPUs        []VCPU   `json:"vcpus"`
	Threads      []Thread `json:"threads"`
	// Processes are every process of the run, in creation order.
	Processes []Process `json:"processes"`

	Syscalls            map[string]uint64 `json:"syscalls"`
	UnsupportedSyscalls map[string]uint64 `json:"unsupported_syscalls"`
	// KernelNotes count what the kernel accepted without modelling it
	// (an advisory lock, say), as "syscall:detail".
	KernelNotes map[string]uint64 `json:"kernel_notes,omitempty"`
	// HostFiles are the host files whose contents the guest read, in the
	// order it first read them: inputs of the run.
	HostFiles []HostFile `json:"host_files,omitempty"`
	// Libraries are the files mapped executable besides the program: the
	// dynamic loader and the shared objects it mapped, in the order first
	// mapped.
	Libraries []Library `json:"libraries,omitempty"`

	// Probes is present when probes were placed (--probe).
	Probes []Probe `json:"probes,omitempty"`
	// Strategy is the probe strategy ("inline", "ssol-stack", "xol").
	Strategy string `json:"strategy,omitempty"`
	// OutOfLine counts what ssol-stack or xol had to do.
	OutOfLine *OutOfLine `json:"out_of_line,omitempty"`

	Memory Memory `json:"memory"`
	Maps   []VMA  `json:"maps"`

	Host *Host `json:"host,omitempty"`
}

// HostFile is a host file the guest read: its path in the guest's view,
// its size and its SHA-256 (hex).
type HostFile struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Library is a shared object (or the dynamic loader) the run mapped
// executable: its path in the guest's view and the SHA-256 of its
// contents.
type Library struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// Limits are the budgets the run had.
type Limits struct {
	MaxCycles   uint64 `json:"max_cycles"`    // 0 = none
	StackLimit  uint64 `json:"stack_limit"`   // RLIMIT_STACK in bytes
	MemoryLimit uint64 `json:"memory_limit"`  // 0 = none
	RAM         uint64 `json:"ram,omitempty"` // the machine's memory for guest pages; absent: the default, 8 GiB
}

// Fault is a guest fault.
type Fault struct {
	Signal    string `json:"signal"`
	Kind      string `json:"kind"`
	Address   uint64 `json:"address"`
	RIP       uint64 `json:"rip"`
	SP        uint64 `json:"sp"`
	ErrorCode uint64 `json:"error_code"`
	VMA       string `json:"vma"`
	// Message is the kernel-log-like line probesim prints.
	Message string `json:"message"`
}

// VCPU is one virtual CPU's account. Cycles is its clock at the end, idle
// time included.
type VCPU struct {
	ID              int    `json:"id"`
	Cycles          uint64 `json:"cycles"`
	Instructions    uint64 `json:"instructions"`
	IdleCycles      uint64 `json:"idle_cycles"`
	ContextSwitches uint64 `json:"context_switches"`
	IPIsReceived    uint64 `json:"ipis_received"`
	TLBShootdowns   uint64 `json:"tlb_shootdowns"`
	// AddressSpaceSwitches counts the times it loaded another process's
	// page tables (each charged the profile's address_space_switch).
	AddressSpaceSwitches uint64 `json:"address_space_switches"`
}

// Process is one guest process: its identity, what it ran, how it ended
// and what its threads ran.
type Process struct {
	PID int `json:"pid"`
	// PPID is the pid of the process that created it (1: init, for the
	// first process), whoever reaped it.
	PPID    int      `json:"ppid"`
	Program string   `json:"program"`
	Args    []string `json:"args"`
	// ExitStatus is what its parent's shell would see: the exit code, or
	// 128+signal; Signal names the signal that ended it, or null.
	ExitStatus   int     `json:"exit_status"`
	Signal       *string `json:"signal"`
	Cycles       uint64  `json:"cycles"`
	Instructions uint64  `json:"instructions"`
	Threads      []int   `json:"threads"` // tids, in creation order
}

// Thread is one guest thread: the cycles it ran and the vCPUs it ran on.
type Thread struct {
	TID        int    `json:"tid"`
	VCPUs      []int  `json:"vcpus"`
	Cycles     uint64 `json:"cycles"`
	ExitStatus int    `json:"exit_status"`
}

// ProbeProcess is a probe's account in one process: the executions of its
// threads, hits and misses.
type ProbeProcess struct {
	PID        int    `json:"pid"`
	Executions uint64 `json:"executions"`
	Hits       uint64 `json:"hits"`
	Misses     uint64 `json:"misses"`
}

// Probe is one probe's account: every execution of the probed instruction
// as program flow is a hit (the handler ran) or a miss, so hits + misses =
// executions.
type Probe struct {
	Spec        string `json:"spec"`
	Address     uint64 `json:"address"`
	Instruction string `json:"instruction"`
	// AttachedAt and DetachedAt are the cycles of global time at which a
	// probe was placed and removed while the program ran (--probe-at,
	// --detach-at); absent for a probe placed before the run, and for one
	// never removed. Executions count only while the probe was placed.
	AttachedAt uint64 `json:"attached_at,omitempty"`
	DetachedAt uint64 `json:"detached_at,omitempty"`
	// Return marks a return probe (SPEC%return): its executions, hits
	// and misses are returns; Returns has its other counts.
	Return  bool          `json:"return,omitempty"`
	Returns *ProbeReturns `json:"returns,omitempty"`
	// EmulatedHits (xol): hits (a return probe's: entries) whose
	// instruction ran in the kernel with no step, as Linux emulates nops,
	// relative jumps and calls, jcc and push reg; the others were
	// single-stepped.
	EmulatedHits uint64     `json:"emulated_hits,omitempty"`
	Executions   uint64     `json:"executions"`
	Hits         uint64     `json:"hits"`
	Misses       uint64     `json:"misses"`
	PerCPU       []ProbeCPU `json:"per_cpu"`
	// PerProcess is the same per process, in pid order (a probe hits in
	// every process that runs the probed file: forked children too).
	PerProcess []ProbeProcess `json:"per_process"`
	Windows    WindowStats    `json:"windows"`
	// OverheadCycles is what the hits cost the trapping vCPUs, by phase.
	OverheadCycles ProbeOverhead `json:"overhead_cycles"`
	// Misses in cycle order: when and where each happened.
	MissList []ProbeMiss `json:"miss_list"`
	// File is where a probe on a file other than the program is
	// (BINARY:SYMBOL, BINARY:0xOFFSET, uprobe:BINARY:SYMBOL); absent for
	// the program's probes.
	File *ProbeFile `json:"file,omitempty"`
	// Note says what the probe point is when it may surprise: an IFUNC's
	// probe is on its resolver, as perf probe warns.
	Note string `json:"note,omitempty"`
}

// ProbeFile is a probe on a file: its place in the file and the mappings
// that armed it.
type ProbeFile struct {
	Path   string `json:"path"`   // as the spec names it, in the guest's view
	Offset uint64 `json:"offset"` // the probed instruction's file offset
	Vaddr  uint64 `json:"vaddr"`  // its link-time address in the file
	// Mappings is how many mappings of the file armed the probe (each an
	// address; Probe.Address is the first one's, 0 if none did).
	Mappings uint64 `json:"mappings"`
}

// ProbeReturns are a return probe's counts besides its hits and misses.
type ProbeReturns struct {
	// Dropped: armed returns whose frames were gone (unwound past by a
	// longjmp), found by comparing stack pointers as Linux does; no
	// returns, so neither hits nor misses.
	Dropped uint64 `json:"dropped"`
	// DepthLimited: entries that armed nothing because the thread held
	// MAX_URETPROBE_DEPTH (64) returns already; each is a miss.
	DepthLimited uint64 `json:"depth_limited"`
	// Pending: returns still armed when the run ended.
	Pending uint64 `json:"pending"`
}

// ProbeOverhead is the cycles a probe's hits cost the trapping vCPUs,
// summed over the hits and split by phase. Each phase is exact (every
// cycle is booked from the figure that charged it) and rounded down to
// whole cycles; Total is the sum of the phases; PerHit is Total / hits,
// rounded down (0 without hits). Cycles the hits steal from other vCPUs
// (shootdown IPIs, cross-modifying-code serialisation) are not in it.
type ProbeOverhead struct {
	// Trap: the int3 exception's entry and exit, which covers the probe
	// lookup; spurious traps (a miss whose int3 was gone when the kernel
	// looked) are counted here too.
	Trap uint64 `json:"trap"`
	// Handler: the probe handler (the modelled counting handler, plus the
	// cycles a library handler charged).
	Handler uint64 `json:"handler"`
	// Step: preparing and taking the single-step: the text writes (the
	// original byte and int3 again, inline) or the slot copy, a stack
	// expansion and clearing NX (out of line), the #DB exception, the
	// stepped instruction itself.
	Step uint64 `json:"step"`
	// Fixups: the ip, return-address, flags and scratch-register fixups
	// after the step (only the stack writes cost cycles), and restoring
	// the page's protection.
	Fixups uint64 `json:"fixups"`
	// Shootdowns: TLB shootdowns the hits initiated (text writes, NX flips
	// and their restores; a stack expansion needs none), as charged to the
	// trapping vCPU.
	Shootdowns uint64 `json:"shootdowns"`
	Total      uint64 `json:"total"`
	PerHit     uint64 `json:"per_hit"`
}

// OutOfLine counts the out-of-line strategies' work: for ssol-stack, stack
// pages made executable for a step (each restored afterwards), slots at the
// start of the stack's VMA, stack expansions to make room for a slot; for
// xol, the most XOL slots in use at once; for both, hits that fell back to
// inline stepping; and what the flips, expansions and the XOL page's
// mapping cost the trapping vCPUs (cycles that are also in the probes'
// overhead_cycles phases).
type OutOfLine struct {
	NXFlips         uint64 `json:"nx_flips"`
	StackExpansions uint64 `json:"stack_expansions"`
	// StackStartSlots: steps whose slot went to the start of the stack's
	// VMA because sp's page had no room (the 2006 repost's first fallback).
	StackStartSlots uint64 `json:"stack_start_slots"`
	InlineFallbacks uint64 `json:"inline_fallbacks"`
	// NXFlipCycles: clearing NX and restoring it, each a page-table update
	// with its TLB shootdown.
	NXFlipCycles uint64 `json:"nx_flip_cycles"`
	// StackExpansionCycles: a page-fault entry and exit per page grown.
	StackExpansionCycles uint64 `json:"stack_expansion_cycles"`
	// XOLSlotsMaxInUse (xol only): the most XOL slots taken at once, at
	// most 31.
	XOLSlotsMaxInUse uint64 `json:"xol_slots_max_in_use,omitempty"`
	// XOLMapCycles (xol only): what mapping the "[uprobes]" page on the
	// first hit cost.
	XOLMapCycles uint64 `json:"xol_map_cycles,omitempty"`
	// XOLSlotWaits (xol only): hits that found all 31 slots taken and
	// slept until one was freed, as xol_get_insn_slot does; none is lost.
	// XOLSlotWaitCycles: from each one's sleep to its wake-up, summed.
	XOLSlotWaits      uint64 `json:"xol_slot_waits,omitempty"`
	XOLSlotWaitCycles uint64 `json:"xol_slot_wait_cycles,omitempty"`
	// EmulatedHits and SteppedHits (xol only): the probed instructions
	// run in the kernel without a step at a hit (one trap each), and those
	// single-stepped (two traps), over all probes; a return probe's entry
	// counts, its return (the trampoline's one trap) does not.
	EmulatedHits uint64 `json:"emulated_hits,omitempty"`
	SteppedHits  uint64 `json:"stepped_hits,omitempty"`
	// LockSpins and LockSpinCycles (ssol-stack-2006 only): hits that
	// found the repost's global lock held and spun for it, and the cycles
	// their vCPUs spun.
	LockSpins      uint64 `json:"lock_spins,omitempty"`
	LockSpinCycles uint64 `json:"lock_spin_cycles,omitempty"`
	// SeedDefects (ssol-stack-2005 only): what the seed's posted code did
	// wrong.
	SeedDefects *SeedDefects `json:"seed_defects,omitempty"`
}

// SeedDefects count the 2005 seed's defects as they happened
// (probes/seed2005.go), with the first ones described.
type SeedDefects struct {
	// LiveStackCopies: copies written at or above sp, into live stack
	// data (PAGE_ALIGN rounds up).
	LiveStackCopies uint64 `json:"live_stack_copies"`
	// EIPNotMoved: hits that made no copy (no VMA, or the copy faulted),
	// whose thread then stepped from the byte after the int3.
	EIPNotMoved uint64 `json:"eip_not_moved"`
	// ForeignSinglestepAddr: fixups that used the global singlestep_addr
	// another hit had written.
	ForeignSinglestepAddr uint64 `json:"foreign_singlestep_addr"`
	// MissingFixups: calls, returns, indirect branches and flag pushes or
	// pops given only the ip delta (the posted TODO).
	MissingFixups uint64   `json:"missing_fixups"`
	Examples      []string `json:"examples"`
}

// ProbeCPU is one vCPU's counts for a probe.
type ProbeCPU struct {
	VCPU       int    `json:"vcpu"`
	Executions uint64 `json:"executions"`
	Hits       uint64 `json:"hits"`
	Misses     uint64 `json:"misses"`
}

// WindowStats summarise the times the original byte was back in the text.
type WindowStats struct {
	Count       uint64 `json:"count"`
	TotalCycles uint64 `json:"total_cycles"`
	MaxCycles   uint64 `json:"max_cycles"`
}

// ProbeMiss is one miss.
type ProbeMiss struct {
	Cycle    uint64 `json:"cycle"`
	VCPU     int    `json:"vcpu"`
	TID      int    `json:"tid"`
	Spurious bool   `json:"spurious,omitempty"`
}

// Memory summarises the address space.
type Memory struct {
	MappedBytes     uint64 `json:"mapped_bytes"`
	PeakMappedBytes uint64 `json:"peak_mapped_bytes"`
	StackBytes      uint64 `json:"stack_bytes"`
	StackGrowths    uint64 `json:"stack_growths"`
}

// VMA is one line of the final /proc/self/maps.
type VMA struct {
	Start  uint64 `json:"start"`
	End    uint64 `json:"end"`
	Perms  string `json:"perms"`
	Offset uint64 `json:"offset"`
	Name   string `json:"name"`
}

// Host holds everything that depends on the machine probesim ran on.
type Host struct {
	WallSeconds  float64 `json:"wall_seconds"`
	GuestMIPS    float64 `json:"guest_mips"`
	BlocksCosted uint64  `json:"blocks_costed"`
	// DistinctBlocks is how many different block addresses were costed:
	// blocks_costed minus it is the re-costs (after code changed).
	DistinctBlocks uint64 `json:"distinct_blocks"`
	GoVersion      string `json:"go_version"`
}

// SetOutput stores captured guest output: as text when it is valid UTF-8,
// else base64 (JSON strings cannot carry arbitrary bytes); of a stream
// longer than the report keeps, its head, with its size, hash and tail.
func (r *Run) SetOutput(stdout, stderr *Capture) {
	r.Stdout, r.StdoutBase64, r.StdoutTruncated = stdout.output()
	r.Stderr, r.StderrBase64, r.StderrTruncated = stderr.output()
}

func textOrBytes(b []byte) (string, []byte) {
	if utf8.Valid(b) {
		return string(b), nil
	}
	return "", b
}

// Encode writes r as indented JSON with a final newline.
func (r *Run) Encode(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteFile writes r to path.
func (r *Run) WriteFile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := r.Encode(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
