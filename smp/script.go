package smp

import (
	"fmt"
	"io/fs"
	"os"
	"path"

	"github.com/probesim/probesim/kernel"
	"github.com/probesim/probesim/kernel/vfs"
)

// A `#!` script as the program: the machine starts it as execve would
// (fs/binfmt_script.c, the same rules as the kernel's execve, kernel/
// exec.go): the interpreter named on its first line, found in the guest's
// view, runs with argv [interpreter, optional argument, the script's path
// as given, the arguments], nested interpreters up to five deep. The
// report's program and args stay the script's and its arguments.

// scriptProgram is what resolving the script found: the ELF to load (its
// path in the view and bytes), the argv it gets, and the view they were
// found in, which the run goes on with.
type scriptProgram struct {
	exe  string
	data []byte
	argv []string
	view *vfs.FS
	cwd  string
}

// resolveScriptProgram returns nil when cfg.Program is not a `#!` script.
func resolveScriptProgram(cfg Config) (*scriptProgram, error) {
	head := make([]byte, kernel.BinprmBufSize)
	var n int
	if cfg.Image != nil {
		n = copy(head, cfg.Image)
	} else {
		// Regular files only (a FIFO's open would wait for a writer):
		// the loader says why anything else cannot run.
		if st, err := os.Stat(cfg.Program); err != nil || !st.Mode().IsRegular() {
			return nil, nil
		}
		f, err := os.Open(cfg.Program)
		if err != nil {
			return nil, nil
		}
		n, _ = f.Read(head)
		f.Close()
	}
	if n < 2 || head[0] != '#' || head[1] != '!' {
		return nil, nil
	}
	view, cwd, err := buildView(cfg)
	if err != nil {
		return nil, err
	}
	exe := exePath(cfg.Program, cfg.Image != nil)
	if cfg.Image != nil {
		if err := view.AddFile(exe, cfg.Image, 0o755); err != nil {
			return nil, fmt.Errorf("guest path %s: %w", exe, err)
		}
	}
	argv := append([]string{cfg.Program}, cfg.Args...)
	script := cfg.Program
	cwdNode, e := view.Lookup(view.Root(), cwd, true)
	if e != 0 {
		cwdNode = view.Root()
	}
	for depth := 0; ; depth++ {
		if depth >= kernel.MaxScriptDepth {
			return nil, cannotRunError{fmt.Errorf("%s: too many levels of #! interpreters (ELOOP)", cfg.Program)}
		}
		interp, arg, ok := kernel.ParseHashbang(head[:n], n == len(head))
		if !ok {
			return nil, cannotRunError{fmt.Errorf("%s: bad #! line (ENOEXEC)", cfg.Program)}
		}
		nargv := []string{interp}
		if arg != "" {
			nargv = append(nargv, arg)
		}
		nargv = append(nargv, script)
		argv = append(nargv, argv[1:]...)
		node, e := view.Lookup(cwdNode, interp, true)
		if e != 0 {
			return nil, cannotRunError{fmt.Errorf("%s: interpreter %s: %w in the guest's filesystem view", cfg.Program, interp,
				&fs.PathError{Op: "execve", Path: interp, Err: e})}
		}
		if !node.IsRegular() || view.Access(node, 1) != 0 {
			return nil, cannotRunError{fmt.Errorf("%s: interpreter %s: permission denied", cfg.Program, interp)}
		}
		data := make([]byte, node.Size())
		if got, e := view.ReadAt(node, data, 0); e != 0 || int64(got) != node.Size() {
			return nil, cannotRunError{fmt.Errorf("%s: interpreter %s: cannot be read", cfg.Program, interp)}
		}
		if len(data) >= 2 && data[0] == '#' && data[1] == '!' {
			n = copy(head, data)
			script = node.Path()
			continue
		}
		return &scriptProgram{exe: path.Clean(node.Path()), data: data, argv: argv, view: view, cwd: cwd}, nil
	}
}

// programImage is the program's bytes the kernel adds to the view (nil:
// it is a file of the view already).
func (m *Machine) programImage() []byte {
	if m.script != nil {
		return nil
	}
	return m.cfg.Image
}

// scriptComm is the first process's name when the program is a script:
// the script's base name, as exec sets comm from the path it was given.
func (m *Machine) scriptComm() string {
	if m.script == nil {
		return ""
	}
	return Comm(m.cfg.Program)
}
