//go:build ignore

// gen_encodings writes decode-encodings.txt: every distinct instruction
// encoding of x86asm's decode.txt (golang.org/x/arch, the version go.mod
// names), one hex string a line, sorted, for the differential test
// (probes/diff_test.go), which tries each in both modes.
//
//	go run probes/testdata/gen_encodings.go
package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gen_encodings:", err)
		os.Exit(1)
	}
}

func run() error {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}} {{.Version}}", "golang.org/x/arch").Output()
	if err != nil {
		return fmt.Errorf("go list golang.org/x/arch: %w", err)
	}
	dir, version, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	f, err := os.Open(filepath.Join(dir, "x86", "x86asm", "testdata", "decode.txt"))
	if err != nil {
		return err
	}
	defer f.Close()
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) < 4 {
			continue
		}
		enc, _, _ := strings.Cut(fields[0], "|")
		if enc != "" {
			seen[enc] = true
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	encs := make([]string, 0, len(seen))
	for e := range seen {
		encs = append(encs, e)
	}
	sort.Strings(encs)
	var b strings.Builder
	fmt.Fprintf(&b, "# The distinct instruction encodings of golang.org/x/arch %s x86/x86asm/testdata/decode.txt\n", version)
	b.WriteString("# (Copyright 2015 The Go Authors, BSD-style license), written by gen_encodings.go.\n")
	for _, e := range encs {
		b.WriteString(e)
		b.WriteByte('\n')
	}
	return os.WriteFile(filepath.Join("probes", "testdata", "decode-encodings.txt"), []byte(b.String()), 0o644)
}
