package insn

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
)

// fuzzRegs fills a register file from raw bytes, 8 little-endian bytes per
// register in the order GPR[0..15], FSBase, GSBase; missing bytes are zero.
func fuzzRegs(raw []byte) Regs {
	var words [18]uint64
	for i := range words {
		if len(raw) < 8 {
			var pad [8]byte
			copy(pad[:], raw)
			words[i] = binary.LittleEndian.Uint64(pad[:])
			raw = nil
			continue
		}
		words[i] = binary.LittleEndian.Uint64(raw)
		raw = raw[8:]
	}
	var r Regs
	copy(r.GPR[:], words[:16])
	r.FSBase, r.GSBase = words[16], words[17]
	return r
}

// fuzzFault picks the fault address: near a register or segment base when
// sel names one (so that matches are common), else raw.
func fuzzFault(r Regs, sel uint8, raw uint64, mode int) uint64 {
	near := uint64(int64(int8(raw)))
	var f uint64
	switch {
	case sel < 16:
		f = r.GPR[sel] + near
	case sel == 16:
		f = r.FSBase + near
	case sel == 17:
		f = r.GSBase + near
	default:
		return raw
	}
	if mode == 32 {
		f &= 0xFFFF_FFFF
	}
	return f
}

// boundaries returns the offsets of the instructions FindFaulting scans:
// from 0 until the end of code or the first undecodable instruction.
func boundaries(code []byte, mode int) map[uint64]int {
	b := map[uint64]int{}
	for off := 0; off < len(code); {
		n, err := Len(code[off:], mode)
		if err != nil {
			break
		}
		b[uint64(off)] = n
		off += n
	}
	return b
}

func FuzzFindFaulting(f *testing.F) {
	seeds := []struct {
		code []byte
		is64 bool
	}{
		{storeThird64, true}, {storeThird32, false}, {endbrBlock, true}, {badTail, true},
		{[]byte{0xf3, 0xaa, 0x48, 0xa5, 0xc8, 0x20, 0x00, 0x03, 0xc9, 0xc3}, true},
		{[]byte{0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0x00, 0x00, 0x00, 0x8f, 0x44, 0x24, 0x08}, true},
		{[]byte{0x65, 0x8b, 0x15, 0x14, 0x00, 0x00, 0x00, 0x60, 0x61, 0xcf}, false},
		{[]byte{0x0f, 0xae, 0x00, 0xc5, 0xfe, 0x6f, 0x00, 0xc4, 0xe2, 0x7d, 0x90, 0x04, 0x88}, true},
	}
	for i, s := range seeds {
		f.Add(s.code, []byte{0, 0, 0, 0, 0, 0, 0, 0, 0x10}, uint64(text64), uint64(8), uint8(i*3), s.is64)
	}
	f.Fuzz(func(t *testing.T, code, rawRegs []byte, start, rawFault uint64, sel uint8, is64 bool) {
		mode := 32
		if is64 {
			mode = 64
		}
		regs := fuzzRegs(rawRegs)
		fault := fuzzFault(regs, sel, rawFault, mode)
		addr, ok := FindFaulting(code, start, mode, regs, fault)
		if !ok {
			require.Zero(t, addr)
			return
		}
		off := addr - start
		require.Less(t, off, uint64(len(code)), "address outside the block")
		insns := boundaries(code, mode)
		n, onBoundary := insns[off]
		require.True(t, onBoundary, "address %#x is not an instruction boundary", addr)

		// First match: the block cut after the match gives the same answer,
		// and the match alone, at its own address, matches.
		again, ok := FindFaulting(code[:off+uint64(n)], start, mode, regs, fault)
		require.True(t, ok)
		require.Equal(t, addr, again)
		alone, ok := FindFaulting(code[off:off+uint64(n)], addr, mode, regs, fault)
		require.True(t, ok)
		require.Equal(t, addr, alone)
	})
}

func BenchmarkFindFaulting(b *testing.B) {
	// Ten instructions; the last one faults.
	code := cat(
		[]byte{0xf3, 0x0f, 0x1e, 0xfa}, // endbr64
		[]byte{0x55},                   // push rbp
		[]byte{0x48, 0x89, 0xe5},       // mov rbp, rsp
		[]byte{0x48, 0x83, 0xec, 0x20}, // sub rsp, 0x20
		[]byte{0x48, 0x89, 0x7d, 0xe8}, // mov [rbp-0x18], rdi
		[]byte{0x48, 0x8b, 0x45, 0xe8}, // mov rax, [rbp-0x18]
		[]byte{0x48, 0x8b, 0x40, 0x08}, // mov rax, [rax+0x8]
		[]byte{0x48, 0x89, 0x45, 0xf8}, // mov [rbp-0x8], rax
		[]byte{0x48, 0x8b, 0x45, 0xf8}, // mov rax, [rbp-0x8]
		[]byte{0x8b, 0x00},             // mov eax, [rax]
	)
	regs := regsWith()
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := FindFaulting(code, text64, 64, regs, regs.GPR[0]); !ok {
			b.Fatal("no match")
		}
	}
}
