package probes

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/arch/x86/x86asm"

	"github.com/probesim/probesim/emu/insn"
	"github.com/probesim/probesim/emu/loader"
)

// Spec is a resolved, checked probe point.
type Spec struct {
	Text   string // the spec as given: "probed", "probed+6", "0x401a16"
	Addr   uint64 // the probed instruction's address
	Symbol string // the containing symbol; "" when none contains Addr
	Offset uint64 // Addr - the symbol's start
	Insn   x86asm.Inst
	Len    int    // instruction length, = Insn.Len
	Bytes  []byte // the original instruction bytes (Len of them), a private copy
	Class  Class
	// Return: the probe's handler runs when the function returns
	// (SPEC%return, uretprobe.go), not at the instruction; the spec must
	// name a function's first instruction.
	Return bool
	// Args are the fetch arguments after the spec, as uprobe_events takes
	// them (fetchargs.go).
	Args []FetchArg
	// LinuxRefusal is non-empty when Linux's stricter table would refuse
	// this instruction (LOCK, a segment override, pop es/ds) although the
	// seed's policy, which probesim follows, accepts it: the report flags it.
	LinuxRefusal string
	// File is where a probe on a file other than the program is (a file
	// offset: filespec.go); nil for the program's probes, whose Addr is
	// fixed at start. A file probe's Addr is 0 until a mapping of the
	// file gives it one.
	File *FileTarget
	// Note is what the report says about the probe point: why an IFUNC's
	// probe is on its resolver (as perf probe warns).
	Note string
}

// returnSuffix makes a spec a return probe, as perf probe spells it.
const returnSuffix = "%return"

// maxInsnLen is the architectural limit on an x86 instruction's length.
const maxInsnLen = 15

// Resolve parses text (a symbol, symbol+offset with a decimal or 0x-hex
// offset, or an absolute 0x address, or one of the forms naming a binary:
// specform.go) against im, and checks that it names the first byte of a
// probeable instruction in an executable segment. Files other than the
// program are read from the host (HostFiles); a Resolver reads them from
// a guest's view. Every error is one line starting with `probe "TEXT": `,
// but for an *UnresolvableError when the program's symbols cannot be read.
func Resolve(im *loader.Image, text string) (Spec, error) {
	return (&Resolver{Image: im}).Resolve(text)
}

// Resolver resolves specs against a program and the files they name,
// opening each file once.
type Resolver struct {
	Image *loader.Image
	// GuestPath is the program's path in the guest, when it is not
	// Image.Path: a spec naming it names the program.
	GuestPath string
	// Files opens the files specs name; nil is HostFiles.
	Files   Files
	objects map[string]*openedObject
}

// Resolve is the package's Resolve, with r's files.
func (r *Resolver) Resolve(text string) (Spec, error) {
	if r.ownsSpec(text) {
		if err := symbolsReadable(r.Image, text); err != nil {
			return Spec{}, err
		}
	}
	s, err := r.resolve(text)
	if err != nil {
		return Spec{}, fmt.Errorf("probe %q: %w", text, err)
	}
	return s, nil
}

// ownsSpec reports whether text is a probe on the program (not on
// another file), which needs the program's symbols.
func (r *Resolver) ownsSpec(text string) bool {
	fields := strings.Fields(text)
	if len(fields) == 0 {
		return true
	}
	f, err := splitForm(r.Image, r.GuestPath, fields[0])
	return err != nil || f.binary == ""
}

