package timing

//go:generate go run ./cmd/mkinsntable -o insntable_skylake.go

import (
	"fmt"

	"golang.org/x/arch/x86/x86asm"
)

// portMask is a set of execution ports, bit i = port i (Skylake has ports 0..7: 0, 1, 5, 6
// ALU/vector, 2, 3 load and store address, 4 store data, 7 store address).
type portMask uint8

// The port groups of LLVM's Skylake model (X86SchedSkylakeClient.td), named as there.
const (
	p0    portMask = 1 << 0
	p1    portMask = 1 << 1
	p2    portMask = 1 << 2
	p3    portMask = 1 << 3
	p4    portMask = 1 << 4
	p5    portMask = 1 << 5
	p6    portMask = 1 << 6
	p7    portMask = 1 << 7
	p01            = p0 | p1
	p05            = p0 | p5
	p06            = p0 | p6
	p15            = p1 | p5
	p16            = p1 | p6
	p56            = p5 | p6
	p23            = p2 | p3
	p015           = p0 | p1 | p5
	p056           = p0 | p5 | p6
	p237           = p2 | p3 | p7
	p0156          = p0 | p1 | p5 | p6
)

// portGroup is an amount of uops, in fixed point (x256), each of which may execute on any
// port of Mask. The per-port usage llvm-mca reports is UopsFP/popcount(Mask) on each port.
type portGroup struct {
	Mask   portMask
	UopsFP uint32
}

// insnCost is one instruction form's cost, as llvm-mca's scheduling model gives it.
type insnCost struct {
	Uops          uint32 // micro-ops issued (llvm-mca's NumMicroOps)
	Latency       uint32 // cycles from operands ready to result ready; includes the load for Load rows
	RThroughputFP uint32 // llvm-mca's reciprocal throughput x256 (reference only; not used by the model)
	Load, Store   bool
	SideEffects   bool
	DividerFP     uint32 // cycles x256 the non-pipelined integer divider is busy
	FPDividerFP   uint32 // same for the floating-point divider
	Groups        []portGroup
}

// insnRow keys an insnCost by x86asm op and operand form (see internal/x86form).
type insnRow struct {
	Op   x86asm.Op
	Form string
	Asm  string // the probe instruction llvm-mca measured
	Cost insnCost
}

// insnTable indexes rows by op for lookup by (op, form).
type insnTable struct {
	name  string
	byOp  map[x86asm.Op][]*insnRow
	count int
}

func newInsnTable(name string, rows []insnRow) *insnTable {
	t := &insnTable{name: name, byOp: map[x86asm.Op][]*insnRow{}, count: len(rows)}
	for i := range rows {
		r := &rows[i]
		t.byOp[r.Op] = append(t.byOp[r.Op], r)
	}
	return t
}

// insnTables are the built-in instruction tables a profile can name in "insn_table".
var insnTables = map[string]*insnTable{
	"skylake": newInsnTable("skylake", skylakeRows),
}

func lookupInsnTable(name string) (*insnTable, error) {
	t, ok := insnTables[name]
	if !ok {
		return nil, fmt.Errorf("unknown instruction table %q (built in: skylake)", name)
	}
	return t, nil
}

// exact returns the row with exactly this op and form.
func (t *insnTable) exact(op x86asm.Op, form []byte) *insnRow {
	for _, r := range t.byOp[op] {
		if r.Form == string(form) {
			return r
		}
	}
	return nil
}

// sameShape returns the first row of op whose form equals form once operand widths are
// ignored ("r32" ~ "r64", "m16" ~ "m64"): 32-bit-only encodings such as `push r32` and
// operand sizes the probes do not list take the cost of the nearest listed width.
func (t *insnTable) sameShape(op x86asm.Op, form []byte) *insnRow {
	for _, r := range t.byOp[op] {
		if shapeEqual(r.Form, form) {
			return r
		}
	}
	return nil
}

// shapeEqual compares two forms with the digits of every operand token dropped.
func shapeEqual(a string, b []byte) bool {
	i, j := 0, 0
	for {
		for i < len(a) && isDigit(a[i]) {
			i++
		}
		for j < len(b) && isDigit(b[j]) {
			j++
		}
		if i == len(a) || j == len(b) {
			return i == len(a) && j == len(b)
		}
		if a[i] != b[j] {
			return false
		}
		i++
		j++
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
