package loader

import "testing"

func benchmarkParse(b *testing.B, variant string) {
	data := readProg(b, variant)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := Parse("bench", data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseTiny(b *testing.B)  { benchmarkParse(b, "tiny64") }
func BenchmarkParseMusl(b *testing.B)  { benchmarkParse(b, "musl") }
func BenchmarkParseGlibc(b *testing.B) { benchmarkParse(b, "x64") }

func BenchmarkSymbolAt(b *testing.B) {
	im, err := Load(buildProg(b, "x64"))
	if err != nil {
		b.Fatal(err)
	}
	main, _ := im.Lookup("main")
	for b.Loop() {
		if _, _, ok := im.SymbolAt(main.Value + 3); !ok {
			b.Fatal("main not found")
		}
	}
}

func BenchmarkBuildStack(b *testing.B) {
	im, err := Load(buildProg(b, "x64"))
	if err != nil {
		b.Fatal(err)
	}
	spec := NewStackSpec(im, []string{"/bin/prog", "arg"}, []string{"HOME=/root", "PATH=/bin"})
	for b.Loop() {
		if _, _, _, err := BuildStack(spec); err != nil {
			b.Fatal(err)
		}
	}
}
