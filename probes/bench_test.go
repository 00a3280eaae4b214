package probes

import (
	"fmt"
	"testing"
	"time"

	"github.com/probesim/probesim/emu/loader"
	"github.com/probesim/probesim/fixtures"
	"github.com/probesim/probesim/smp"
)

// BenchmarkInlineHit, BenchmarkSSOLStackHit and BenchmarkXOLHit measure
// host time per probe hit: one thread calling probed() 20,000 times on one
// vCPU, with and without the probe; the difference divided by the hits.
// BenchmarkSSOLStackHitRegs adds a Go handler, which makes every hit read
// the thread's registers.
func BenchmarkInlineHit(b *testing.B) { benchHit(b, Inline, nil) }

func BenchmarkSSOLStackHit(b *testing.B) { benchHit(b, SSOLStack, nil) }

func BenchmarkXOLHit(b *testing.B) { benchHit(b, XOL, nil) }

func BenchmarkSSOLStackHitRegs(b *testing.B) {
	var sum uint64
	benchHit(b, SSOLStack, func(h Hit) { sum += h.Regs.DI })
}

// BenchmarkInlineHit1000, BenchmarkSSOLStackHit1000 and BenchmarkXOLHit1000
// are the same with 999 more probes registered, on the entry of every
// other function of the program that can be probed (up to 999): the
// figure must not grow with the number of probes. Their hits (the few the
// program makes at start and exit) count in the denominator too.
func BenchmarkInlineHit1000(b *testing.B) { benchHitN(b, Inline, nil, 1000) }

func BenchmarkSSOLStackHit1000(b *testing.B) { benchHitN(b, SSOLStack, nil, 1000) }

func BenchmarkXOLHit1000(b *testing.B) { benchHitN(b, XOL, nil, 1000) }

func benchHit(b *testing.B, s Strategy, handler func(Hit)) { benchHitN(b, s, handler, 1) }

// moreProbes resolves the entries of up to n functions of im other than
// probed, in symbol order, skipping those that cannot be probed.
func moreProbes(im *loader.Image, n int) []Spec {
	var out []Spec
	seen := map[uint64]bool{}
	syms, err := im.Symbols()
	if err != nil {
		return nil
	}
	for _, sym := range syms {
		if len(out) == n {
			break
		}
		if !sym.Func || sym.Name == "probed" || seen[sym.Value] {
			continue
		}
		spec, err := Resolve(im, fmt.Sprintf("%#x", sym.Value))
		if err != nil {
			continue
		}
		seen[sym.Value] = true
		out = append(out, spec)
	}
	return out
}

func benchHitN(b *testing.B, s Strategy, handler func(Hit), probes int) {
	prog, err := fixtures.Path(fixtures.ArchAMD64, "threads")
	if err != nil {
		b.Fatal(err)
	}
	run := func(probe bool) (time.Duration, uint64) {
		m, err := smp.New(smp.Config{Program: prog, Args: []string{"1", "20000"}, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		defer m.Close()
		var e *Engine
		if probe {
			spec, err := Resolve(m.Image(), "probed")
			if err != nil {
				b.Fatal(err)
			}
			specs := append([]Spec{spec}, moreProbes(m.Image(), probes-1)...)
			if len(specs) != probes {
				b.Fatalf("only %d probeable functions", len(specs))
			}
			if e, err = Attach(m, specs, s, handler); err != nil {
				b.Fatal(err)
			}
		}
		start := time.Now()
		if _, err := m.Run(); err != nil {
			b.Fatal(err)
		}
		d := time.Since(start)
		if e == nil {
			return d, 0
		}
		var hits uint64
		for _, r := range e.Results() {
			hits += r.Hits
		}
		return d, hits
	}
	var base, probed time.Duration
	var hits uint64
	for i := 0; i < b.N; i++ {
		d0, _ := run(false)
		d1, h := run(true)
		base += d0
		probed += d1
		hits += h
	}
	b.ReportMetric(float64((probed-base).Nanoseconds())/float64(hits)/1000, "us/hit")
}
