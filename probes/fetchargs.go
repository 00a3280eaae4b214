package probes

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Fetch arguments, as uprobe_events writes them (Documentation/trace/
// uprobetracer.rst; kernel/trace/trace_probe.c parses them): after the
// spec, space-separated, each
//
//	[NAME=]FETCHARG[:TYPE]
//
// with FETCHARG one of
//
//	%REG                 a register: %ax %bx %cx %dx %si %di %bp %sp %ip
//	                     %flags %r8 .. %r15 (pt_regs' names; in a 32-bit
//	                     program the 32-bit registers, %r8-%r15 refused)
//	@ADDR                memory at ADDR (0x hexadecimal or decimal)
//	$stack, $stackN      the stack pointer, the Nth stack word above it
//	$retval              the return value (return probes only)
//	$comm                the task's name
//	\IMM                 an immediate (0x hexadecimal or decimal)
//	+|-[u]OFFS(FETCHARG) memory at FETCHARG's value plus or minus OFFS;
//	                     nested as deep as wanted
//
// and TYPE one of u8 u16 u32 u64 (decimal), s8 s16 s32 s64 (signed
// decimal), x8 x16 x32 x64 (hexadecimal) or string (a NUL-terminated
// string read from the address FETCHARG gives, at most 256 bytes). A
// memory fetch reads TYPE's size; an inner one (an address) a word. An
// argument without a type is the word-sized x type; without a name, argN
// (its place, from 1). Up to 128 arguments, as the kernel allows. A fetch
// that faults is "(fault)", as in the trace. Values are formatted as the
// trace prints them, and reach --probe-log, --events and Hit.Args.
//
// Fetching costs the guest nothing beyond the modelled handler
// (kernel.probe_handler): the registers are pt_regs already saved, and the
// reads are the handler's own work, within its estimate.
//
// Not supported, each refused with a one-line error: @+OFFSET (a file
// offset), $argN (kprobes' BTF arguments), bitfields, and the symbol and
// ustring types.

// maxFetchArgs is the kernel's limit per probe (MAX_TRACE_ARGS).
const maxFetchArgs = 128

// maxFetchString bounds a fetched string.
const maxFetchString = 256

// FetchArg is one parsed fetch argument.
type FetchArg struct {
	Name  string
	Type  string // as given, or the default
	fetch fetchOp
	size  int  // TYPE's bytes (0 for string)
	kind  byte // 'u', 's', 'x' or 'S' (string)
}

// fetchOp is a FETCHARG: a source, and derefs applied to it.
type fetchOp struct {
	src   byte   // 'r' register, 'm' @ADDR, 'k' $stack, 'K' $stackN, 'v' $retval, 'c' $comm, 'i' \IMM, 'd' deref
	reg   string // 'r'
	imm   uint64 // 'm' address, 'K' N, 'i' value, 'd' offset
	inner *fetchOp
}

// ArgValue is a fetched argument's value as the trace prints it.
type ArgValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

var fetchTypes = map[string]struct {
	size int
	kind byte
}{
	"u8": {1, 'u'}, "u16": {2, 'u'}, "u32": {4, 'u'}, "u64": {8, 'u'},
	"s8": {1, 's'}, "s16": {2, 's'}, "s32": {4, 's'}, "s64": {8, 's'},
	"x8": {1, 'x'}, "x16": {2, 'x'}, "x32": {4, 'x'}, "x64": {8, 'x'},
	"string": {0, 'S'},
}

// fetchRegs are the register names a fetch may name.
var fetchRegs = map[string]bool{"ax": true, "bx": true, "cx": true, "dx": true, "si": true, "di": true,
	"bp": true, "sp": true, "ip": true, "flags": true,
	"r8": true, "r9": true, "r10": true, "r11": true, "r12": true, "r13": true, "r14": true, "r15": true}

// parseFetchArgs parses the fetch arguments of a spec in mode 32 or 64.
func parseFetchArgs(fields []string, mode int, ret bool) ([]FetchArg, error) {
	if len(fields) > maxFetchArgs {
		return nil, fmt.Errorf("%d fetch arguments: at most %d", len(fields), maxFetchArgs)
	}
	var out []FetchArg
	names := map[string]bool{}
	for i, f := range fields {
		a, err := parseFetchArg(f, i+1, mode, ret)
		if err != nil {
			return nil, fmt.Errorf("bad fetch argument %q: %w", f, err)
		}
		if names[a.Name] {
			return nil, fmt.Errorf("bad fetch argument %q: the name %s is used twice", f, a.Name)
		}
		names[a.Name] = true
		out = append(out, a)
	}
	return out, nil
}

func parseFetchArg(f string, n, mode int, ret bool) (FetchArg, error) {
	a := FetchArg{Name: fmt.Sprintf("arg%d", n)}
	if name, rest, ok := strings.Cut(f, "="); ok {
		if !validArgName(name) {
			return a, fmt.Errorf("name %q: want a letter or _, then letters, digits or _", name)
		}
		a.Name, f = name, rest
	}
	a.Type = fmt.Sprintf("x%d", mode)
	typed := false
	if i := strings.LastIndex(f, ":"); i >= 0 {
		a.Type, f, typed = f[i+1:], f[:i], true
	}
	if f == "$comm" && !typed {
		a.Type = "string"
	}
	t, ok := fetchTypes[a.Type]
	if !ok {
		return a, fmt.Errorf("type %q: want u8-u64, s8-s64, x8-x64 or string", a.Type)
	}
	if t.size*8 > mode {
		return a, fmt.Errorf("type %s is wider than a %d-bit program's word", a.Type, mode)
	}
	a.size, a.kind = t.size, t.kind
	op, err := parseFetchOp(f, mode, ret)
	if err != nil {
		return a, err
	}
	if op.src == 'c' && a.kind != 'S' {
		return a, errors.New("$comm is a string: give it :string or no type")
	}
	a.fetch = op
	return a, nil
}

func validArgName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9')) {
			return false
		}
	}
	return true
}

