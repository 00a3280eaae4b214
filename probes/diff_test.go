package probes

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/arch/x86/x86asm"

	"github.com/probesim/probesim/smp"
)

// The differential test against the real CPU.
//
// Every encoding of x86asm's decode.txt (testdata/decode-encodings.txt),
// in both modes where it decodes, plus hand-written branch, stack and
// RIP-relative cases at page edges (diffHandCases), becomes a program
// (diffprog_test.go) that runs one instruction from a known state and
// writes what it left: every register, the flags, the FXSAVE image, the
// stack around sp and the memory it accessed, or the signal it took. Each
// runs natively, under probesim without a probe, and probed at the
// instruction with every strategy.
//
//   - Native and unprobed differ: the engine computes the instruction
//     otherwise than this CPU (no AVX, VEX.128 run as SSE, BMI, x87 and
//     MXCSR state, ...). Listed, not failed: those are the engine's, and
//     the CPUID the guest sees hides the features.
//   - A probed run differs from the unprobed one: the probe engine changed
//     what the instruction computes. That fails the test.
//
// go test runs a fixed sample (every diffStride-th encoding and every
// hand-written case); -difftest.all runs the whole corpus (make difftest),
// and -difftest.report writes the counts and the deviation list.

var (
	diffAll    = flag.Bool("difftest.all", false, "run the differential test on every encoding (make difftest)")
	diffReport = flag.String("difftest.report", "", "write the differential test's counts and deviation list to `FILE`")
)

// diffStrategies are the strategies the test probes with: the compared
// three and the 2006 repost's locked stack strategy (the 2005 code is
// wrong by design).
var diffStrategies = append(append([]Strategy(nil), Strategies...), SSOLStack2006)

// diffStride picks the sample: every diffStride-th encoding.
const diffStride = 5

// outcome is what one run of a program left.
type outcome struct {
	kind    string // "dump", "signal", "timeout" or "other"
	landing uint64
	dump    []byte // the dump record, CPU-dependent bytes cleared
	sig     uint64
	ip      uint64
	addr    uint64 // si_addr, compared for a page fault's signal
	code    uint64 // si_code
	detail  string // for "other": why
}

func (o outcome) String() string {
	switch o.kind {
	case "dump":
		return fmt.Sprintf("landing %d", o.landing)
	case "signal":
		return fmt.Sprintf("signal %d code %#x at %#x (addr %#x)", o.sig, o.code, o.ip, o.addr)
	}
	return o.kind + " " + o.detail
}

// same reports whether two outcomes agree; diff names the first field
// that differs.
func (o outcome) same(p outcome) (bool, string) {
	if o.kind != p.kind {
		return false, fmt.Sprintf("%s, not %s", o, p)
	}
	switch o.kind {
	case "dump":
		if o.landing != p.landing {
			return false, fmt.Sprintf("landing %d, not %d", o.landing, p.landing)
		}
		if !bytes.Equal(o.dump, p.dump) {
			return false, dumpDiff(o.dump, p.dump)
		}
	case "signal":
		if o.sig != p.sig || o.ip != p.ip || o.code != p.code || (o.code != siKernel && o.addr != p.addr) {
			return false, fmt.Sprintf("%s, not %s", o, p)
		}
	case "other":
		return o.detail == p.detail, o.detail + " / " + p.detail
	}
	return true, ""
}

// dumpDiff names the first part of two dumps that differs.
func dumpDiff(a, b []byte) string {
	for i := range a {
		if a[i] == b[i] {
			continue
		}
		switch {
		case i < dRegs:
			return "landing"
		case i < dFlags:
			r := (i - dRegs) / 8
			return fmt.Sprintf("register %d: %#x, not %#x", r, binary.LittleEndian.Uint64(a[dRegs+8*r:]), binary.LittleEndian.Uint64(b[dRegs+8*r:]))
		case i < dFX:
			return fmt.Sprintf("flags %#x, not %#x", binary.LittleEndian.Uint64(a[dFlags:]), binary.LittleEndian.Uint64(b[dFlags:]))
		case i < dStack:
			return "fxsave " + fxPart(i-dFX)
		case i < dWindows:
			return fmt.Sprintf("stack byte sp%+d", i-dStack-stackBelow)
		default:
			return fmt.Sprintf("memory window %d byte %d", (i-dWindows)/winBytes, (i-dWindows)%winBytes)
		}
	}
	return ""
}

