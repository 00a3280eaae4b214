package mcacheck

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// Labels llvm-mca sees for branch targets (see doc.go, "Branches").
const (
	labelBlock = ".Lblock"
	labelEnd   = ".Lend"
)

// objdumpArch is objdump's -m machine for a mode.
func objdumpArch(mode int) string {
	if mode == 32 {
		return "i386"
	}
	return "i386:x86-64"
}

// Disassemble returns b's instructions as AT&T lines llvm-mca accepts, one per instruction,
// without the labels (MCASource adds them). It runs
//
//	objdump -D -b binary -m <i386|i386:x86-64> --insn-width=15 --no-show-raw-insn
//
// and checks that objdump and x86asm (the model's decoder) split the bytes into the same
// instructions, so both sides cost the same instruction stream.
func Disassemble(objdump string, b Block) ([]string, error) {
	code, err := b.Code()
	if err != nil {
		return nil, err
	}
	insns, err := decodeAll(code, b.Mode, false)
	if err != nil {
		return nil, fmt.Errorf("block %s: %v", b.Name, err)
	}
	dir, err := os.MkdirTemp("", "mcacheck")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "block.bin")
	if err := os.WriteFile(path, code, 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(objdump, "-D", "-b", "binary", "-m", objdumpArch(b.Mode),
		"--insn-width=15", "--no-show-raw-insn", path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("block %s: %s: %v: %s", b.Name, objdump, err, firstLine(stderr.String()))
	}
	lines, err := parseObjdump(stdout.String())
	if err != nil {
		return nil, fmt.Errorf("block %s: %v", b.Name, err)
	}
	return attLines(b.Name, insns, lines)
}

// objdumpLine is one instruction of objdump's listing.
type objdumpLine struct {
	off  int
	text string
}

// parseObjdump reads the "  off:\tmnemonic operands" lines of objdump's listing.
func parseObjdump(out string) ([]objdumpLine, error) {
	var lines []objdumpLine
	for _, l := range strings.Split(out, "\n") {
		addr, text, ok := strings.Cut(l, ":\t")
		if !ok {
			continue
		}
		off, err := strconv.ParseUint(strings.TrimSpace(addr), 16, 32)
		if err != nil {
			continue // a header line that happens to contain ":\t"
		}
		lines = append(lines, objdumpLine{int(off), strings.TrimSpace(text)})
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("objdump printed no instructions")
	}
	return lines, nil
}

// attLines pairs objdump's lines with x86asm's instructions and rewrites them for llvm-mc.
func attLines(name string, insns []insn, lines []objdumpLine) ([]string, error) {
	if len(lines) != len(insns) {
		return nil, fmt.Errorf("block %s: objdump found %d instructions, x86asm %d", name, len(lines), len(insns))
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		in := insns[i]
		if l.off != in.off {
			return nil, fmt.Errorf("block %s: objdump and x86asm disagree at offset %#x (%q vs %q)",
				name, in.off, l.text, in.text)
		}
		text := l.text
		if strings.Contains(text, "(bad)") {
			return nil, fmt.Errorf("block %s: objdump cannot decode offset %#x", name, in.off)
		}
		if c := strings.IndexByte(text, '#'); c >= 0 {
			text = strings.TrimSpace(text[:c])
		}
		text = strings.TrimPrefix(text, "bnd ")
		if in.hasRel {
			fields := strings.Fields(text)
			if len(fields) != 2 {
				return nil, fmt.Errorf("block %s: unexpected branch syntax %q", name, l.text)
			}
			label := labelEnd
			if in.target == 0 {
				label = labelBlock
			}
			text = fields[0] + " " + label
		}
		out[i] = text
	}
	return out, nil
}

// MCASource is the llvm-mca input for a block's AT&T lines.
func MCASource(lines []string) string {
	var sb strings.Builder
	sb.WriteString(labelBlock + ":\n")
	for _, l := range lines {
		sb.WriteString("\t" + l + "\n")
	}
	sb.WriteString(labelEnd + ":\n")
	return sb.String()
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