func parseFetchOp(f string, mode int, ret bool) (fetchOp, error) {
	switch {
	case f == "":
		return fetchOp{}, errors.New("nothing to fetch")
	case f[0] == '%':
		r := strings.ToLower(f[1:])
		if !fetchRegs[r] {
			return fetchOp{}, fmt.Errorf("unknown register %q", f)
		}
		if mode == 32 && r[0] == 'r' {
			return fetchOp{}, fmt.Errorf("no register %s in a 32-bit program", f)
		}
		return fetchOp{src: 'r', reg: r}, nil
	case strings.HasPrefix(f, "@+"):
		return fetchOp{}, errors.New("@+OFFSET (a file offset) is not supported: give the address, @0x...")
	case f[0] == '@':
		v, err := parseNumber(f[1:])
		if err != nil {
			return fetchOp{}, fmt.Errorf("bad address %q", f[1:])
		}
		return fetchOp{src: 'm', imm: v}, nil
	case f == "$stack":
		return fetchOp{src: 'k'}, nil
	case strings.HasPrefix(f, "$stack"):
		v, err := strconv.ParseUint(f[len("$stack"):], 10, 32)
		if err != nil {
			return fetchOp{}, fmt.Errorf("bad stack entry %q", f)
		}
		return fetchOp{src: 'K', imm: v}, nil
	case f == "$retval":
		if !ret {
			return fetchOp{}, errors.New("$retval is only for return probes (SPEC%return)")
		}
		return fetchOp{src: 'v'}, nil
	case f == "$comm":
		return fetchOp{src: 'c'}, nil
	case f[0] == '$':
		return fetchOp{}, fmt.Errorf("unknown variable %q (have $stack, $stackN, $retval, $comm)", f)
	case f[0] == '\\':
		v, err := parseNumber(f[1:])
		if err != nil {
			return fetchOp{}, fmt.Errorf("bad immediate %q", f[1:])
		}
		return fetchOp{src: 'i', imm: v}, nil
	case f[0] == '+' || f[0] == '-':
		open := strings.IndexByte(f, '(')
		if open < 0 || f[len(f)-1] != ')' {
			return fetchOp{}, errors.New("a dereference is +|-OFFS(FETCHARG)")
		}
		offText := strings.TrimPrefix(f[1:open], "u")
		off, err := parseNumber(offText)
		if err != nil {
			return fetchOp{}, fmt.Errorf("bad offset %q", f[1:open])
		}
		if f[0] == '-' {
			off = -off
		}
		inner, err := parseFetchOp(f[open+1:len(f)-1], mode, ret)
		if err != nil {
			return fetchOp{}, err
		}
		if inner.src == 'c' {
			return fetchOp{}, errors.New("$comm cannot be dereferenced")
		}
		return fetchOp{src: 'd', imm: off, inner: &inner}, nil
	}
	return fetchOp{}, errors.New("want %REG, @ADDR, $stack, $stackN, $retval, $comm, \\IMM or +|-OFFS(FETCHARG)")
}

