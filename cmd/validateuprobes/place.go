package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/arch/x86/x86asm"

	"github.com/probesim/probesim/internal/perfprobe"
)

// site is where a row's probe goes, found in the files themselves: the
// perf probe needs the file offset, the verdict needs the instruction.
type site struct {
	Spec  string // the probesim spec, with Lock's offset filled in
	Place perfprobe.Place
	Insn  string // the instruction there, in Intel syntax as probesim prints it
	Lock  bool   // it has a LOCK prefix
}

// splitSpec splits a probe spec into the file it names ("" for the main
// program), the symbol and the offset: "SYMBOL", "SYMBOL+OFF",
// "FILE:SYMBOL[+OFF]" and "uprobe:FILE:SYMBOL[+OFF]" (bpftrace's). OFF is
// decimal or 0x-hex, as perf and probesim take it.
func splitSpec(spec string) (file, sym string, off uint64, err error) {
	rest := strings.TrimPrefix(spec, "uprobe:")
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		file, rest = rest[:i], rest[i+1:]
		if file == "" {
			return "", "", 0, fmt.Errorf("probe %q: no file before ':'", spec)
		}
	}
	sym = rest
	if i := strings.IndexByte(rest, '+'); i >= 0 {
		sym = rest[:i]
		off, err = strconv.ParseUint(rest[i+1:], 0, 64)
		if err != nil {
			return "", "", 0, fmt.Errorf("probe %q: bad offset %q", spec, rest[i+1:])
		}
	}
	if sym == "" || strings.HasPrefix(sym, "0x") {
		return "", "", 0, fmt.Errorf("probe %q: want SYMBOL[+OFF] or FILE:SYMBOL[+OFF]", spec)
	}
	return file, sym, off, nil
}

// locate finds the row's site in the files: prog is the fixture's binary.
func locate(c probeCase, prog string) (site, error) {
	spec := c.Probe
	if c.Lock != "" {
		off, err := firstLocked(prog, c.Lock)
		if err != nil {
			return site{}, err
		}
		spec = fmt.Sprintf("%s+%#x", c.Lock, off)
	}
	file, sym, off, err := splitSpec(spec)
	if err != nil {
		return site{}, err
	}
	if file == "" {
		file = prog
	}
	p, err := perfprobe.Locate(file, sym, off)
	if err != nil {
		return site{}, err
	}
	inst, err := decodeAt(p)
	if err != nil {
		return site{}, err
	}
	return site{Spec: spec, Place: p, Insn: x86asm.IntelSyntax(inst, p.Vaddr, nil), Lock: locked(inst)}, nil
}

// firstLocked is the offset in function sym of prog of its first
// LOCK-prefixed instruction, decoding from the start.
func firstLocked(prog, sym string) (uint64, error) {
	p, err := perfprobe.Locate(prog, sym, 0)
	if err != nil {
		return 0, err
	}
	code, err := readAt(p.File, p.FileOffset, int(p.Size))
	if err != nil {
		return 0, err
	}
	for off := 0; off < len(code); {
		inst, err := x86asm.Decode(code[off:], p.Bits)
		if err != nil {
			return 0, fmt.Errorf("%s: %s+%#x: %v", prog, sym, off, err)
		}
		if locked(inst) {
			return uint64(off), nil
		}
		off += inst.Len
	}
	return 0, fmt.Errorf("%s: %s has no LOCK-prefixed instruction", prog, sym)
}

func decodeAt(p perfprobe.Place) (x86asm.Inst, error) {
	code, err := readAt(p.File, p.FileOffset, 15) // the longest x86 instruction
	if err != nil {
		return x86asm.Inst{}, err
	}
	inst, err := x86asm.Decode(code, p.Bits)
	if err != nil {
		return x86asm.Inst{}, fmt.Errorf("%s: %s+%#x: %v", p.File, p.Symbol, p.Offset, err)
	}
	return inst, nil
}

// locked reports whether inst has a LOCK prefix (0xf0), explicit or not.
func locked(inst x86asm.Inst) bool {
	for _, p := range inst.Prefix {
		if p == 0 {
			break
		}
		if p&0xff == x86asm.PrefixLOCK {
			return true
		}
	}
	return false
}

// readAt reads up to n bytes of file at off (fewer at the end of the file).
func readAt(file string, off uint64, n int) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, n)
	m, err := f.ReadAt(b, int64(off))
	if m > 0 {
		return b[:m], nil
	}
	return nil, fmt.Errorf("%s: read at %#x: %v", file, off, err)
}