// fxPart names the part of an FXSAVE image byte off is in.
func fxPart(off int) string {
	switch {
	case off < 2:
		return "x87 control word"
	case off < 4:
		return "x87 status word"
	case off < 24:
		return "x87 tag/opcode/pointers"
	case off < 28:
		return "mxcsr"
	case off < 160:
		return "x87 registers"
	case off < 416:
		return "xmm registers"
	}
	return "reserved bytes"
}

// parseOutcome reads a program's output.
func parseOutcome(out []byte) outcome {
	le := binary.LittleEndian
	switch len(out) {
	case dumpLen:
		d := append([]byte(nil), out...)
		for _, r := range fxVolatile {
			clear(d[dFX+r[0] : dFX+r[1]])
		}
		return outcome{kind: "dump", landing: le.Uint64(d[dLanding:]), dump: d}
	case fLen:
		return outcome{kind: "signal", sig: le.Uint64(out[8:]), ip: le.Uint64(out[16:]), addr: le.Uint64(out[24:]), code: uint64(le.Uint32(out[32:]))}
	}
	return outcome{kind: "other", detail: fmt.Sprintf("%d bytes of output", len(out))}
}

// siKernel is SI_KERNEL, the si_code of a #GP's SIGSEGV and of an int3's
// SIGTRAP, whose si_addr is 0.
const siKernel = 0x80

// siCode is the si_code Linux gives a fault of this kind
// (arch/x86/kernel/traps.c, arch/x86/mm/fault.c).
func siCode(kind string, errorCode uint64) uint64 {
	switch kind {
	case "segfault":
		if errorCode&1 != 0 {
			return 2 // SEGV_ACCERR
		}
		return 1 // SEGV_MAPERR
	case "invalid opcode":
		return 2 // ILL_ILLOPN
	case "divide error":
		return 1 // FPE_INTDIV
	case "debug":
		return 2 // TRAP_TRACE
	}
	return siKernel
}

// signalNumbers are the signals a report names that the programs handle.
var signalNumbers = map[string]uint64{"SIGILL": 4, "SIGTRAP": 5, "SIGBUS": 7, "SIGFPE": 8, "SIGSEGV": 11}

// runNativeDiff runs a program on the host.
func runNativeDiff(dir, name string, elf []byte) outcome {
	path := filepath.Join(dir, name)
	// No fork while the file is open for writing, or the child would hold
	// it open and the exec fail with ETXTBSY (forkExec takes the lock).
	syscall.ForkLock.Lock()
	err := os.WriteFile(path, elf, 0o755)
	syscall.ForkLock.Unlock()
	if err != nil {
		return outcome{kind: "other", detail: err.Error()}
	}
	defer os.Remove(path)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path)
	var out bytes.Buffer
	cmd.Stdout = &out
	err = cmd.Run()
	if ctx.Err() != nil {
		return outcome{kind: "timeout"}
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return outcome{kind: "other", detail: err.Error()}
	}
	if err != nil {
		return outcome{kind: "other", detail: "native: " + err.Error()}
	}
	return parseOutcome(out.Bytes())
}

// diffBudget bounds a simulated run: the programs run a few hundred
// instructions (a rep with a count of ~0x20000 the most).
const diffBudget = 50_000_000

// runSimDiff runs a program under probesim, probed at c.at with s ("" for
// no probe). refused is Check's reason when the probe cannot be placed.
func runSimDiff(c diffCase, elf []byte, s Strategy) (o outcome, refused string, st Stats, err error) {
	var stdout bytes.Buffer
	m, err := smp.New(smp.Config{Program: "/difftest/" + c.name, Image: elf, Seed: 1, MaxCycles: diffBudget, Stdout: &stdout})
	if err != nil {
		return outcome{}, "", Stats{}, err
	}
	defer m.Close()
	var e *Engine
	if s != "" {
		spec, err := Resolve(m.Image(), fmt.Sprintf("%#x", c.at))
		if err != nil {
			var ue *UnprobeableError
			if errors.As(err, &ue) {
				return outcome{}, ue.Reason, Stats{}, nil
			}
			return outcome{}, "", Stats{}, err
		}
		if e, err = Attach(m, []Spec{spec}, s, nil); err != nil {
			return outcome{}, "", Stats{}, err
		}
	}
	r, err := m.Run()
	if err != nil {
		return outcome{}, "", Stats{}, err
	}
	if e != nil {
		st = e.Stats()
		if res := e.Results()[0]; res.Executions > 0 && res.Hits != res.Executions {
			return outcome{kind: "other", detail: fmt.Sprintf("%d of %d executions missed", res.Misses, res.Executions)}, "", st, nil
		}
	}
	switch {
	case r.StopReason == "cycle_budget":
		return outcome{kind: "timeout"}, "", st, nil
	case stdout.Len() > 0:
		return parseOutcome(stdout.Bytes()), "", st, nil
	case r.Fault != nil:
		sig, ok := signalNumbers[r.Fault.Signal]
		if !ok {
			return outcome{kind: "other", detail: "fault " + r.Fault.Signal}, "", st, nil
		}
		return outcome{kind: "signal", sig: sig, ip: r.Fault.RIP, addr: r.Fault.Address, code: siCode(r.Fault.Kind, r.Fault.ErrorCode)}, "", st, nil
	}
	return outcome{kind: "other", detail: fmt.Sprintf("stop %s status %d", r.StopReason, r.ExitStatus)}, "", st, nil
}