func (r *Resolver) resolve(text string) (Spec, error) {
	im := r.Image
	if im == nil {
		return Spec{}, errors.New("no program image")
	}
	mode := 64
	if im.Arch == loader.ArchI386 {
		mode = 32
	}
	spec := Spec{Text: text}
	fields := strings.Fields(text)
	t := ""
	if len(fields) > 0 {
		t = fields[0]
	}
	form, err := splitForm(im, r.GuestPath, t)
	if err != nil {
		return Spec{}, err
	}
	t = form.rest
	if base, ok := strings.CutSuffix(t, returnSuffix); ok {
		if form.provider != "" {
			return Spec{}, fmt.Errorf("%s: takes no %s suffix (uretprobe: is the return probe)", form.provider, returnSuffix)
		}
		spec.Return, t = true, base
	}
	if form.provider == uretprobeForm {
		spec.Return = true
	}
	if form.binary != "" {
		return r.resolveFile(spec, form, t, fields[1:], mode)
	}
	switch {
	case t == "":
		return Spec{}, errors.New("empty probe spec (want SYMBOL, SYMBOL+OFFSET or 0xADDRESS)")
	case strings.HasPrefix(t, "0x") || strings.HasPrefix(t, "0X"):
		addr, err := strconv.ParseUint(t[2:], 16, 64)
		if err != nil {
			return Spec{}, fmt.Errorf("bad address %q", t)
		}
		if form.fileOffsets() {
			if addr, err = programAddress(im, addr); err != nil {
				return Spec{}, err
			}
		}
		spec.Addr = addr
		if sym, off, ok := im.SymbolAt(addr); ok {
			spec.Symbol, spec.Offset = sym.Name, off
		}
	default:
		name, offText, hasOff := strings.Cut(t, "+")
		sym, ok := im.Lookup(name)
		if !ok {
			return Spec{}, fmt.Errorf("no symbol %q in %s", name, im.Path)
		}
		var off uint64
		if hasOff {
			var err error
			if off, err = parseOffset(offText); err != nil {
				return Spec{}, err
			}
		}
		if sym.Size > 0 && off >= sym.Size {
			return Spec{}, fmt.Errorf("offset %d is past the end of %s (%d bytes)", off, name, sym.Size)
		}
		spec.Symbol, spec.Offset = sym.Name, off
		spec.Addr = sym.Value + off
		if spec.Addr < sym.Value || (mode == 32 && spec.Addr > 0xFFFF_FFFF) {
			return Spec{}, fmt.Errorf("offset %d overflows the address space", off)
		}
	}

	if spec.Return && (spec.Symbol == "" || spec.Offset != 0) {
		// As perf probe requires: the return address must be what sp
		// points at, which it is only at a function's entry.
		return Spec{}, errors.New("a return probe must be on a function's first instruction")
	}
	seg, ok := execSegment(im, spec.Addr)
	if !ok {
		return Spec{}, errors.New("address is not in an executable segment")
	}
	if spec.Addr-seg.Vaddr >= uint64(len(seg.Data)) {
		return Spec{}, errors.New("address is in the zero-filled (bss) part of its segment: there is no code there")
	}
	switch {
	case spec.Symbol != "":
		if err := checkBoundary(seg, spec, mode); err != nil {
			return Spec{}, err
		}
	default:
		// A raw address no symbol's size covers (assembly symbols often
		// have none): decode from the nearest symbol before it in its
		// segment, so an address inside an instruction is refused still.
		if sym, ok := precedingSymbol(im, seg, spec.Addr); ok {
			near := Spec{Addr: spec.Addr, Symbol: sym.Name, Offset: spec.Addr - sym.Value}
			if err := checkBoundary(seg, near, mode); err != nil {
				return Spec{}, fmt.Errorf("%w, decoding from %s, the nearest symbol before it", err, sym.Name)
			}
		}
	}
	code := seg.Data[spec.Addr-seg.Vaddr:]
	code = code[:min(len(code), maxInsnLen)]
	inst, err := Check(code, mode)
	if err != nil {
		return Spec{}, err
	}
	spec.Insn, spec.Len = inst, inst.Len
	spec.Bytes = append([]byte(nil), code[:inst.Len]...)
	if len(fields) > 1 {
		if spec.Args, err = parseFetchArgs(fields[1:], mode, spec.Return); err != nil {
			return Spec{}, err
		}
	}
	spec.Class = Classify(inst, mode)
	spec.LinuxRefusal = LinuxRefusal(spec.Bytes, mode)
	return spec, nil
}

// parseOffset reads a decimal or 0x-prefixed hexadecimal offset. A leading
// zero does not mean octal: "010" is ten.
func parseOffset(s string) (uint64, error) {
	var v uint64
	var err error
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		v, err = strconv.ParseUint(s[2:], 16, 64)
	} else {
		v, err = strconv.ParseUint(s, 10, 64)
	}
	if err != nil || strings.HasPrefix(s, "+") || strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("bad offset %q", s)
	}
	return v, nil
}

// execSegment is the PF_X segment containing addr. READ_IMPLIES_EXEC (an
// i386 program without PT_GNU_STACK) makes every mapping executable in
// Linux, but code is only looked for where the file says it is.
func execSegment(im *loader.Image, addr uint64) (loader.Segment, bool) {
	seg, ok := im.SegmentAt(addr)
	if !ok || !seg.Exec {
		return loader.Segment{}, false
	}
	return seg, true
}

