package kernel

import (
	"strings"
	"syscall"

	"github.com/probesim/probesim/kernel/vfs"
	"github.com/probesim/probesim/mmu"
)

// execve (fs/exec.c, fs/binfmt_script.c; the ELF loading itself is the
// machine's, ExecScheduler). The kernel resolves the path in the guest's
// view from the caller's working directory, checks that it is a regular
// file the caller may execute, follows `#!` lines, and once the machine
// has loaded the new program into a new address space (the last point
// where execve can fail and return), makes it the process's: the other
// threads are killed (de_thread), the old address space is dropped (the
// parent sleeping in vfork is woken), close-on-exec descriptors are
// closed, caught signals go back to their default action (ignored ones
// stay ignored), the alternate signal stack, the robust list, POSIX timers
// and the TLS go, and comm becomes the file's name. The pid, the parent,
// the blocked mask, pending signals, interval timers, resource limits and
// the working directory stay.

// ExecProgram is a program the machine is asked to load for execve.
type ExecProgram struct {
	Path       string // the file's path in the view (resolved)
	Node       *vfs.Node
	Argv, Envp []string
	// ExecFn is AT_EXECFN: the path execve was given (of the script,
	// for a `#!` script).
	ExecFn string
	Cwd    string // the caller's working directory (for a relative PT_INTERP)
	// StackLimit is the caller's RLIMIT_STACK, which the new stack
	// follows.
	StackLimit uint64
}

// ExecImage is what the machine loaded: the new address space, ready to
// run from PC with the stack pointer SP, and the interpreter's node, if
// any (a library of the run).
type ExecImage struct {
	MM     *mmu.AddressSpace
	PC, SP uint64
	Interp *vfs.Node
}

// ExecScheduler is the part of the machine that loads programs (execve)
// and takes a process's other threads away (de_thread).
type ExecScheduler interface {
	// LoadExec loads p into a new address space, or says why it cannot
	// be run with execve's errno (ENOEXEC, ENOENT for a missing
	// interpreter, ENOMEM, ...). Nothing else changes.
	LoadExec(t *Task, p ExecProgram) (*ExecImage, syscall.Errno)
	// DiscardExec releases an image LoadExec made that will not run.
	DiscardExec(img *ExecImage)
	// KillOtherThreads takes every thread of t's process but t off the
	// machine and ends it in the kernel (ExitTask).
	KillOtherThreads(t *Task)
	// CommitExec makes img's address space t's: attached to the engine
	// and translated through from now on.
	CommitExec(t *Task, img *ExecImage) error
}

// Limits of execve (include/uapi/linux/binfmts.h, fs/binfmt_script.c).
const (
	binprmBufSize  = BinprmBufSize
	maxArgStrlen   = 131072 // MAX_ARG_STRLEN: one argument or variable
	maxScriptDepth = MaxScriptDepth
	maxArgStrings  = 0x7FFFFFFF
)

// BinprmBufSize is BINPRM_BUF_SIZE, the bytes of a #! line read, and
// MaxScriptDepth the interpreters nested before ELOOP.
const (
	BinprmBufSize  = 256
	MaxScriptDepth = 5
)

// ParseHashbang reads a `#!` line as load_script does (parseHashbang).
func ParseHashbang(b []byte, full bool) (interp, arg string, ok bool) {
	return parseHashbang(b, full)
}

func sysExecve(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.execveat(t, atFDCWDArg, a[0], a[1], a[2], 0)
}

func sysExecveat(k *Kernel, t *Task, a Args) (uint64, Result) {
	return k.execveat(t, a[0], a[1], a[2], a[3], a[4])
}

// readStrings reads a NULL-terminated array of string pointers (argv,
// envp); a NULL array is empty.
func (k *Kernel) readStrings(addr uint64) ([]string, syscall.Errno) {
	var out []string
	if addr == 0 {
		return out, 0
	}
	ws := uint64(k.cfg.Arch.wordSize())
	for i := uint64(0); ; i++ {
		p, e := k.readWord(addr + i*ws)
		if e != 0 {
			return nil, e
		}
		if p == 0 {
			return out, 0
		}
		if len(out) >= maxArgStrings {
			return nil, syscall.E2BIG
		}
		s, err := k.mm().ReadString(p, maxArgStrlen+1)
		if err != nil {
			return nil, syscall.EFAULT
		}
		if len(s) > maxArgStrlen {
			return nil, syscall.E2BIG
		}
		out = append(out, s)
	}
}