// diffResult is one case's four (or two) runs.
type diffResult struct {
	c        diffCase
	inst     x86asm.Inst
	op       string
	native   outcome
	sim      outcome
	refused  string
	probed   map[Strategy]outcome
	fallback map[Strategy]uint64 // hits stepped inline by an out-of-line strategy
	emulated map[Strategy]uint64 // hits emulated
	simError error
}

// runDiffCase runs c everywhere.
func runDiffCase(dir string, index int, c diffCase, inst x86asm.Inst) diffResult {
	p := buildDiff(c, inst)
	res := diffResult{c: c, inst: inst, op: inst.Op.String(), probed: map[Strategy]outcome{}, fallback: map[Strategy]uint64{}, emulated: map[Strategy]uint64{}}
	res.native = runNativeDiff(dir, fmt.Sprintf("case%d", index), p.elf)
	var err error
	if res.sim, _, _, err = runSimDiff(c, p.elf, ""); err != nil {
		res.simError = err
		return res
	}
	for _, s := range diffStrategies {
		o, refused, st, err := runSimDiff(c, p.elf, s)
		if err != nil {
			res.simError = err
			return res
		}
		if refused != "" {
			res.refused = refused
			return res
		}
		res.probed[s] = o
		res.fallback[s], res.emulated[s] = st.InlineFallback, st.Emulated
	}
	return res
}

