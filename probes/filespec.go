package probes

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/probesim/probesim/emu/loader"
)

// FileTarget is where a probe on a file other than the program is: a file
// offset in a file, as Linux's uprobe_register keys a uprobe by inode and
// offset. The probe has no address until the file is mapped (Spec.Addr is
// 0); each mapping gives it one (fileprobe.go).
type FileTarget struct {
	Path string // the file, as the spec names it (in the guest's view)
	// Offset is the probed instruction's file offset; Vaddr its
	// link-time address in the file (what objdump shows), Offset's image
	// through the PT_LOAD holding it.
	Offset, Vaddr uint64
	Dev, Ino      uint64 // the file's identity (mmu.File.Identity)
}

// ifuncNote is why an IFUNC's probe counts what it counts, as perf
// probe warns: "Target function is GNU IFUNC ... it may not be what you
// expect" (tools/perf/util/probe-event.c, 2020).
const ifuncNote = "GNU IFUNC: the probe is on the resolver, which the dynamic loader runs to choose an implementation; probe the implementation to count calls"

// openedObject is a file a Resolver opened, or why it could not.
type openedObject struct {
	file ObjectFile
	obj  *loader.Object
	err  error
}

// object opens path once.
func (r *Resolver) object(path string) (*openedObject, error) {
	if o, ok := r.objects[path]; ok {
		return o, o.err
	}
	if r.objects == nil {
		r.objects = map[string]*openedObject{}
	}
	o := &openedObject{}
	r.objects[path] = o
	open := r.Files
	if open == nil {
		open = HostFiles
	}
	if o.file, o.err = open(path); o.err != nil {
		return o, o.err
	}
	o.obj, o.err = loader.ReadObject(path, o.file.Data, o.file.Size)
	var le *loader.Error
	if errors.As(o.err, &le) {
		o.err = errors.New(le.Error()) // "PATH: not an ELF file"
	}
	if o.err == nil && o.obj.SymbolSource() != loader.SymtabSection {
		// A stripped library's .symtab may be in its separate debug
		// file, found by build ID in the same view (Debian's -dbg
		// packages), as perf looks for it before the .dynsym.
		if dbg := loader.DebugFilePath(o.obj.BuildID()); dbg != "" {
			if df, err := open(dbg); err == nil {
				o.obj.UseDebugSymbols(dbg, df.Data, df.Size)
			}
		}
	}
	return o, o.err
}

// symbolSource names where o's symbols come from, for errors.
func symbolSource(o *loader.Object) string {
	if d := o.DebugFile(); d != "" {
		return ".symtab of " + d
	}
	return o.SymbolSource()
}

