// Command mkinsntable regenerates timing/insntable_skylake.go, the per-instruction cost table
// of the Skylake profile, from llvm-mca's Skylake scheduling model.
//
//	cd timing && go generate        # runs: go run ./cmd/mkinsntable -o insntable_skylake.go
//
// How: every probe instruction in spec.go is assembled with GNU as (one per 16-byte slot, so
// a decode slip cannot shift later rows) and decoded with x86asm to get the exact key the cost
// model will look up; the same lines go through
//
//	llvm-mca-14 -mtriple=x86_64-unknown-linux-gnu -mcpu=skylake --instruction-tables
//
// whose "Instruction Info" gives uops, latency, reciprocal throughput and load/store flags, and
// whose "Resource pressure by instruction" gives per-port usage. llvm-mca spreads each uop
// evenly over the ports of its port group; decompose() recovers the groups. Rows for which
// llvm-mca has no real model are replaced as listed in overrides.go.
//
// Needs as, objcopy and llvm-mca-14 on PATH (Debian: binutils, llvm-14).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/probesim/probesim/timing/internal/x86form"
	"golang.org/x/arch/x86/x86asm"
)

const (
	mcaTriple = "x86_64-unknown-linux-gnu"
	mcaCPU    = "skylake"
	slot      = 16 // bytes per probe in the assembled image; x86 instructions are at most 15
)

type probe struct {
	asm  string
	op   x86asm.Op
	form string
	mca  mcaRow
	cost cost
	note string // why the llvm-mca row was replaced, if it was
}

func main() {
	out := flag.String("o", "insntable_skylake.go", "output Go file")
	mca := flag.String("mca", "llvm-mca-14", "llvm-mca binary")
	keep := flag.Bool("keep", false, "keep the scratch directory (probes.s, mca.s) and print its path")
	flag.Parse()
	if err := run(*out, *mca, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "mkinsntable:", err)
		os.Exit(1)
	}
}

func run(out, mca string, keep bool) error {
	lines := probeLines()
	if err := checkProbes(lines); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "mkinsntable")
	if err != nil {
		return err
	}
	if keep {
		fmt.Fprintln(os.Stderr, "scratch directory:", dir)
	} else {
		defer os.RemoveAll(dir)
	}

	probes, err := assembleAndDecode(dir, lines)
	if err != nil {
		return err
	}
	rows, err := runMCA(dir, mca, lines)
	if err != nil {
		return err
	}
	if len(rows) != len(probes) {
		return fmt.Errorf("llvm-mca printed %d rows for %d probes", len(rows), len(probes))
	}
	for i := range probes {
		p := &probes[i]
		p.mca = rows[i]
		c, err := costOf(rows[i])
		if err != nil {
			return fmt.Errorf("%s: %v", p.asm, err)
		}
		p.cost = c
	}
	if err := applyOverrides(probes); err != nil {
		return err
	}
	probes = dedupe(probes)

	mcaVersion, err := toolVersion(mca, "--version", "LLVM version")
	if err != nil {
		return err
	}
	asVersion, err := toolVersion("as", "--version", "GNU assembler")
	if err != nil {
		return err
	}
	src := emit(probes, mcaVersion, asVersion)
	formatted, err := format.Source(src)
	if err != nil {
		return fmt.Errorf("generated code does not parse: %v", err)
	}
	return os.WriteFile(out, formatted, 0o644)
}

// assembleAndDecode assembles the probes, one per 16-byte slot, and decodes each slot.
func assembleAndDecode(dir string, lines []string) ([]probe, error) {
	var src strings.Builder
	src.WriteString(".intel_syntax noprefix\n.text\n.Lnear:\n")
	for _, l := range lines {
		fmt.Fprintf(&src, "%s\n.balign %d, 0xcc\n", l, slot)
	}
	src.WriteString(".Lend:\n")
	asmPath := filepath.Join(dir, "probes.s")
	objPath := filepath.Join(dir, "probes.o")
	binPath := filepath.Join(dir, "probes.bin")
	if err := os.WriteFile(asmPath, []byte(src.String()), 0o644); err != nil {
		return nil, err
	}
	if err := command("as", "--64", "-o", objPath, asmPath); err != nil {
		return nil, err
	}
	if err := command("objcopy", "-O", "binary", "-j", ".text", objPath, binPath); err != nil {
		return nil, err
	}
	image, err := os.ReadFile(binPath)
	if err != nil {
		return nil, err
	}
	if len(image) != slot*len(lines) {
		return nil, fmt.Errorf("assembled %d bytes, want %d (an instruction longer than %d bytes?)",
			len(image), slot*len(lines), slot)
	}
	probes := make([]probe, len(lines))
	for i, l := range lines {
		code := image[i*slot : (i+1)*slot]
		inst, err := x86asm.Decode(code, 64)
		if err != nil || inst.Op == 0 {
			return nil, fmt.Errorf("x86asm cannot decode %q (% x): %v", l, code, err)
		}
		for _, b := range code[inst.Len:] {
			if b != 0xcc {
				return nil, fmt.Errorf("x86asm decoded %q as %d bytes, as emitted more (% x)", l, inst.Len, code)
			}
		}
		probes[i] = probe{asm: l, op: inst.Op, form: x86form.String(&inst)}
	}
	return probes, nil
}

func runMCA(dir, mca string, lines []string) ([]mcaRow, error) {
	src := ".intel_syntax noprefix\n.Lnear:\n" + strings.Join(lines, "\n") + "\n.Lend:\n"
	path := filepath.Join(dir, "mca.s")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(mca, "-mtriple="+mcaTriple, "-mcpu="+mcaCPU, "--instruction-tables", path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s: %v: %s", mca, err, firstLine(stderr.String()))
	}
	// llvm-mca skips a line it cannot parse and goes on; that would shift every later row.
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(l, "error:") {
			return nil, fmt.Errorf("%s: %s", mca, l)
		}
	}
	return parseMCA(stdout.String())
}

// dedupe keeps the first probe of each key and reports later ones whose cost differs, so a
// form that hides a real cost difference is visible when regenerating.
func dedupe(probes []probe) []probe {
	type key struct {
		op   x86asm.Op
		form string
	}
	first := map[key]*probe{}
	var kept []probe
	for i := range probes {
		p := &probes[i]
		k := key{p.op, p.form}
		if f, ok := first[k]; ok {
			if !f.cost.equal(p.cost) {
				fmt.Fprintf(os.Stderr, "note: %q and %q share key %v %q; keeping the first\n",
					f.asm, p.asm, p.op, p.form)
			}
			continue
		}
		first[k] = p
		kept = append(kept, *p)
	}
	return kept
}

func command(name string, args ...string) error {
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %v: %s", name, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// toolVersion returns the first line of `name flag` output containing want.
func toolVersion(name, flag, want string) (string, error) {
	out, err := exec.Command(name, flag).Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %v", name, flag, err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, want) {
			return strings.TrimSpace(l), nil
		}
	}
	return "", fmt.Errorf("%s %s: no line containing %q", name, flag, want)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