func (k *Kernel) execveat(t *Task, dirfd, pathAddr, argvAddr, envpAddr, flags uint64) (uint64, Result) {
	const atEmptyPath, atSymlinkNofollowFlag = 0x1000, 0x100
	if flags&^uint64(atEmptyPath|atSymlinkNofollowFlag) != 0 {
		return fail(syscall.EINVAL)
	}
	path, e := k.readPath(pathAddr)
	if e != 0 {
		return fail(e)
	}
	argv, e := k.readStrings(argvAddr)
	if e != 0 {
		return fail(e)
	}
	envp, e := k.readStrings(envpAddr)
	if e != 0 {
		return fail(e)
	}
	if path == "" && flags&atEmptyPath == 0 {
		return fail(syscall.ENOENT)
	}
	es, ok := k.sched.(ExecScheduler)
	if !ok {
		k.unsupportedDetail("execve", "without a machine")
		return fail(syscall.ENOSYS)
	}
	// The strings go on the new stack: at most a quarter of
	// RLIMIT_STACK (bprm_stack_limits), counting their pointers.
	size := uint64(0)
	for _, s := range append(append([]string(nil), argv...), envp...) {
		size += uint64(len(s)) + 1 + uint64(k.cfg.Arch.wordSize())
	}
	if lim := t.tg.mm.StackLimit() / 4; size > max(lim, 32*4096) || size > 6<<20 {
		return fail(syscall.E2BIG)
	}
	var n *vfs.Node
	if path == "" {
		f := t.files.Get(uint64(uint32(dirfd)))
		if f == nil || fileNode(f) == nil {
			return fail(syscall.EBADF)
		}
		n = fileNode(f)
	} else if n, e = t.lookupAt(dirfd, path, flags&atSymlinkNofollowFlag == 0); e != 0 {
		return fail(e)
	}
	prog := ExecProgram{Argv: argv, Envp: envp, ExecFn: path, Cwd: t.fsc.cwd.Path(), StackLimit: t.tg.mm.StackLimit()}
	for depth := 0; ; depth++ {
		if !n.IsRegular() {
			return fail(syscall.EACCES)
		}
		if e := k.fs.Access(n, 1); e != 0 { // MAY_EXEC
			return fail(e)
		}
		var head [binprmBufSize]byte
		got, _ := k.fs.ReadAt(n, head[:], 0)
		if got < 2 || head[0] != '#' || head[1] != '!' {
			prog.Path, prog.Node = n.Path(), n
			break
		}
		if depth >= maxScriptDepth {
			return fail(syscall.ELOOP)
		}
		interp, arg, ok := parseHashbang(head[:got], got == binprmBufSize)
		if !ok {
			return fail(syscall.ENOEXEC)
		}
		// argv[0] becomes the interpreter, then its optional argument,
		// then the script's path as execve was given it (the file's
		// path for the first level), then argv[1:].
		script := path
		if depth > 0 {
			script = n.Path()
		}
		nargv := []string{interp}
		if arg != "" {
			nargv = append(nargv, arg)
		}
		nargv = append(nargv, script)
		if len(prog.Argv) > 1 {
			nargv = append(nargv, prog.Argv[1:]...)
		}
		prog.Argv = nargv
		if n, e = k.fs.Lookup(t.fsc.cwd, interp, true); e != 0 {
			return fail(e)
		}
	}
	img, e := es.LoadExec(t, prog)
	if e != 0 {
		return fail(e)
	}
	// The point of no return (begin_new_exec).
	es.KillOtherThreads(t)
	k.execCommit(t, prog, img)
	if err := es.CommitExec(t, img); err != nil {
		return 0, Result{Outcome: Killed, Signal: SIGKILL}
	}
	if rc, ok := t.CPU.(RegsCPU); ok {
		cur, err := rc.Regs()
		if err != nil {
			return 0, Result{Outcome: Killed, Signal: SIGKILL}
		}
		// start_thread: every general register 0, the user segments
		// (i386's data selectors too: the TLS selectors in FS and GS go).
		r := Regs{IP: img.PC, SP: img.SP, Flags: 0x202, CS: cur.CS, SS: cur.SS, DS: cur.SS, ES: cur.SS}
		if err := rc.SetRegs(&r); err != nil {
			return 0, Result{Outcome: Killed, Signal: SIGKILL}
		}
		fp := initFPState()
		if err := rc.SetFPState(&fp); err != nil {
			return 0, Result{Outcome: Killed, Signal: SIGKILL}
		}
	}
	return 0, Result{RegsSet: true, Exec: true}
}

