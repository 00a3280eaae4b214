// Package timing owns machine profiles and the basic-block cost model.
//
// The emulator's C block hook charges every executed basic block a precomputed cost; this
// package computes that cost once per distinct block (Profile.CostBlock) and holds every
// other cost the simulator charges (Profile.Kernel), each a named parameter a sweep can
// override (Profile.Set, Profile.Override).
//
// # Invariants
//
//   - Costs are fixed point: cycles * 256 (FPShift = 8), in uint64, so fractional block
//     throughputs add up exactly. Everything is integer arithmetic: equal inputs give equal
//     costs on every host.
//   - A block's cost depends only on its bytes, the mode (32 or 64) and the profile.
//   - CostBlock never fails: undecodable bytes are charged a default and reported.
//
// # Locking
//
// None inside. A Profile is a value: CostBlock only reads it and may run concurrently;
// Set, Override and Validate write it and must not run concurrently with anything else on
// the same Profile. The instruction tables are read-only after package init.
//
// # The block model
//
// The model follows timing-sources.md ("A block model that tracks llvm-mca"). Cycles per
// execution of a block are
//
//	max(issue, ports, dividers, chain) + serial
//
// where
//
//   - issue: fused-domain uops / IssueWidth. Uop counts are llvm-mca's (unfused), less one
//     for a load that micro-fuses with its operation and one for a jcc that macro-fuses
//     with the cmp/test/add/sub/and/inc/dec before it; IssueWidth defaults to 4 where
//     llvm-mca's Skylake model says 6, as timing-sources.md suggests.
//   - ports: for every set S of ports, the uops that can only execute on ports of S divided
//     by |S|; the largest ratio. Each table row lists its uops as port groups (p0156, p23,
//     ...), recovered from llvm-mca's per-port pressure.
//   - dividers: cycles the non-pipelined integer and FP dividers are busy (div, sqrt).
//   - chain: the register dependency chain, see below.
//   - serial: serializing instructions, which overlap with nothing: cpuid adds
//     Profile.CPUIDCycles.
//
// Dependencies are tracked per register (sub-registers share the full register; 8- and
// 16-bit writes merge with the old value), for the flags as one register, and for the x87
// stack as one register. Loads add their latency (the table's load rows include it,
// rescaled to Profile.LoadLatency); a load-op instruction waits the full latency for its
// address registers but only latency - load latency for its other inputs, as llvm-mca's
// ReadAfterLd does. Stores do not lengthen chains and memory dependencies (store to load
// forwarding) are not tracked. push/pop/call/ret move rsp in the stack engine without
// latency. Zero idioms (xor eax,eax, pxor x,x, ...) have no inputs, no port and latency 0;
// pcmpeq x,x has no inputs.
//
// Two chains are computed and reported; Profile.Chain chooses the one in the cost:
//
//   - "loop_carried" (default): the heaviest dependency cycle per iteration when the block
//     runs back to back — for each register, the latency from its value at block entry to
//     its value at block exit, combined across registers as the maximum cycle mean (Karp).
//     This is what llvm-mca measures when it iterates a block, and what an out-of-order
//     core sustains on a hot loop: independent work of consecutive blocks overlaps.
//   - "critical_path": the longest dependency path through one execution, every input ready
//     at entry. This charges each block as if nothing overlapped with the next block; it
//     suits straight-line code between serializing events and is an upper estimate
//     elsewhere.
//
// The loop-carried choice is the default because the simulator charges blocks back to back,
// which is how a core runs them; it underestimates a block whose long chain feeds a
// different next block. With llvm-mca's own tables this model was within 0.3-0.7% of
// llvm-mca on 17 synthetic blocks (timing-sources.md); `add $1,%eax; dec %ecx; jnz` gives
// 1.0 cycles here and 1.04 in llvm-mca.
//
// On 75 real basic blocks (the fixtures' hot loops, glibc and textbook loops, both modes)
// the mean absolute error against llvm-mca-14 is 7.4% (11.8% before fusion was counted): see docs/timing.md and
// cmd/validatetiming. validate_test.go re-checks it without llvm against the recorded
// llvm-mca results in testdata/mca_skylake.json.
//
// String instructions with REP/REPE/REPNE are charged one iteration (the row of the plain
// instruction): Unicorn, like QEMU, translates "rep X" as one iteration that jumps back to
// itself, so the block hook fires once per iteration and the charge scales with the count.
// This overstates long fast-string copies (rep movsb/stosb move 16-32 bytes per cycle on
// Skylake) and is close for repe cmps / repne scas.
//
// Undecodable bytes: decoding stops at the first instruction x86asm rejects (or decodes to
// a lone prefix); the rest of the block counts as one instruction of the default cost (one
// ALU uop, latency 1) and BlockCost.Undecoded holds its length in bytes. endbr64/endbr32,
// which x86asm v0.33 misdecodes, are recognised as 4-byte NOPs. A decoded instruction the
// table lacks is charged the same default and counted in BlockCost.Untabled; before that,
// lookup tries the same form at another operand width (push r32 takes push r64's row) and,
// for a memory operand, the register form plus a load uop on ports 2/3 and the load latency.
//
// # The instruction table
//
// insntable_skylake.go is generated by cmd/mkinsntable from llvm-mca-14's Skylake model
// (`llvm-mca-14 -mtriple=x86_64-unknown-linux-gnu -mcpu=skylake --instruction-tables`) on
// the probe instructions of cmd/mkinsntable/spec.go; its header records the exact llvm and
// assembler versions. Rows are keyed by x86asm op and operand form (internal/x86form), e.g.
// ADD "r32,m32" or CMPXCHG "lock m32,r32". llvm-mca has placeholders (latency 100) for
// traps and most string instructions; cmd/mkinsntable/overrides.go replaces them and says
// how. Known llvm-14 quirks kept as is: div r32 is modelled like div r64 (32 uops, latency
// 76), 3-component LEA like simple LEA, cpuid and rdtsc both 8 uops/latency 18.
//
// # Profile JSON schema
//
// A profile is one JSON object; every field is required and unknown fields are errors.
// Cycle counts are cycles of the profile's clock. profiles/skylake.json is the built-in
// default (Default).
//
//	name          string  profile name
//	freq_hz       integer simulated clock in Hz (1..1e12): guest time = cycles / freq_hz
//	issue_width   integer uops issued per cycle (1..16)
//	load_latency  integer L1 load-to-use latency in cycles (1..1000)
//	insn_table    string  built-in instruction table: "skylake"
//	chain         string  "loop_carried" or "critical_path" (see the block model)
//	cpuid_cycles  integer cycles a cpuid adds to its block (serializing)
//	kernel_jitter_percent integer spread of kernel entry/exit costs, 0..50 (0 = exact)
//	kernel        object  kernel event costs in cycles, all required:
//	  syscall_entry_exit, exception_entry_exit, iret, page_fault_entry_exit,
//	  tlb_shootdown_initiator, tlb_shootdown_target, ipi_delivery,
//	  cross_modifying_code_serialize, context_switch, address_space_switch, mprotect_one_page,
//	  cow_break_page, kernel_write_byte, probe_handler
//
// Cycle values are at most 2^40. Set names a parameter by its dotted JSON name
// ("issue_width", "kernel.exception_entry_exit").
//
// # Calibration
//
// A profile measured by `probesim calibrate` (package calibrate) has one more, optional
// key, "calibration": its provenance, which the model never reads and which is no
// parameter (Params, Set and checkAllPresent skip it; the built-in profiles have none):
//
//	calibration   object  (Calibration)
//	  tool, host    string  "probesim calibrate"; CPU model, CPUs online, kernel release
//	  cpus, repeat  integer CPUs of the multi-CPU measurements; repeats of each measurement
//	  clock_method  string  how freq_hz was measured (the core clock) and times converted
//	  insn_table    string  why the block costs come from that table (calibrate.ClosestTable)
//	  params        [object] per parameter, in Params order: name, source ("measured",
//	                "estimate": carried over from skylake, "table", "choice", "mechanism"),
//	                method (one sentence), median_ns, min_ns, max_ns, spread_percent
//	                (interquartile range / median) over the repeats
//	  measurements  [object] every raw measurement by name: median, min, max,
//	                spread_percent, samples
//	  skipped       [string] the parts not measured, each with its one-line reason
//
// profiles/ptrace-inline.json is such a profile, measured on the host named in it: the
// inline mechanism as a ptrace tracer implements it (cmd/ptrace-inline), the profile
// behind the measured-versus-predicted inline miss rate of docs/calibrate.md.
//
// # Kernel event costs and their sources
//
// Nanosecond figures are converted at the default 3 GHz. Sources are those collected in
// the project's timing-sources notes; where a value is derived or estimated it says so.
//
//   - syscall_entry_exit = 275: syscall round trip without KPTI, ~250-300 cycles (range
//     150-400; x3-5 with KPTI); measured ~85 ns on a 2.6 GHz VM, no clean published
//     bare-metal figure. 275 is the middle of the estimate.
//   - exception_entry_exit = 1000: int3 or #DB entry and exit (range 600-2000). Avi Kivity,
//     LKML 2010-01-20: "a trap is IIRC ~1000 cycles"; consistent with uprobe-nop at
//     3.0 M/s (one trap plus handler).
//   - iret = 330: IRET-to-self ~110 ns, Andy Lutomirski 2016, "x86/asm: Rewrite
//     sync_core() to use IRET-to-self".
//   - page_fault_entry_exit = 1000: #PF is an exception; same entry+exit figure as
//     exception_entry_exit (Kivity). The handler's work (e.g. cow_break_page) is separate.
//   - tlb_shootdown_initiator = 600, tlb_shootdown_target = 1200, ipi_delivery = 2700:
//     shootdown model of Amit et al., EuroSys'20: the initiator flushes locally and sends
//     IPIs, each target takes an interrupt (entry + INVLPG + iret, stolen from that CPU), and
//     the initiator waits for the slowest ack. Derived, not measured: initiator ~0.2 us (the
//     "+~0.2 us per extra target" of secondary sources), target = exception_entry_exit plus
//     ~200 cycles of INVLPG (estimate), and ipi_delivery chosen so initiator + delivery +
//     target = 4500 cycles, the ~1.5 us IPI round trip of secondary sources (range 1-3 us).
//   - cross_modifying_code_serialize = 330: Intel SDM Vol. 3A "Handling Self- and
//     Cross-Modifying Code": the executing CPU must serialize before running new code;
//     priced as Linux's sync_core(), IRET-to-self ~110 ns (Lutomirski 2016).
//   - context_switch = 3000: estimate (~1 us); timing-sources.md has no figure.
//   - address_space_switch = 250: what a context switch to a thread of another process adds
//     (switch_mm_irqs_off, arch/x86/mm/tlb.c): with PCID (Skylake has it, and Linux uses it
//     since 4.14) the kernel picks a cached ASID and writes CR3 with the no-flush bit, so the
//     TLB entries of both processes survive (Intel SDM Vol. 3A 4.10.4.1: MOV to CR3 with
//     CR4.PCIDE = 1 and bit 63 set invalidates nothing); the cost is the CR3 write and the
//     bookkeeping around it, estimated at a few hundred cycles (no published figure). The
//     emulator flushes Unicorn's soft TLB at the switch, which is host work, not charged.
//   - mprotect_one_page = 3000: mprotect of one page on one CPU, ~1 us (range 0.5-2 us;
//     measured 1.4-1.6 us on a VM). Includes the syscall entry/exit, excludes shootdowns of
//     other CPUs.
//   - cow_break_page = 3000: estimate (~1 us: allocate a page, copy 4 KiB). Linux installs a
//     uprobe by COW-breaking the text page (kernel/events/uprobes.c uprobe_write_opcode).
//   - kernel_write_byte = 100: estimate for writing the probe byte into the new page once it
//     is mapped (uprobe_write_opcode); no published figure.
//   - probe_handler = 100: the handler a probe hit runs, modelled as a counting consumer
//     (uprobe_dispatcher calling a handler that bumps a per-CPU counter): an indirect call or
//     two and one locked increment (Agner Fog's tables: a locked add ~18 cycles on Skylake).
//     Estimate, range 50-300; the BPF benchmark's uprobe-nop rate (3.0 M/s, ~1000 cycles for
//     trap and counting handler together) bounds it from above.
//   - kernel_jitter_percent = 10: a modelling choice, not a measurement. The same syscall or
//     exception costs a different number of cycles each time on real hardware (cache and TLB
//     state, interrupts); with fixed costs a simulated machine phase-locks its threads, and
//     seeds would explore nothing. Each syscall, exception, page fault and context switch is
//     charged its cost times a factor uniform over [1-j, 1+j], drawn per vCPU from the seed
//     (smp). 0 makes every cost exact.
//   - cpuid_cycles = 250: CPUID ~83 ns (Lutomirski 2016). llvm-mca's 18 cycles for cpuid is
//     not a serializing cost.
package timing
