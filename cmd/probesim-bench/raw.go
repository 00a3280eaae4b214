package main

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/probesim/probesim/emu/loader"
	"github.com/probesim/probesim/emu/uc"
)

// rawStackSize is the stack the raw run maps below the arch's stack top:
// the loop fixture only reads argc from it.
const rawStackSize = 64 << 10

// rawResult is one bare-Unicorn run of a program.
type rawResult struct {
	wall   time.Duration // Start only: engine setup and loading excluded
	status int           // exit_group's argument & 0xff
}

// runRaw runs a libc-free static program on a bare Unicorn engine: its
// segments mapped directly (no mmu), a small stack holding argc = 1, and a
// single hook that stops the engine at the first system call. There is no
// per-block or per-instruction hook, so this is Unicorn's own speed for the
// program, the floor probesim's overhead is measured against. The program
// must not make any system call before the one that ends it.
func runRaw(im *loader.Image) (rawResult, error) {
	mode, sp, arg := uc.Mode64, uc.RSP, uc.RDI
	if im.Arch == loader.ArchI386 {
		mode, sp, arg = uc.Mode32, uc.ESP, uc.EBX
	}
	e, err := uc.Open(mode)
	if err != nil {
		return rawResult{}, err
	}
	defer e.Close()
	for _, s := range im.Segments {
		if err := e.Map(s.PageStart(), s.PageEnd()-s.PageStart(), segProt(s)); err != nil {
			return rawResult{}, fmt.Errorf("map segment at %#x: %w", s.Vaddr, err)
		}
		if err := e.MemWrite(s.Vaddr, s.Data); err != nil {
			return rawResult{}, fmt.Errorf("write segment at %#x: %w", s.Vaddr, err)
		}
	}
	top := im.Arch.StackTop()
	if err := e.Map(top-rawStackSize, rawStackSize, uc.ProtRead|uc.ProtWrite); err != nil {
		return rawResult{}, fmt.Errorf("map stack: %w", err)
	}
	// argc = 1 followed by zeros (argv[0] = NULL): "no argument".
	rsp := top - 4096
	word := make([]byte, im.Arch.WordSize())
	binary.LittleEndian.PutUint32(word, 1)
	if err := e.MemWrite(rsp, word); err != nil {
		return rawResult{}, err
	}
	if err := e.RegWrite(sp, rsp); err != nil {
		return rawResult{}, err
	}

	// Stop from a syscall hook or an int 0x80 interrupt hook takes effect
	// after that instruction (emu/uc/doc.go), so Start returns right there.
	calls := 0
	stop := func() { calls++; _ = e.Stop() }
	if mode == uc.Mode64 {
		_, err = e.HookSyscall(stop)
	} else {
		_, err = e.HookInterrupt(func(uint32) { stop() })
	}
	if err != nil {
		return rawResult{}, err
	}

	// until = 0: an address the program never executes.
	began := time.Now()
	err = e.Start(im.Entry, 0, 0, 0)
	wall := time.Since(began)
	if err != nil {
		return rawResult{}, fmt.Errorf("raw run: %w", err)
	}
	if calls != 1 {
		return rawResult{}, fmt.Errorf("raw run: the exit hook fired %d times, want 1", calls)
	}
	v, err := e.RegRead(arg)
	if err != nil {
		return rawResult{}, err
	}
	return rawResult{wall: wall, status: int(v & 0xff)}, nil
}

func segProt(s loader.Segment) uc.Prot {
	var p uc.Prot
	if s.Read {
		p |= uc.ProtRead
	}
	if s.Write {
		p |= uc.ProtWrite
	}
	if s.Exec {
		p |= uc.ProtExec
	}
	return p
}