// resolveFile resolves t (SYMBOL[+OFF], or a 0x number: a file offset in
// perf's form, a link-time address in bpftrace's) in the file form names.
// The checks are the program's: an instruction boundary from the
// containing symbol's start, bytes from a PF_X segment's file range, the
// validity table.
func (r *Resolver) resolveFile(spec Spec, form specForm, t string, args []string, mode int) (Spec, error) {
	of, err := r.object(form.binary)
	if err != nil {
		return Spec{}, err
	}
	o := of.obj
	if want := r.Image.Arch; o.Arch != want {
		return Spec{}, fmt.Errorf("%s is %v, the program is %v: it cannot be mapped executable in this process", o.Path, o.Arch, want)
	}
	ft := &FileTarget{Path: form.binary, Dev: of.file.Dev, Ino: of.file.Ino}
	var load loader.LoadSegment
	var ok bool
	var sym loader.Symbol
	hasSym := false
	switch {
	case t == "":
		return Spec{}, errors.New("empty probe spec (want BINARY:SYMBOL, BINARY:SYMBOL+OFFSET or BINARY:0xOFFSET)")
	case strings.HasPrefix(t, "0x") || strings.HasPrefix(t, "0X"):
		n, err := strconv.ParseUint(t[2:], 16, 64)
		if err != nil {
			return Spec{}, fmt.Errorf("bad offset %q", t)
		}
		if form.fileOffsets() {
			if load, ok = o.LoadOfOffset(n); !ok {
				return Spec{}, fmt.Errorf("offset 0x%x is not in a loaded segment of %s", n, o.Path)
			}
			ft.Offset, ft.Vaddr = n, n-load.Offset+load.Vaddr
		} else {
			if load, ok = o.LoadOfVaddr(n); !ok {
				return Spec{}, fmt.Errorf("address 0x%x is not in a loaded segment of %s", n, o.Path)
			}
			ft.Vaddr, ft.Offset = n, n-load.Vaddr+load.Offset
		}
		if s, off, ok := o.SymbolAt(ft.Vaddr); ok {
			sym, hasSym = s, true
			spec.Symbol, spec.Offset = s.Name, off
		}
	default:
		name, offText, hasOff := strings.Cut(t, "+")
		if o.SymbolSource() == "" {
			return Spec{}, fmt.Errorf("%s is stripped (no .symtab or .dynsym symbols): no symbol %q; probe it by file offset (BINARY:0xOFFSET)", o.Path, name)
		}
		if sym, ok = o.Lookup(name); !ok {
			return Spec{}, fmt.Errorf("no symbol %q in %s (%s)", name, o.Path, symbolSource(o))
		}
		hasSym = true
		var off uint64
		if hasOff {
			if off, err = parseOffset(offText); err != nil {
				return Spec{}, err
			}
		}
		if sym.Size > 0 && off >= sym.Size {
			return Spec{}, fmt.Errorf("offset %d is past the end of %s (%d bytes)", off, name, sym.Size)
		}
		spec.Symbol, spec.Offset = sym.Name, off
		ft.Vaddr = sym.Value + off
		if load, ok = o.LoadOfVaddr(ft.Vaddr); !ok {
			return Spec{}, fmt.Errorf("%s+%d is not in the file-backed bytes of a loaded segment of %s", name, off, o.Path)
		}
		ft.Offset = ft.Vaddr - load.Vaddr + load.Offset
	}
	if !load.Exec {
		return Spec{}, fmt.Errorf("offset 0x%x of %s is not in an executable segment", ft.Offset, o.Path)
	}
	if spec.Return && (spec.Symbol == "" || spec.Offset != 0) {
		return Spec{}, errors.New("a return probe must be on a function's first instruction")
	}
	// The bytes from the symbol's start (or the nearest symbol before a
	// bare offset) to the instruction's end, from the file.
	start := ft.Vaddr
	if hasSym {
		start = sym.Value
	} else if s, ok := o.PrecedingSymbol(ft.Vaddr); ok && load.ContainsVaddr(s.Value) {
		sym, start = s, s.Value
	}
	if !load.ContainsVaddr(start) {
		return Spec{}, fmt.Errorf("symbol %s starts outside the probe's segment", sym.Name)
	}
	n := min(ft.Vaddr-start+maxInsnLen, load.Vaddr+load.Filesz-start)
	data := make([]byte, n)
	data = data[:o.ReadAt(data, start-load.Vaddr+load.Offset)]
	seg := loader.Segment{Vaddr: start, Memsz: uint64(len(data)), Filesz: uint64(len(data)), Data: data, Exec: true}
	if start != ft.Vaddr {
		near := Spec{Addr: ft.Vaddr, Symbol: sym.Name, Offset: ft.Vaddr - start}
		if err := checkBoundary(seg, near, mode); err != nil {
			if !hasSym {
				return Spec{}, fmt.Errorf("%w, decoding from %s, the nearest symbol before it", err, sym.Name)
			}
			return Spec{}, err
		}
	}
	code := data[ft.Vaddr-start:]
	inst, err := Check(code, mode)
	if err != nil {
		return Spec{}, err
	}
	spec.Insn, spec.Len = inst, inst.Len
	spec.Bytes = append([]byte(nil), code[:inst.Len]...)
	if len(args) > 0 {
		if spec.Args, err = parseFetchArgs(args, mode, spec.Return); err != nil {
			return Spec{}, err
		}
	}
	spec.Class = Classify(inst, mode)
	spec.LinuxRefusal = LinuxRefusal(spec.Bytes, mode)
	if hasSym && sym.IFUNC && spec.Offset == 0 {
		spec.Note = ifuncNote
	}
	spec.File = ft
	return spec, nil
}

// programAddress is the program's address of its file offset off, through
// the executable segment whose file bytes hold it.
func programAddress(im *loader.Image, off uint64) (uint64, error) {
	for _, s := range im.Segments {
		if s.Exec && off >= s.FileOff && off-s.FileOff < s.Filesz {
			return s.Vaddr + off - s.FileOff, nil
		}
	}
	return 0, fmt.Errorf("file offset 0x%x is not in an executable segment of %s", off, im.Path)
}