// diffEncodings reads the decode.txt corpus: every encoding in each mode
// where it decodes as exactly its bytes.
func diffEncodings(t *testing.T) []diffCase {
	f, err := os.Open("testdata/decode-encodings.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []diffCase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		code, err := hex.DecodeString(line)
		if err != nil {
			t.Fatalf("decode-encodings.txt: %q: %v", line, err)
		}
		for _, mode := range []int{64, 32} {
			c := diffCase{name: line, mode: mode, code: code, at: testAt}
			if repString(code, mode) {
				c.setup = shortRep
			}
			out = append(out, c)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// stringOps are the string instructions a rep prefix repeats.
var stringOps = map[x86asm.Op]bool{
	x86asm.MOVSB: true, x86asm.MOVSW: true, x86asm.MOVSD: true, x86asm.MOVSQ: true,
	x86asm.STOSB: true, x86asm.STOSW: true, x86asm.STOSD: true, x86asm.STOSQ: true,
	x86asm.LODSB: true, x86asm.LODSW: true, x86asm.LODSD: true, x86asm.LODSQ: true,
	x86asm.CMPSB: true, x86asm.CMPSW: true, x86asm.CMPSD: true, x86asm.CMPSQ: true,
	x86asm.SCASB: true, x86asm.SCASW: true, x86asm.SCASD: true, x86asm.SCASQ: true,
}

// repString reports a rep-prefixed string instruction. Under TF each of
// its iterations is a step, and a probe on it hits once per iteration (as
// Linux's: the step's #DB comes with the ip still at the copy, which the
// fixup turns into the probe's address, so the int3 runs again): its case
// runs with a count of 3 (shortRep), not the register's ~0x20000.
func repString(code []byte, mode int) bool {
	inst, err := x86asm.Decode(code, mode)
	if err != nil || !stringOps[inst.Op] {
		return false
	}
	for _, b := range code[:len(code)-1] {
		if b == 0xf2 || b == 0xf3 {
			return true
		}
	}
	return false
}

// shortRep sets the count register to 3.
func shortRep(a *asm) { a.raw(0xb9).u32(3) } // mov ecx, 3 (zero-extended in 64-bit mode)

// diffStats are the test's counts.
type diffStats struct {
	generated, decoded map[int]int // by mode
	native             map[string]int
	refused            map[string]int // by reason
	deviations         map[string]int // by op, mode
	matchSim           map[Strategy]int
	matchNative        map[Strategy]int
	fallbacks          map[Strategy]int
	emulated           map[Strategy]int
	hand               int // hand-written cases among the generated
	probedRuns         int
	failures           []string
}

func newDiffStats() *diffStats {
	return &diffStats{generated: map[int]int{}, decoded: map[int]int{}, native: map[string]int{}, refused: map[string]int{},
		deviations: map[string]int{}, matchSim: map[Strategy]int{}, matchNative: map[Strategy]int{}, fallbacks: map[Strategy]int{}, emulated: map[Strategy]int{}}
}

func (st *diffStats) add(r diffResult) {
	st.native[r.native.kind]++
	deviates := false
	if ok, why := r.native.same(r.sim); !ok {
		deviates = true
		st.deviations[fmt.Sprintf("%d-bit %s: %s", r.c.mode, r.op, deviationKind(r.native, r.sim, why))]++
	}
	if r.simError != nil {
		st.failures = append(st.failures, fmt.Sprintf("%d-bit %s (%s): %v", r.c.mode, r.c.name, r.op, r.simError))
		return
	}
	if r.refused != "" {
		st.refused[r.refused]++
		return
	}
	st.probedRuns++
	for _, s := range diffStrategies {
		o, sim := r.probed[s], r.sim
		if r.fallback[s] > 0 {
			st.fallbacks[s]++
		}
		if r.emulated[s] > 0 {
			st.emulated[s]++
		}
		if r.op == "RDTSC" || r.op == "RDTSCP" {
			// The TSC is the vCPU's cycle clock, which counts the hit.
			o, sim = o.withoutRegs(0, 2), sim.withoutRegs(0, 2)
		}
		if s == SSOLStack || s == SSOLStack2006 {
			// The copy stays where ssol-stack put it, in the free stack
			// below what the instruction writes and the red zone.
			floor := r.c.spBefore() - freeStackFloor(r.inst, r.c.mode)
			o, sim = o.withoutStackBelow(floor, r.c.mode), sim.withoutStackBelow(floor, r.c.mode)
		}
		if ok, why := sim.same(o); ok {
			st.matchSim[s]++
			if !deviates {
				st.matchNative[s]++
			}
		} else {
			st.failures = append(st.failures, fmt.Sprintf("%d-bit %s (%s) %s: %s", r.c.mode, r.c.name, r.op, s, why))
		}
	}
}

// freeStackFloor is how far below sp the stack is the program's at the
// instruction: what the instruction writes there (8 bytes at least, as
// ssol-stack keeps) and the x86-64 red zone.
func freeStackFloor(inst x86asm.Inst, mode int) uint64 {
	below := max(8, uint64(StackWriteBytes(inst, mode)))
	if mode == 64 {
		below += redZone64
	}
	return below
}

// withoutRegs clears registers (x86 order) in the dump.
func (o outcome) withoutRegs(regs ...int) outcome {
	if o.kind != "dump" {
		return o
	}
	d := append([]byte(nil), o.dump...)
	for _, r := range regs {
		clear(d[dRegs+8*r : dRegs+8*r+8])
	}
	o.dump = d
	return o
}

// withoutStackBelow clears the dump's stack window below floor.
func (o outcome) withoutStackBelow(floor uint64, mode int) outcome {
	if o.kind != "dump" {
		return o
	}
	d := append([]byte(nil), o.dump...)
	sp := binary.LittleEndian.Uint64(d[dRegs+8*4:])
	if mode == 32 {
		sp = uint64(uint32(sp))
	}
	for i := 0; i < stackBelow+stackAbove; i++ {
		if sp-stackBelow+uint64(i) < floor {
			d[dStack+i] = 0
		}
	}
	o.dump = d
	return o
}

// deviationKind says how native and engine differ, for grouping: the
// part of the state, or the two outcomes.
func deviationKind(native, sim outcome, why string) string {
	if native.kind != sim.kind || native.kind == "signal" {
		return "native " + native.short() + ", engine " + sim.short()
	}
	if native.landing != sim.landing {
		return "landing"
	}
	if strings.HasPrefix(why, "flags") {
		return "flags"
	}
	if i := strings.Index(why, ":"); i > 0 {
		return why[:i]
	}
	if strings.HasPrefix(why, "stack") || strings.HasPrefix(why, "memory") {
		return strings.Join(strings.Fields(why)[:2], " ")
	}
	return why
}

var signalNames = map[uint64]string{4: "SIGILL", 5: "SIGTRAP", 7: "SIGBUS", 8: "SIGFPE", 11: "SIGSEGV"}

// short is an outcome's kind, a signal by its name.
func (o outcome) short() string {
	if o.kind == "signal" {
		return signalNames[o.sig]
	}
	switch o.kind {
	case "dump":
		return "result"
	case "other":
		return "other (" + o.detail + ")"
	}
	return o.kind
}

func (st *diffStats) write(w *strings.Builder, all bool) {
	scope := "sample"
	if all {
		scope = "whole corpus"
	}
	fmt.Fprintf(w, "differential test (%s)\n", scope)
	fmt.Fprintf(w, "encodings generated: %d 64-bit, %d 32-bit (decoded by x86asm: %d, %d), %d of them hand-written\n",
		st.generated[64], st.generated[32], st.decoded[64], st.decoded[32], st.hand)
	fmt.Fprintf(w, "run natively: %d (%s)\n", st.decoded[64]+st.decoded[32], sortedCounts(st.native))
	fmt.Fprintf(w, "refused by Check: %d\n", total(st.refused))
	for _, k := range sortedKeys(st.refused) {
		fmt.Fprintf(w, "  %5d  %s\n", st.refused[k], k)
	}
	fmt.Fprintf(w, "probed (each with every strategy): %d\n", st.probedRuns)
	for _, s := range diffStrategies {
		fmt.Fprintf(w, "  %-15s matches probesim unprobed %d, matches native %d (emulated: %d; stepped inline for want of a copy or slot: %d)\n",
			s, st.matchSim[s], st.matchNative[s], st.emulated[s], st.fallbacks[s])
	}
	fmt.Fprintf(w, "engine deviations (native != probesim unprobed): %d\n", total(st.deviations))
	for _, k := range sortedKeys(st.deviations) {
		fmt.Fprintf(w, "  %5d  %s\n", st.deviations[k], k)
	}
	fmt.Fprintf(w, "probe failures (probed != unprobed): %d\n", len(st.failures))
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sortedCounts(m map[string]int) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// TestDifferentialAgainstTheCPU runs the corpus (or its sample) natively,
// unprobed and probed with every strategy: every probed run must leave
// exactly what the unprobed run left.
func TestDifferentialAgainstTheCPU(t *testing.T) {
	cases := diffEncodings(t)
	st := newDiffStats()
	var run []diffCase
	var insts []x86asm.Inst
	for i, c := range cases {
		st.generated[c.mode]++
		inst, err := x86asm.Decode(c.code, c.mode)
		if err != nil || inst.Len != len(c.code) {
			continue
		}
		st.decoded[c.mode]++
		if *diffAll || (i/2)%diffSampleStride() == 0 {
			run = append(run, c)
			insts = append(insts, inst)
		}
	}
	for _, c := range diffHandCases() {
		inst, err := x86asm.Decode(c.code, c.mode)
		if err != nil || inst.Len != len(c.code) {
			t.Fatalf("hand-written case %s does not decode as its bytes: %v", c.name, err)
		}
		st.generated[c.mode]++
		st.decoded[c.mode]++
		st.hand++
		run = append(run, c)
		insts = append(insts, inst)
	}
	if !*diffAll {
		// The sample's generated and decoded counts are its own.
		st.generated, st.decoded = map[int]int{}, map[int]int{}
		for _, c := range run {
			st.generated[c.mode]++
			st.decoded[c.mode]++
		}
	}
	dir := t.TempDir()
	results := make([]diffResult, len(run))
	workers := 2
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = runDiffCase(dir, i, run[i], insts[i])
			}
		}()
	}
	for i := range run {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, r := range results {
		st.add(r)
	}
	var b strings.Builder
	st.write(&b, *diffAll)
	t.Log("\n" + b.String())
	if *diffReport != "" {
		if err := os.WriteFile(*diffReport, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if len(run) < 8000/diffSampleStride() {
		t.Errorf("only %d encodings ran", len(run))
	}
	for i, f := range st.failures {
		if i == 30 {
			t.Errorf("... and %d more", len(st.failures)-30)
			break
		}
		t.Error(f)
	}
}
