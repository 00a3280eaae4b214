package probes

import (
	"fmt"

	"github.com/probesim/probesim/mmu"
)

// Probes on files, armed by their mappings.
//
// Linux keeps a uprobe per (inode, offset) and puts it into every process
// that maps the file (kernel/events/uprobes.c): uprobe_register walks the
// mappings already there (register_for_each_vma), and mmap_region calls
// uprobe_mmap for every new one, which installs the breakpoint of each
// uprobe whose offset the VMA covers, at offset_to_vaddr(vma, offset) =
// vm_start + offset - vm_pgoff * PAGE_SIZE (install_breakpoint). When the
// VMA goes, nothing is written (uprobe_munmap only marks the mm): the
// breakpoint was in the process's private copy of the page, which goes
// with it. probesim does the same with the mmu's FileMapObserver: a
// probe's spec (a parent, never in the text itself) gets one instance per
// mapping that arms it, an ordinary probe at that address with its own
// analysis, strategy state and counts, installed with the same kernel
// write as a probe placed at start (charged to the vCPU whose mmap armed
// it, as uprobe_mmap runs in the task that maps). An unmapping disarms the
// instances in its range without writing, closing an inline window open
// there. The report gives one entry per spec, its counts summed over its
// instances (results.go), so hits + misses = executions for the spec as
// for each instance.
//
// Which mappings arm a probe is valid_vma(vma, true): a file mapping that
// may execute (VM_MAYEXEC), neither shared (VM_MAYSHARE) nor writable
// (VM_WRITE). VM_MAYEXEC is set for every file on a mount without noexec,
// whatever PROT_EXEC says, so like Linux a PROT_READ private mapping of the
// file is armed too (a read of it shows the int3, as it does on Linux); the
// view has no noexec mounts. As in Linux, mprotect never arms (no
// uprobe_mmap there): a file mapped writable and made executable later
// stays unprobed, and a mapping armed stays armed whatever mprotect does.
//
// The program's own probes are probes on the program's file too when the
// loader's mapping of its text carries the file's identity: they are in
// the text from the start, at their address, and the program's other
// mappings of its file (mapexec maps /proc/self/exe) arm instances of
// them counted with them, as Linux's uprobe on the program's inode is in
// every mapping of it; removing one (DetachAt) removes its instances.
// (When the program is put in the view at --guest-path, the loader's
// mapping has no identity yet, and only the text is probed.)
//
// Deviations: the entry and the return probe on one offset share a
// breakpoint per mapping (consumers.go) as at start. Probes on files cannot
// be removed while the program runs (DetachAt); a file probe placed while
// it runs (AttachAt) arms the mappings there at that cycle, as
// register_for_each_vma does, and the later ones.

// fileProbes is the engine's part that follows the mappings.
type fileProbes struct {
	e       *Engine
	parents []*probe // the specs on files, in registration order
}

// fileState is a file probe's parent's list of instances, and an
// instance's parent. The program's probes have one too when the
// program's text is an identified file: its other mappings (the program
// mapping its own file, as mapexec maps /proc/self/exe) arm instances of
// the program's probe, as they arm Linux's uprobe on the program's inode;
// the parent is then in the text itself, at the loader's mapping.
type fileState struct {
	parent    *probe
	target    FileTarget // the file and offset the parent's spec names
	instances []*probe   // in arming order
}

// validVMA is valid_vma(vma, true) of kernel/events/uprobes.c: a file's
// private mapping that is not writable (VM_MAYEXEC holds for every file of
// the view).
func validVMA(v mmu.VMA) bool {
	return v.Flags&mmu.FileBacked != 0 && !v.ID.IsZero() && v.Flags&mmu.Shared == 0 && v.Prot&mmu.ProtWrite == 0
}

// registerFile registers a probe on a file: a parent, armed by mappings.
func (e *Engine) registerFile(spec Spec, cycle uint64) *probe {
	p := &probe{spec: spec, index: uint32(len(e.all)), perCPU: e.newCounts(), life: lifetime{attachAt: cycle}}
	e.all = append(e.all, p)
	e.followFile(p, *spec.File)
	return p
}

// samePlace reports whether t and u name the same offset of the same file.
func (t FileTarget) samePlace(u FileTarget) bool {
	return t.Dev == u.Dev && t.Ino == u.Ino && t.Offset == u.Offset
}

// followFile makes p's probe armed by the mappings of ft's file.
func (e *Engine) followFile(p *probe, ft FileTarget) {
	p.file = &fileState{parent: p, target: ft}
	if e.files == nil {
		e.files = &fileProbes{e: e}
		e.m.SetFileMapObserver(e.files)
	}
	e.files.parents = append(e.files.parents, p)
}

// followProgramFile makes the program's probe p, in the text now, armed
// also by the other mappings of the program's file, when the mapping
// holding it is of an identified file (the loader's: mmu.MapFixedFile),
// arming those there now (register_for_each_vma).
func (e *Engine) followProgramFile(p *probe) {
	v, ok := e.m.CurrentMM().FindVMA(p.spec.Addr)
	if !ok || v.Flags&mmu.FileBacked == 0 || v.ID.IsZero() {
		return
	}
	e.followFile(p, FileTarget{Path: v.Name, Offset: v.Offset + p.spec.Addr - v.Start, Dev: v.ID.Dev, Ino: v.ID.Ino})
	e.files.armExisting(p)
}

// newCounts is a probe's per-vCPU counts, zero.
func (e *Engine) newCounts() []CPUCounts {
	c := make([]CPUCounts, e.m.CPUs())
	for i := range c {
		c[i].VCPU = i
	}
	return c
}

