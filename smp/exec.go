package smp

import (
	"errors"
	"syscall"

	"github.com/probesim/probesim/emu"
	"github.com/probesim/probesim/emu/loader"
	"github.com/probesim/probesim/kernel"
	"github.com/probesim/probesim/mmu"
)

// execve on the machine (kernel.ExecScheduler): the program is parsed
// from the guest's view and loaded, with its interpreter, into a new
// address space on the machine's Phys and page cache, laid out as the
// first program is (the same placement, the initial stack of
// fs/binfmt_elf.c, AT_RANDOM drawn from the seed, the pid and the exec's
// count); the probe engine's observer sees its file mappings (uprobe_mmap
// after exec). Deviation: a program of the other ABI (an i386 program
// exec'd from an x86-64 one, or the reverse) is ENOEXEC, as the one
// engine runs one mode; Linux runs both.

// LoadExec loads p for t's execve.
func (s schedAdapter) LoadExec(t *kernel.Task, p kernel.ExecProgram) (*kernel.ExecImage, syscall.Errno) {
	m := s.m
	size := p.Node.Size()
	if size > 1<<30 {
		return nil, syscall.ENOMEM
	}
	data := make([]byte, size)
	if n, e := m.kernel.FS().ReadAt(p.Node, data, 0); e != 0 || int64(n) != size {
		return nil, syscall.EIO
	}
	im, err := loader.Parse(p.Path, data)
	if err != nil {
		return nil, syscall.ENOEXEC
	}
	if im.Arch != m.image.Arch {
		m.kernel.CountUnsupported("execve", "program of the other ABI")
		_ = im.Close()
		return nil, syscall.ENOEXEC
	}
	view := m.kernel.FS()
	var interp *emu.Object
	img := &kernel.ExecImage{}
	if im.Interp != "" {
		obj, n, err := openInterp(view, p.Cwd, im)
		if err != nil {
			_ = im.Close()
			var le *loader.Error
			if errors.As(err, &le) && le.Kind == loader.NotExist {
				return nil, syscall.ENOENT
			}
			return nil, syscall.ELIBBAD
		}
		interp, img.Interp = obj, n
	}
	mm, err := mmu.NewChecked(mmu.Config{
		TaskSize:   im.Arch.TaskSize(),
		MmapBase:   mmapBase(im.Arch),
		StackLimit: p.StackLimit,
		MaxMemory:  m.cfg.MemoryLimit,
		Phys:       m.as.Phys(),
		PageCache:  m.as.PageCache(),
	})
	if err != nil {
		_ = im.Close()
		return nil, syscall.ENOMEM
	}
	if m.fileObserver != nil {
		mm.SetFileMapObserver(m.fileObserver)
	}
	// The engine translates through the new address space while the
	// program is loaded, so that a probe armed in its mappings (the
	// observer, uprobe_mmap) writes its int3 there; a failed load goes
	// back to the old one.
	old := m.core.MM()
	if err := m.core.AttachMM(mm); err != nil {
		_ = mm.Close()
		_ = im.Close()
		return nil, syscall.ENOMEM
	}
	if _, err := m.core.SwitchMM(mm); err != nil {
		_ = m.core.DetachMM(mm)
		_ = mm.Close()
		_ = im.Close()
		return nil, syscall.ENOMEM
	}
	spec := loader.NewStackSpec(im, p.Argv, p.Envp)
	spec.ExecFn = p.ExecFn
	m.execs++
	r := seedStream(m.cfg.Seed^uint64(t.TID)<<32^m.execs, 0x6174726e64) // "atrnd"
	for i := range spec.Random {
		spec.Random[i] = byte(r.Uint32())
	}
	spec.HWCap, spec.HWCap2 = m.core.HWCap(), m.core.HWCap2()
	st, err := emu.LoadProgram(mm, emu.Object{Image: im, Name: p.Path, ID: kernel.ViewFileID(view, p.Node)}, spec, interp)
	if err != nil {
		oom := mm.OutOfMemory()
		_, _ = m.core.SwitchMM(old)
		_ = m.core.DetachMM(mm)
		_ = mm.Close()
		_ = im.Close()
		if oom {
			return nil, syscall.ENOMEM
		}
		return nil, syscall.ENOEXEC
	}
	if m.fileObserver != nil {
		// The loader maps the segments writable to fill them and makes
		// them read-only after: tell the observer of every mapping as it
		// is now, as uprobe_mmap sees the final text mappings (a probe
		// already armed there is left as it is).
		for _, v := range mm.VMAs() {
			if v.Flags&mmu.FileBacked != 0 && !v.ID.IsZero() {
				m.fileObserver.FileMapped(v)
			}
		}
	}
	// The plan is in memory now; keeping it (its copy of the file) for
	// every exec would grow the host's memory with each command a shell
	// runs.
	_ = im.Close()
	img.MM, img.PC, img.SP = mm, st.PC, st.SP
	return img, 0
}

// DiscardExec releases an image that will not run.
func (s schedAdapter) DiscardExec(img *kernel.ExecImage) {
	s.m.releaseMM(img.MM)
	_ = img.MM.Close()
}

// KillOtherThreads takes the other threads of t's process down
// (de_thread's zap_other_threads and wait).
func (s schedAdapter) KillOtherThreads(t *kernel.Task) {
	m := s.m
	p := t.Process()
	for _, th := range m.threads {
		if th.kt == t || th.kt.Process() != p || th.exited() {
			continue
		}
		m.takeOff(th)
		for i, q := range m.runq {
			if q == th {
				m.runq = append(m.runq[:i], m.runq[i+1:]...)
				break
			}
		}
		if th.ctx != nil {
			th.ctx.Free()
			th.ctx = nil
		}
		m.kernel.ExitTask(th.kt, 0)
	}
}

// CommitExec makes the engine (already on the new address space since
// LoadExec) and t's vCPU translate through it.
func (s schedAdapter) CommitExec(t *kernel.Task, img *kernel.ExecImage) error {
	m := s.m
	if _, err := m.core.SwitchMM(img.MM); err != nil {
		return err
	}
	if v := m.curV; v != nil {
		v.mm = img.MM // the exec's own load of the new tables
	}
	return m.core.ExecSegments()
}
