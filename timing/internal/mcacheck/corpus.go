package mcacheck

// Fixtures are the hot blocks of the fixture binaries, extracted from fixtures/bin at
// validation time (and recorded, bytes included, in the golden file). Loop indexes count the
// function's single-block loops in address order (see -describe).
var Fixtures = fixtureBlocks()

func fixtureBlocks() []FixtureBlock {
	var out []FixtureBlock
	for _, arch := range []string{"x86_64", "i386"} {
		out = append(out,
			FixtureBlock{arch, "loop", "_start", 0, "the benchmark loop: add, xor, rol, dec, jnz"},
			FixtureBlock{arch, "qsort", "main", 0, "fill loop: LCG step, modulo by multiply, store"},
			FixtureBlock{arch, "qsort", "main", 1, "checksum loop: checksum*31 + values[i]"},
			FixtureBlock{arch, "qsort", "compare_ints", -1, "the qsort comparator, called for every comparison"},
			FixtureBlock{arch, "qsort", "msort_with_tmp.part.0", 0, "glibc msort: copy the remaining run one word at a time (movs)"},
			FixtureBlock{arch, "threads", "probed", -1, "the probe target: imul, lock add, TLS adds, ret"},
			FixtureBlock{arch, "malloc", "main", 0, "realloc_growth: p[i] = i*7+3 byte stores"},
			FixtureBlock{arch, "malloc", "main", 1, "large_blocks: one byte store per 4 KiB page"},
			FixtureBlock{arch, "stdio", "main", 0, "harmonic sum through a volatile double: convert, divide, add"},
			FixtureBlock{arch, "stdio", "_itoa_word", 0, "printf's integer conversion by div"},
			FixtureBlock{arch, "stdio", "_itoa_word", 3, "printf's decimal conversion by multiply-high"},
		)
	}
	return out
}
