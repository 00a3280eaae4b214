package calibrate

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	_ "embed"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// The native half of the measurements is helper/calib.c built with musl:
// static, no -g, so the build is reproducible (TestHelperReproducible
// rebuilds it and compares bytes). Rebuild with `go generate ./calibrate/`
// after changing the source.
//
//go:generate musl-gcc -static -O2 -o helper/calib-x86_64.elf helper/calib.c
//go:embed helper/calib-x86_64.elf
var helperELF []byte

// helper is the embedded program in a memfd: it is executed and probed
// through /proc/PID/fd/N, so calibrate writes no file, and nothing of it
// outlives the process (the kernel frees the memfd with its last user).
type helper struct {
	f    *os.File
	path string
	// offsets and addresses of the probe points (file offsets for the
	// uprobe PMU, virtual addresses for ptrace).
	nopOff, stepOff, nopAddr, stepLoopAddr uint64
}

func openHelper() (*helper, error) {
	fd, err := unix.MemfdCreate("probesim-calib", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "probesim-calib")
	if _, err := f.Write(helperELF); err != nil {
		f.Close()
		return nil, fmt.Errorf("memfd write: %w", err)
	}
	h := &helper{f: f, path: fmt.Sprintf("/proc/%d/fd/%d", os.Getpid(), fd)}
	if err := h.symbols(); err != nil {
		f.Close()
		return nil, err
	}
	return h, nil
}

func (h *helper) Close() error { return h.f.Close() }

// symbols finds the probe points in the embedded ELF.
func (h *helper) symbols() error {
	ef, err := elf.NewFile(bytes.NewReader(helperELF))
	if err != nil {
		return fmt.Errorf("embedded helper: %w", err)
	}
	syms, err := ef.Symbols()
	if err != nil {
		return fmt.Errorf("embedded helper: %w", err)
	}
	addr := map[string]uint64{}
	for _, s := range syms {
		addr[s.Name] = s.Value
	}
	off := func(name string) (uint64, uint64, error) {
		va, ok := addr[name]
		if !ok {
			return 0, 0, fmt.Errorf("embedded helper: no symbol %s", name)
		}
		for _, p := range ef.Progs {
			if p.Type == elf.PT_LOAD && va >= p.Vaddr && va < p.Vaddr+p.Filesz {
				return va - p.Vaddr + p.Off, va, nil
			}
		}
		return 0, 0, fmt.Errorf("embedded helper: %s at %#x is in no segment", name, va)
	}
	if h.nopOff, h.nopAddr, err = off("calib_probe_nop"); err != nil {
		return err
	}
	if h.stepOff, _, err = off("calib_probe_step"); err != nil {
		return err
	}
	_, h.stepLoopAddr, err = off("calib_step_loop")
	return err
}

// command is the helper run with args: killed with ctx, and with SIGKILL
// if the OS thread that started it dies (Pdeathsig); the caller keeps its
// goroutine locked to that thread until Wait returns.
func (h *helper) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, h.path, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

// run runs the helper to completion and parses its "key value" lines.
func (h *helper) run(ctx context.Context, args ...string) (map[string]float64, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var stderr bytes.Buffer
	cmd := h.command(ctx, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("%s: %s", strings.Join(args, " "), msg)
	}
	return parseResults(bytes.NewReader(out))
}

// parseResults reads the helper's "key value" lines; a line that is not
// one is an error (the helper and this parser changed apart).
func parseResults(r io.Reader) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, " ")
		f, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("helper printed %q, want \"key value\"", line)
		}
		out[k] = f
	}
	return out, sc.Err()
}
