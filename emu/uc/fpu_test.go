package uc

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFXSaveAndFXRstor: the image FXSave assembles from Unicorn's
// registers holds the x87 state exactly as the guest's own fxsave stores
// it, and the XMM registers as the guest loaded them; FXRstor loads an
// image back so that the guest sees it: the state a signal frame saves and
// sigreturn restores.
func TestFXSaveAndFXRstor(t *testing.T) {
	xmmVal := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	for _, m := range []Mode{Mode32, Mode64} {
		e := newEngine(t, m)
		fxsave := []byte{0x0f, 0xae, 0x00} // fxsave [eax]
		if m == Mode64 {
			fxsave = []byte{0x48, 0x0f, 0xae, 0x00} // fxsave64 [rax]
		}
		code := cat(
			[]byte{0xdb, 0xe3},       // fninit
			[]byte{0xd9, 0xe8},       // fld1
			[]byte{0xd9, 0xeb},       // fldpi
			[]byte{0xd9, 0xee},       // fldz
			movEAX(dataAddr+0x800),   // mov eax, data
			[]byte{0x0f, 0x28, 0x18}, // movaps xmm3, [eax]
			[]byte{0x0f, 0x28, 0x30}, // movaps xmm6, [eax]
			movEAX(dataAddr),
			fxsave,
		)
		// The second part runs at codeAddr+0x400 after FXRstor: it stores
		// st0, xmm3, xmm6 and MXCSR as the guest sees them.
		const second = codeAddr + 0x400
		check := cat(
			movEAX(dataAddr+0x100),
			[]byte{0xdb, 0x38},             // fstp tbyte [eax]
			[]byte{0x0f, 0x29, 0x58, 0x10}, // movaps [eax+16], xmm3
			[]byte{0x0f, 0x29, 0x70, 0x20}, // movaps [eax+32], xmm6
			[]byte{0x0f, 0xae, 0x58, 0x30}, // stmxcsr [eax+48]
		)
		page := withExit(code)
		page = append(page, make([]byte, 0x400-len(page))...)
		page = append(page, check...)
		page = append(page, jmpRel32(second+uint64(len(check)), exitAddr)...)
		loadCode(t, e, page)
		hostWrite(t, e, dataAddr+0x800, xmmVal)
		require.NoError(t, run(e))
		guest := hostBytes(t, e, dataAddr, 160)
		var img [FXSaveSize]byte
		require.NoError(t, e.FXSave(&img))
		assert.Equal(t, guest[:24], img[:24], "mode %d: control, status, tags, last instruction", m)
		assert.Equal(t, guest[32:160], img[32:160], "mode %d: the x87 registers", m)
		assert.Equal(t, byte(0xe0), img[4], "three registers in use (abridged tags)")
		assert.Equal(t, xmmVal, img[160+3*16:160+4*16], "xmm3")
		assert.Equal(t, xmmVal, img[160+6*16:160+7*16], "mode %d: xmm6", m)
		assert.Equal(t, make([]byte, 16), img[160+4*16:160+5*16], "xmm4")

		// Change the image: st0 becomes 1.0 (st2's value), xmm3 zero,
		// MXCSR with FZ. The round trip keeps it, and the guest sees it.
		copy(img[32:42], img[64:74])
		clear(img[160+3*16 : 160+4*16])
		img[25] |= 0x80 // MXCSR.FZ (bit 15)
		require.NoError(t, e.FXRstor(&img))
		var back [FXSaveSize]byte
		require.NoError(t, e.FXSave(&back))
		assert.Equal(t, img, back, "round trip")
		require.NoError(t, e.Start(second, exitAddr, 0, 0))
		got := hostBytes(t, e, dataAddr+0x100, 52)
		assert.Equal(t, img[64:74], got[0:10], "mode %d: st0", m)
		assert.Equal(t, make([]byte, 16), got[16:32], "xmm3")
		assert.Equal(t, xmmVal, got[32:48], "mode %d: xmm6", m)
		assert.Equal(t, img[24:28], got[48:52], "mode %d: mxcsr", m)
	}
}