// armExisting arms p in the file's mappings already there
// (register_for_each_vma).
func (fp *fileProbes) armExisting(p *probe) {
	for _, v := range fp.e.m.CurrentMM().VMAs() {
		if validVMA(v) {
			fp.armIn(p, v)
		}
	}
}

// FileMapped is uprobe_mmap: every probe on v's file whose offset v
// covers is armed at its address in v.
func (fp *fileProbes) FileMapped(v mmu.VMA) {
	if !validVMA(v) {
		return
	}
	for _, p := range fp.parents {
		if p.life.state == lifeInText { // placed (at start, or its cycle came)
			fp.armIn(p, v)
		}
	}
}

// armIn arms p in v if v maps p's file and offset.
func (fp *fileProbes) armIn(p *probe, v mmu.VMA) {
	ft := p.file.target
	if v.ID != (mmu.FileID{Dev: ft.Dev, Ino: ft.Ino}) || ft.Offset < v.Offset || ft.Offset-v.Offset >= v.Size() {
		return
	}
	addr := v.Start + ft.Offset - v.Offset
	if p.spec.File == nil && addr == p.spec.Addr {
		// The program's probe itself, in the loader's mapping of the
		// program, or of the same program exec'd again: the int3 goes
		// into this address space's text if it is not there.
		if err := fp.e.ensureInt3(p, addr); err != nil {
			fp.e.fail(err)
		}
		return
	}
	if err := fp.e.arm(p, addr); err != nil {
		fp.e.fail(err)
	}
}

// FileUnmapped is uprobe_munmap, and the page going: the instances in
// [v.Start, v.End) are disarmed without a write.
func (fp *fileProbes) FileUnmapped(v mmu.VMA) {
	cycle := fp.e.m.ClockFP() >> 8
	for _, p := range fp.parents {
		for _, q := range p.file.instances {
			if q.life.state == lifeInText && v.Contains(q.spec.Addr) {
				fp.e.disarm(q, cycle)
			}
		}
	}
}

// arm places an instance of the file probe p at addr.
func (e *Engine) arm(p *probe, addr uint64) error {
	if q := e.probes[addr]; q != nil {
		if q.file != nil && q.file.target.samePlace(p.file.target) && q.spec.Return != p.spec.Return && q.also == nil {
			// The entry and the return probe on one offset: one
			// breakpoint, two consumers (consumers.go).
			inst := e.instance(p, addr)
			q.also, inst.rider = inst, true
			inst.life.state = lifeInText
			return nil
		}
		if q.file != nil && q.file.parent == p {
			// Armed already at this address: a mapping over a mapping of
			// it, or another process that maps the file at the same place
			// (a fork's copy of the text, an exec'd program loading the
			// same library). uprobe_mmap installs the breakpoint in every
			// mm: if this address space's text has the original byte, it
			// gets the int3 too, counted with the existing instance.
			return e.ensureInt3(q, addr)
		}
		return fmt.Errorf("probe %q: address %#x, where %s maps it, is probed already by %q", p.spec.Text, addr, p.file.target.Path, q.spec.Text)
	}
	inst := e.instance(p, addr)
	var cur [maxInsnLen]byte
	code := cur[:len(inst.spec.Bytes)]
	if err := e.m.CurrentMM().ReadForce(addr, code); err != nil {
		return fmt.Errorf("probe %q: reading the mapping at %#x: %w", p.spec.Text, addr, err)
	}
	if string(code) != string(inst.spec.Bytes) {
		// verify_opcode would find other bytes: the page is the
		// process's own copy, changed since (or the file was).
		return fmt.Errorf("probe %q: the bytes at %#x, where %s maps it, are not the file's instruction", p.spec.Text, addr, p.file.target.Path)
	}
	return e.install(inst)
}

// ensureInt3 writes q's breakpoint at addr into the current address
// space when its text there has q's original byte (a process that maps
// the probed file where another already has the probe).
func (e *Engine) ensureInt3(q *probe, addr uint64) error {
	var b [1]byte
	if err := e.m.CurrentMM().ReadForce(addr, b[:]); err != nil {
		return fmt.Errorf("probe %q: reading the mapping at %#x: %w", q.spec.Text, addr, err)
	}
	if b[0] != q.spec.Bytes[0] {
		return nil // the int3 is there (or the text is not the file's)
	}
	if err := e.m.KernelWrite(addr, []byte{int3}); err != nil {
		return fmt.Errorf("probe %q: %w", q.spec.Text, err)
	}
	return nil
}

// instance is a new instance of the file probe p at addr, analysed.
func (e *Engine) instance(p *probe, addr uint64) *probe {
	spec := p.spec
	spec.Addr = addr
	inst := &probe{spec: spec, index: p.index, perCPU: e.newCounts(), file: p.file,
		life: lifetime{attachAt: p.life.attachAt}}
	inst.arch = analyze(spec, e.m, e.mode(), e.name != Inline)
	p.file.instances = append(p.file.instances, inst)
	return inst
}

// disarm takes the instance q out of the text as its mapping goes: no
// write (the page goes), an inline window open on it closed at cycle, a
// trap on it still in flight a miss of the probe gone (engine.go).
func (e *Engine) disarm(q *probe, cycle uint64) {
	if q.rider {
		q.life.state = lifeRemoved
		return
	}
	delete(e.probes, q.spec.Addr)
	e.gone[q.spec.Addr] = q
	q.life.state = lifeRemoved
	if q.also != nil {
		q.also.life.state = lifeRemoved
	}
	if q.open != nil {
		e.closeWindow(q, cycle, -1, 0)
	}
}
