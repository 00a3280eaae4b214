package probes

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/probesim/probesim/emu/loader"
)

// The uprobe: and uretprobe: spec forms.
//
// bpftrace names probes PROVIDER:PATH:FUNCTION (uprobe:/bin/bash:readline,
// uretprobe:/bin/bash:readline) and perf probe as FUNCTION and
// FUNCTION%return. probesim takes both spellings: `uprobe:SPEC` is SPEC,
// `uretprobe:SPEC` is SPEC%return, and either may name the binary first
// (`uretprobe:PATH:SPEC`), as bpftrace requires. probesim probes only the
// program it runs (there is no exec and no shared library), so PATH must
// be that program: the same path, or the same file on the host. A PATH
// naming another binary is refused rather than ignored, since bpftrace
// would attach to that binary's text and the run would count nothing.

// Provider prefixes of the bpftrace-style forms.
const (
	uprobeForm    = "uprobe"
	uretprobeForm = "uretprobe"
)

// cutProbeForm strips a uprobe:[PATH:] or uretprobe:[PATH:] prefix from
// t, checking PATH against the program im was loaded from. form is the
// provider, "" when t has none.
func cutProbeForm(im *loader.Image, t string) (rest, form string, err error) {
	provider, after, ok := strings.Cut(t, ":")
	if !ok || (provider != uprobeForm && provider != uretprobeForm) {
		return t, "", nil
	}
	path, spec, hasPath := strings.Cut(after, ":")
	if !hasPath {
		spec, path = after, ""
	}
	if spec == "" {
		return "", "", fmt.Errorf("%s: no function after the prefix (want %s:[PATH:]SPEC)", provider, provider)
	}
	if path != "" && !sameProgram(path, im.Path) {
		return "", "", fmt.Errorf("%s:%s: not the program being run (%s): probesim probes only its program's text", provider, path, im.Path)
	}
	return spec, provider, nil
}

// sameProgram reports whether path names the program at program: the
// same cleaned path, or the same host file.
func sameProgram(path, program string) bool {
	if filepath.Clean(path) == filepath.Clean(program) {
		return true
	}
	a, errA := os.Stat(path)
	b, errB := os.Stat(program)
	return errA == nil && errB == nil && os.SameFile(a, b)
}