// parseNumber reads a decimal or 0x-hexadecimal number.
func parseNumber(s string) (uint64, error) {
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		return strconv.ParseUint(s[2:], 16, 64)
	}
	return strconv.ParseUint(s, 10, 64)
}

// fetchEnv is what a fetch reads: the registers at the hit, the memory,
// the task's name.
type fetchEnv struct {
	regs Regs
	read func(addr uint64, buf []byte) error
	comm string
	word int // bytes
}

var errFetchFault = errors.New("(fault)")

// value evaluates op to a word.
func (env *fetchEnv) value(op fetchOp) (uint64, error) {
	switch op.src {
	case 'r':
		return env.reg(op.reg), nil
	case 'm':
		return env.load(op.imm, env.word)
	case 'k':
		return env.regs.SP, nil
	case 'K':
		return env.load(env.regs.SP+op.imm*uint64(env.word), env.word)
	case 'v':
		return env.regs.AX, nil
	case 'i':
		return op.imm, nil
	case 'd':
		base, err := env.value(*op.inner)
		if err != nil {
			return 0, err
		}
		return env.load(base+op.imm, env.word)
	}
	return 0, errFetchFault
}

// address is where a memory fetch of op reads: op's own address for a
// source that is memory, else nil.
func (env *fetchEnv) address(op fetchOp) (uint64, bool, error) {
	switch op.src {
	case 'm':
		return op.imm, true, nil
	case 'K':
		return env.regs.SP + op.imm*uint64(env.word), true, nil
	case 'd':
		base, err := env.value(*op.inner)
		return base + op.imm, true, err
	}
	return 0, false, nil
}

func (env *fetchEnv) load(addr uint64, n int) (uint64, error) {
	var b [8]byte
	if env.read(addr, b[:n]) != nil {
		return 0, errFetchFault
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

func (env *fetchEnv) reg(r string) uint64 {
	x := env.regs
	switch r {
	case "ax":
		return x.AX
	case "bx":
		return x.BX
	case "cx":
		return x.CX
	case "dx":
		return x.DX
	case "si":
		return x.SI
	case "di":
		return x.DI
	case "bp":
		return x.BP
	case "sp":
		return x.SP
	case "ip":
		return x.IP
	case "flags":
		return x.Flags
	case "r8":
		return x.R8
	case "r9":
		return x.R9
	case "r10":
		return x.R10
	case "r11":
		return x.R11
	case "r12":
		return x.R12
	case "r13":
		return x.R13
	case "r14":
		return x.R14
	case "r15":
		return x.R15
	}
	return 0
}

// fetch evaluates a and formats it as the trace does.
func (env *fetchEnv) fetch(a FetchArg) string {
	if a.fetch.src == 'c' {
		return strconv.Quote(env.comm)
	}
	if a.kind == 'S' {
		addr, err := env.value(a.fetch)
		if err != nil {
			return errFetchFault.Error()
		}
		var buf []byte
		for len(buf) < maxFetchString {
			var c [1]byte
			if env.read(addr+uint64(len(buf)), c[:]) != nil {
				return errFetchFault.Error()
			}
			if c[0] == 0 {
				break
			}
			buf = append(buf, c[0])
		}
		return strconv.Quote(string(buf))
	}
	var v uint64
	if addr, isMem, err := env.address(a.fetch); err != nil {
		return errFetchFault.Error()
	} else if isMem {
		if v, err = env.load(addr, a.size); err != nil {
			return err.Error()
		}
	} else if v, err = env.value(a.fetch); err != nil {
		return err.Error()
	}
	bits := uint(a.size * 8)
	if bits < 64 {
		v &= 1<<bits - 1
	}
	switch a.kind {
	case 's':
		return strconv.FormatInt(int64(v<<(64-bits))>>(64-bits), 10)
	case 'x':
		return "0x" + strconv.FormatUint(v, 16)
	}
	return strconv.FormatUint(v, 10)
}