// parseHashbang reads a `#!` line as load_script does: the interpreter
// and one optional argument (the rest of the line, trailing blanks cut),
// from at most BINPRM_BUF_SIZE bytes; a line cut there is ENOEXEC when the
// interpreter itself did not end within it.
func parseHashbang(b []byte, full bool) (interp, arg string, ok bool) {
	line := b[2:]
	end := len(line)
	if i := strings.IndexByte(string(line), '\n'); i >= 0 {
		end = i
	} else if full {
		// No newline in the buffer: the interpreter's name must end
		// before the buffer does (Linux 5.1+ refuses a truncated one).
		s := strings.TrimLeft(string(line), " \t")
		if !strings.ContainsAny(s, " \t") {
			return "", "", false
		}
	}
	s := strings.Trim(string(line[:end]), " \t")
	if s == "" {
		return "", "", false
	}
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		interp, arg = s[:i], strings.Trim(s[i:], " \t")
	} else {
		interp = s
	}
	return interp, arg, true
}

// execCommit changes t's process for the program img holds.
func (k *Kernel) execCommit(t *Task, prog ExecProgram, img *ExecImage) {
	p := t.tg
	old := p.mm
	p.mm = img.MM
	k.mmUsers[img.MM] = 1
	if old != img.MM {
		k.mmUsers[old]--
		if k.mmUsers[old] <= 0 && old != k.cfg.Mem {
			delete(k.mmUsers, old)
			if mms, ok := k.sched.(MMScheduler); ok {
				mms.ReleaseMM(old)
			}
			_ = old.Close()
		}
	}
	img.MM.SetVsyscallPage(k.cfg.Arch == X8664)
	k.vforkDone(p)
	p.exe, p.argv, p.envp = prog.Path, prog.Argv, prog.Envp
	// comm is the base name of the path execve was given (bprm->filename:
	// a script's, not its interpreter's).
	name := prog.ExecFn
	if name == "" {
		name = prog.Path
	}
	base := name[strings.LastIndexByte(name, '/')+1:]
	if len(base) > 15 {
		base = base[:15]
	}
	p.comm, t.comm = base, ""
	if img.Interp != nil {
		k.NoteMappedObject(img.Interp)
	}
	// The descriptor table and handlers become the process's own
	// (unshare_files, unshare_sighand), then close-on-exec descriptors
	// close and caught signals revert.
	if t.files.refs > 1 {
		f := t.files.fork()
		t.files.decRef()
		t.files = f
	}
	for fd := range t.files.slots {
		if t.files.slots[fd].fd != nil && t.files.slots[fd].cloexec {
			t.files.remove(uint64(fd))
		}
	}
	if t.sighand.refs > 1 {
		h := t.sighand.fork()
		t.sighand.decRef()
		t.sighand = h
	}
	for sig := range t.sighand.actions {
		a := &t.sighand.actions[sig]
		if a.Handler != sigIGN && a.Handler != sigDFL {
			*a = sigAction{}
		} else {
			a.Flags, a.Mask, a.Restorer = 0, 0, 0
		}
	}
	t.altStack = altStack{}
	t.RobustList, t.ClearChildTID = 0, 0
	t.TLS = [TLSEntries]TLSDesc{}
	t.FSBase, t.GSBase = 0, 0
	for i, pt := range p.posixTimers {
		if pt != nil {
			pt.timer.Disarm()
			p.posixTimers[i] = nil
		}
	}
	p.timerSignals = map[int][]*procTimer{}
}
