package probes

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/probesim/probesim/emu/loader"
)

// The spec forms that name a binary.
//
// perf probe names a probe FUNCTION, FUNCTION+OFF or FUNCTION%return in the
// binary -x names, and the kernel's uprobe_events takes PATH:0xOFFSET, a
// file offset. bpftrace names probes PROVIDER:PATH:FUNCTION
// (uprobe:/bin/bash:readline, uretprobe:/bin/bash:readline), or
// PROVIDER:PATH:ADDRESS with ADDRESS a virtual address of the file's own
// (link-time) address space. probesim takes all of them:
//
//	SPEC                    the program's SYMBOL[+OFF] or 0xADDRESS
//	BINARY:SYMBOL[+OFF]     a symbol of BINARY
//	BINARY:0xOFFSET         a file offset in BINARY (uprobe_events)
//	uprobe:[BINARY:]SPEC    SPEC, where 0xADDRESS is BINARY's own address
//	uretprobe:[BINARY:]SPEC SPEC%return
//
// BINARY is a path in the guest's view. When it is the program being run
// (the same path as given or as the guest sees it, or the same host file),
// the probe is the program's, resolved to an address at start as before;
// any other file is probed by file offset wherever it is mapped (fileprobe.go).

// Provider prefixes of the bpftrace-style forms.
const (
	uprobeForm    = "uprobe"
	uretprobeForm = "uretprobe"
)

// specForm is a spec's first word taken apart.
type specForm struct {
	provider string // uprobeForm, uretprobeForm, or "" for perf's forms
	// binary is the file named, "" for the program's own specs (none
	// named, or the program itself).
	binary string
	// named: a binary was named (even the program itself).
	named bool
	rest  string // SYMBOL[+OFF], 0xNUMBER, possibly with %return
}

// fileOffsets reports whether a 0x number in the spec is a file offset
// (BINARY:0xOFFSET, as uprobe_events) rather than an address.
func (f specForm) fileOffsets() bool { return f.provider == "" && f.named }

// splitForm takes t apart, checking a named binary against the program
// (im, and its path in the guest, guestPath, if any).
func splitForm(im *loader.Image, guestPath, t string) (specForm, error) {
	var f specForm
	provider, after, ok := strings.Cut(t, ":")
	switch {
	case !ok:
		f.rest = t
		return f, nil
	case provider == uprobeForm || provider == uretprobeForm:
		f.provider = provider
		path, spec, hasPath := strings.Cut(after, ":")
		if !hasPath {
			spec, path = after, ""
		}
		if spec == "" {
			return f, fmt.Errorf("%s: no function after the prefix (want %s:[PATH:]SPEC)", provider, provider)
		}
		f.binary, f.named, f.rest = path, path != "", spec
	default:
		if after == "" {
			return f, fmt.Errorf("%s: nothing after the binary (want BINARY:SYMBOL or BINARY:0xOFFSET)", provider)
		}
		f.binary, f.named, f.rest = provider, true, after
	}
	if f.binary != "" && isProgram(f.binary, im, guestPath) {
		f.binary = ""
	}
	return f, nil
}

// isProgram reports whether path names the program run: its path as
// given or in the guest, or the same host file.
func isProgram(path string, im *loader.Image, guestPath string) bool {
	if im == nil {
		return false
	}
	if guestPath != "" && filepath.Clean(path) == guestPath {
		return true
	}
	if filepath.Clean(path) == filepath.Clean(im.Path) {
		return true
	}
	a, errA := os.Stat(path)
	b, errB := os.Stat(im.Path)
	return errA == nil && errB == nil && os.SameFile(a, b)
}
