package timing

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"reflect"
	"strings"
	"sync"

	"github.com/probesim/probesim/internal/inputfile"
)

// Fixed point: block costs are cycles * fpOne, so fractional block throughput (0.25 cycles
// for one ALU uop at issue width 4) adds up exactly and deterministically.
const (
	FPShift = 8
	fpOne   = 1 << FPShift
)

// Chain models: which dependency chain bounds a block's cost (see doc.go).
const (
	ChainLoopCarried  = "loop_carried"
	ChainCriticalPath = "critical_path"
)

// maxCycles bounds every cycle parameter so that sums of them in fixed point cannot overflow.
const maxCycles = 1 << 40

// Profile is a machine profile: the core's width, the instruction cost table and the costs
// of kernel events, all in cycles of a clock of FreqHz. JSON schema: doc.go.
type Profile struct {
	Name        string `json:"name"`
	FreqHz      uint64 `json:"freq_hz"`      // simulated clock: guest time = cycles / FreqHz
	IssueWidth  int    `json:"issue_width"`  // uops issued per cycle
	LoadLatency int    `json:"load_latency"` // L1 load-to-use cycles; the table's load rows are rescaled to it
	InsnTable   string `json:"insn_table"`   // built-in instruction table ("skylake")
	Chain       string `json:"chain"`        // "loop_carried" or "critical_path"
	CPUIDCycles uint64 `json:"cpuid_cycles"` // cpuid serializes: added to its block's cost
	// KernelJitterPercent spreads the kernel's entry/exit costs (syscalls,
	// exceptions, page faults, context switches) uniformly over +-this
	// percent of their value, drawn from the run's seed (doc.go).
	KernelJitterPercent uint64      `json:"kernel_jitter_percent"`
	Kernel              KernelCosts `json:"kernel"`
	// Calibration, if present, says how a measured profile's numbers were
	// obtained (probesim calibrate; calibration.go). It is provenance: the
	// model never reads it, it is no parameter (Params, Set skip it) and
	// the built-in profiles have none.
	Calibration *Calibration `json:"calibration,omitempty" param:"-"`

	table *insnTable
}

// KernelCosts are the costs, in cycles, of the kernel events the emulator charges outside
// basic blocks. Sources for every default: doc.go.
type KernelCosts struct {
	SyscallEntryExit            uint64 `json:"syscall_entry_exit"`
	ExceptionEntryExit          uint64 `json:"exception_entry_exit"`
	IRET                        uint64 `json:"iret"`
	PageFaultEntryExit          uint64 `json:"page_fault_entry_exit"`
	TLBShootdownInitiator       uint64 `json:"tlb_shootdown_initiator"`
	TLBShootdownTarget          uint64 `json:"tlb_shootdown_target"`
	IPIDelivery                 uint64 `json:"ipi_delivery"`
	CrossModifyingCodeSerialize uint64 `json:"cross_modifying_code_serialize"`
	ContextSwitch               uint64 `json:"context_switch"`
	AddressSpaceSwitch          uint64 `json:"address_space_switch"`
	MprotectOnePage             uint64 `json:"mprotect_one_page"`
	CowBreakPage                uint64 `json:"cow_break_page"`
	KernelWriteByte             uint64 `json:"kernel_write_byte"`
	ProbeHandler                uint64 `json:"probe_handler"`
}

// MaxKernelJitterPercent bounds Profile.KernelJitterPercent: a cost never
// drops below half its value.
const MaxKernelJitterPercent = 50

// Jitter returns cost spread by the profile's kernel_jitter_percent: cost
// times (1 + d), d uniform over [-j, +j] (j = kernel_jitter_percent/100) as
// drawn by the 64 random bits r, rounded down to whole cycles. The caller
// draws r from the run's seed, so a run stays a pure function of its
// inputs; with 0 jitter the cost is exact.
func (p *Profile) Jitter(cost, r uint64) uint64 {
	j := p.KernelJitterPercent
	if j == 0 || cost == 0 {
		return cost
	}
	// span = 2*j% of cost, in hundredths of a cycle; offset r mod span+1
	// is uniform to within 2^-64 relative bias.
	span := 2 * j * cost
	off := r % (span + 1)
	return (cost*100 - j*cost + off) / 100
}

// KernelCost is one named kernel event cost.
type KernelCost struct {
	Name   string // JSON name, e.g. "exception_entry_exit"
	Cycles uint64
}

// List returns the kernel costs in declaration order.
func (k KernelCosts) List() []KernelCost {
	v := reflect.ValueOf(k)
	out := make([]KernelCost, 0, v.NumField())
	for i := 0; i < v.NumField(); i++ {
		out = append(out, KernelCost{jsonName(v.Type().Field(i)), v.Field(i).Uint()})
	}
	return out
}

//go:embed profiles/skylake.json
var skylakeJSON []byte

var (
	defaultOnce    sync.Once
	defaultProfile *Profile
	defaultErr     error
)