// precedingSymbol is the symbol starting closest below or at addr in
// seg, whatever its size.
func precedingSymbol(im *loader.Image, seg loader.Segment, addr uint64) (loader.Symbol, bool) {
	syms, err := im.Symbols() // sorted by address
	if err != nil {
		return loader.Symbol{}, false
	}
	i := sort.Search(len(syms), func(i int) bool { return syms[i].Value > addr }) - 1
	if i < 0 || !seg.Contains(syms[i].Value) {
		return loader.Symbol{}, false
	}
	return syms[i], true
}

// checkBoundary decodes linearly from the containing symbol's start to the
// probe and refuses an address inside an instruction, naming the boundaries
// on either side. The symbol must start in the same segment.
func checkBoundary(seg loader.Segment, spec Spec, mode int) error {
	start := spec.Addr - spec.Offset
	if !seg.Contains(start) {
		return fmt.Errorf("symbol %s starts outside the probe's segment", spec.Symbol)
	}
	data := seg.Data[start-seg.Vaddr:]
	var pos uint64
	for pos < spec.Offset {
		n, err := insn.Len(data[pos:], mode)
		if err != nil {
			return fmt.Errorf("cannot check the instruction boundary: %s+%d does not decode (%v)", spec.Symbol, pos, err)
		}
		if pos+uint64(n) > spec.Offset {
			return fmt.Errorf("not on an instruction boundary (instructions start at %s+%d and %s+%d)",
				spec.Symbol, pos, spec.Symbol, pos+uint64(n))
		}
		pos += uint64(n)
	}
	return nil
}

// ParseList resolves every spec in texts, in order, as Resolve does. Two
// specs naming the same place (an address of the program, or a file
// offset of the same file) are refused unless one is an entry probe and
// the other a return probe (one uprobe per address with a consumer of each
// kind, as in Linux: consumers.go). All errors are returned, one line
// each, joined by errors.Join.
//
// When the program's section headers are damaged, no spec on the program
// resolves and the one error is an *UnresolvableError for the first.
func ParseList(im *loader.Image, texts []string) ([]Spec, error) {
	return (&Resolver{Image: im}).ParseList(texts)
}

// ParseList is the package's ParseList, with r's files.
func (r *Resolver) ParseList(texts []string) ([]Spec, error) {
	for _, t := range texts {
		if r.ownsSpec(t) {
			if err := symbolsReadable(r.Image, t); err != nil {
				return nil, err
			}
			break
		}
	}
	var specs []Spec
	var errs []error
	type place struct {
		addr     uint64 // the program's address, or the file offset
		dev, ino uint64 // the file's identity, 0 for the program
		inFile   bool
		isReturn bool // a return probe
	}
	seen := make(map[place]string, len(texts))
	for _, t := range texts {
		s, err := r.Resolve(t)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		at := place{addr: s.Addr, isReturn: s.Return}
		where := fmt.Sprintf("address 0x%x", s.Addr)
		if f := s.File; f != nil {
			at = place{addr: f.Offset, dev: f.Dev, ino: f.Ino, inFile: true, isReturn: s.Return}
			where = fmt.Sprintf("offset 0x%x of %s", f.Offset, f.Path)
		}
		if prev, dup := seen[at]; dup {
			errs = append(errs, fmt.Errorf("probe %q: same %s as probe %q", t, where, prev))
			continue
		}
		seen[at] = t
		specs = append(specs, s)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return specs, nil
}

// UnresolvableError is a probe spec that cannot be resolved because the
// program's section headers or symbol table are damaged. Every spec needs
// them: a symbol to find, or for an address the symbol containing it and
// the instruction boundaries from its start. The program itself runs
// without them, as on Linux. It unwraps to the loader's error, whose chain
// holds loader.ErrSectionHeaders.
type UnresolvableError struct {
	Text string        // the spec as given
	Err  *loader.Error // from Image.Symbols
}

func (e *UnresolvableError) Error() string {
	return fmt.Sprintf("%s: cannot resolve probe %q: %s", e.Err.Path, e.Text, e.Err.Msg)
}

func (e *UnresolvableError) Unwrap() error { return e.Err }

// symbolsReadable returns an *UnresolvableError for text when im's symbols
// cannot be read.
func symbolsReadable(im *loader.Image, text string) error {
	if im == nil {
		return nil
	}
	_, err := im.Symbols()
	var le *loader.Error
	if errors.As(err, &le) {
		return &UnresolvableError{Text: text, Err: le}
	}
	return err
}
