package main

import (
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/probesim/probesim/internal/ptraceinline"
)

// perfProbes are the uprobes this run created with perf probe, all in one
// group of its own, so that deleting the group removes exactly them.
type perfProbes struct {
	group string
	made  int
}

// add creates GROUP:event on the first instruction of function sym of bin
// and returns the event's full name. The probe goes at the function's
// file offset, not at its name: with debug information, perf probe puts a
// name's probe on every inlined instance of the function too (qsort's
// compare_ints, inlined into bsearch, counted 123,123 hits where the
// instruction probesim probes ran 120,531 times, as gdb counts too).
func (p *perfProbes) add(ctx context.Context, bin, sym, event string) (string, error) {
	off, err := fileOffset(bin, sym)
	if err != nil {
		return "", err
	}
	name := p.group + ":" + event
	at := fmt.Sprintf("%s=0x%x", name, off)
	p.made++ // before the command: a failure halfway still gets cleaned up
	out, err := exec.CommandContext(ctx, "perf", "probe", "-q", "-x", bin, "-a", at).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("perf probe -x %s -a %s (%s): %v: %s", bin, at, sym, err, firstLine(out))
	}
	return name, nil
}

// fileOffset is where function sym's first byte is in the file bin: the
// offset uprobe_events takes (Documentation/trace/uprobetracer.rst).
func fileOffset(bin, sym string) (uint64, error) {
	addr, err := ptraceinline.SymbolAddr(bin, sym)
	if err != nil {
		return 0, err
	}
	f, err := elf.Open(bin)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_LOAD && addr >= prog.Vaddr && addr-prog.Vaddr < prog.Filesz {
			return addr - prog.Vaddr + prog.Off, nil
		}
	}
	return 0, fmt.Errorf("%s: %s at %#x is in no loaded segment", bin, sym, addr)
}

// deleteAll deletes the group's probes (with a context of its own: it
// also runs after an interrupt ended the run's).
func (p *perfProbes) deleteAll() error {
	if p.made == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "perf", "probe", "-q", "-d", p.group+":*").CombinedOutput()
	if err != nil {
		return fmt.Errorf("perf probe -d %s:*: %v: %s (delete them by hand)", p.group, err, firstLine(out))
	}
	p.made = 0
	return nil
}

// perfStat runs bin with args under perf stat counting event (or, for "",
// nothing but task-clock, the run without the probe) and returns the count
// and the wall time of the whole perf stat command.
func perfStat(ctx context.Context, event, bin string, args []string) (uint64, time.Duration, error) {
	dir, err := os.MkdirTemp("", "validatekernel-")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "stat.csv")
	ev := event
	if ev == "" {
		ev = "task-clock"
	}
	cmd := exec.CommandContext(ctx, "perf", append([]string{"stat", "-x,", "-e", ev, "-o", out, "--", bin}, args...)...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = nil, &stderr
	start := time.Now()
	err = cmd.Run()
	elapsed := time.Since(start)
	if err != nil {
		return 0, 0, fmt.Errorf("perf stat -e %s %s: %v: %s", ev, bin, err, firstLine(stderr.Bytes()))
	}
	if event == "" {
		return 0, elapsed, nil
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return 0, 0, err
	}
	n, err := parseStatCount(string(data), event)
	return n, elapsed, err
}

// parseStatCount finds event's count in perf stat -x, output: a line
// "COUNT,UNIT,EVENT,...".
func parseStatCount(text, event string) (uint64, error) {
	for _, line := range strings.Split(text, "\n") {
		f := strings.Split(line, ",")
		if len(f) >= 3 && f[2] == event {
			n, err := strconv.ParseUint(f[0], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("perf stat: %s counted %q", event, f[0])
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("perf stat: no count for %s in %q", event, firstLine([]byte(text)))
}

func firstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