// Default returns a fresh copy of the built-in "skylake" profile (profiles/skylake.json).
func Default() *Profile {
	defaultOnce.Do(func() { defaultProfile, defaultErr = ParseProfile(skylakeJSON) })
	if defaultErr != nil {
		// The embedded file is checked by TestDefaultProfile; reaching this is a build defect.
		panic("timing: embedded skylake profile: " + defaultErr.Error())
	}
	p := *defaultProfile
	return &p
}

// LoadProfile reads a JSON profile (schema in doc.go). Every field is required; unknown
// fields are errors. Errors are one line and name the offending field.
func LoadProfile(path string) (*Profile, error) {
	data, err := inputfile.Read(path, MaxProfileBytes, "a profile")
	if err != nil {
		return nil, fmt.Errorf("profile %s: %v", path, err)
	}
	p, err := ParseProfile(data)
	if err != nil {
		return nil, fmt.Errorf("profile %s: %v", path, err)
	}
	return p, nil
}

// MaxProfileBytes bounds a profile file (the built-in one is under 1 KiB).
const MaxProfileBytes = 1 << 20

// ParseProfile parses a JSON profile, like LoadProfile.
func ParseProfile(data []byte) (*Profile, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p Profile
	if err := dec.Decode(&p); err != nil {
		return nil, jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("malformed JSON: data after the profile object")
	}
	if err := checkAllPresent(data); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return errors.New("malformed JSON: empty input")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("malformed JSON: unexpected end of input")
	case errors.As(err, &syntax):
		return fmt.Errorf("malformed JSON at byte %d: %s", syntax.Offset, strings.TrimPrefix(syntax.Error(), "json: "))
	case errors.As(err, &typ):
		if typ.Field == "" {
			return fmt.Errorf("malformed profile: want a JSON object, got %s", typ.Value)
		}
		return fmt.Errorf("%s: want %s, got %s", typ.Field, kindName(typ.Type.Kind()), typ.Value)
	}
	return errors.New(strings.TrimPrefix(err.Error(), "json: "))
}

func kindName(k reflect.Kind) string {
	switch k {
	case reflect.Uint64:
		return "a non-negative integer"
	case reflect.Int:
		return "an integer"
	case reflect.String:
		return "a string"
	case reflect.Struct:
		return "an object"
	}
	return k.String()
}

// checkAllPresent requires every parameter in the file: a profile that silently inherits a
// zero cost would make a run meaningless.
func checkAllPresent(data []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return jsonError(err)
	}
	var kernel map[string]json.RawMessage
	if raw, ok := top["kernel"]; ok {
		if err := json.Unmarshal(raw, &kernel); err != nil {
			return jsonError(err)
		}
	}
	for _, prm := range (&Profile{}).Params() {
		section, name := top, prm.Name
		if rest, ok := strings.CutPrefix(prm.Name, "kernel."); ok {
			section, name = kernel, rest
		}
		if _, ok := section[name]; !ok {
			return fmt.Errorf("%s: missing", prm.Name)
		}
	}
	return nil
}

// Validate checks every parameter and resolves the instruction table.
func (p *Profile) Validate() error {
	switch {
	case p.Name == "":
		return errors.New("name: must not be empty")
	case p.FreqHz == 0 || p.FreqHz > 1e12:
		return fmt.Errorf("freq_hz: must be between 1 and 1e12, got %d", p.FreqHz)
	case p.IssueWidth < 1 || p.IssueWidth > 16:
		return fmt.Errorf("issue_width: must be between 1 and 16, got %d", p.IssueWidth)
	case p.LoadLatency < 1 || p.LoadLatency > 1000:
		return fmt.Errorf("load_latency: must be between 1 and 1000, got %d", p.LoadLatency)
	case p.Chain != ChainLoopCarried && p.Chain != ChainCriticalPath:
		return fmt.Errorf("chain: must be %q or %q, got %q", ChainLoopCarried, ChainCriticalPath, p.Chain)
	case p.CPUIDCycles > maxCycles:
		return fmt.Errorf("cpuid_cycles: must be at most %d, got %d", uint64(maxCycles), p.CPUIDCycles)
	case p.KernelJitterPercent > MaxKernelJitterPercent:
		return fmt.Errorf("kernel_jitter_percent: must be at most %d, got %d", MaxKernelJitterPercent, p.KernelJitterPercent)
	}
	for _, k := range p.Kernel.List() {
		if k.Cycles > maxCycles {
			return fmt.Errorf("kernel.%s: must be at most %d, got %d", k.Name, uint64(maxCycles), k.Cycles)
		}
	}
	t, err := lookupInsnTable(p.InsnTable)
	if err != nil {
		return fmt.Errorf("insn_table: %v", err)
	}
	p.table = t
	return nil
}

// CyclesToNS converts cycles of the profile's clock to nanoseconds (rounded down,
// saturating at MaxUint64).
func (p *Profile) CyclesToNS(cycles uint64) uint64 {
	if p.FreqHz == 0 {
		return math.MaxUint64
	}
	hi, lo := bits.Mul64(cycles, 1e9)
	if hi >= p.FreqHz {
		return math.MaxUint64
	}
	ns, _ := bits.Div64(hi, lo, p.FreqHz)
	return ns
}
