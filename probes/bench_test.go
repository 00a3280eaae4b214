package probes

import (
	"testing"
	"time"

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

func benchHit(b *testing.B, s Strategy, handler func(Hit)) {
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
			if e, err = Attach(m, []Spec{spec}, s, handler); err != nil {
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
		return d, e.Results()[0].Hits
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
