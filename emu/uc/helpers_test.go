package uc

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
)

// Guest layout shared by the tests. Code is mapped RWX at codeAddr and ends
// with a jump to exitAddr, which is Start's `until`: it lies in the same page
// but is never executed, so Unicorn does not discard any hot translation.
const (
	pageSize  = 0x1000
	codeAddr  = 0x10000
	exitAddr  = codeAddr + 0x800
	dataAddr  = 0x20000
	stackAddr = 0x30000
)

func newEngine(t testing.TB, m Mode) *Engine {
	t.Helper()
	e, err := Open(m)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	return e
}

// jmpRel32 encodes `jmp to` placed at address from (e9 rel32).
func jmpRel32(from, to uint64) []byte {
	b := []byte{0xe9, 0, 0, 0, 0}
	binary.LittleEndian.PutUint32(b[1:], uint32(int32(int64(to)-int64(from+5))))
	return b
}

// withExit appends the jump to exitAddr to code placed at codeAddr.
func withExit(code []byte) []byte {
	out := append([]byte{}, code...)
	return append(out, jmpRel32(codeAddr+uint64(len(code)), exitAddr)...)
}

// loadCode maps the code page (RWX), a data page and a stack page, and
// writes code (plus the exit jump) at codeAddr.
func loadCode(t testing.TB, e *Engine, code []byte) {
	t.Helper()
	require.NoError(t, e.Map(codeAddr, pageSize, ProtAll))
	require.NoError(t, e.Map(dataAddr, pageSize, ProtRead|ProtWrite))
	require.NoError(t, e.Map(stackAddr, pageSize, ProtRead|ProtWrite))
	require.NoError(t, e.MemWrite(codeAddr, withExit(code)))
	sp := RSP
	if e.Mode() == Mode32 {
		sp = ESP
	}
	require.NoError(t, e.RegWrite(sp, stackAddr+pageSize-16))
}

func run(e *Engine) error { return e.Start(codeAddr, exitAddr, 0, 0) }

func pc(t testing.TB, e *Engine) uint64 {
	t.Helper()
	r := RIP
	if e.Mode() == Mode32 {
		r = EIP
	}
	v, err := e.RegRead(r)
	require.NoError(t, err)
	return v
}

func reg(t testing.TB, e *Engine, r Reg) uint64 {
	t.Helper()
	v, err := e.RegRead(r)
	require.NoError(t, err)
	return v
}

// cat concatenates machine-code fragments.
func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// Hand-assembled instructions used by several tests (checked with GNU as).
var (
	insNop     = []byte{0x90}
	insInt3    = []byte{0xcc}
	insSyscall = []byte{0x0f, 0x05}
	insCPUID   = []byte{0x0f, 0xa2}
	insUD2     = []byte{0x0f, 0x0b}
	insUD0     = []byte{0x0f, 0xff} // reserved opcode, invalid on qemu64
	insDecECX  = []byte{0xff, 0xc9}
	insInt80   = []byte{0xcd, 0x80}
)

// movEAX encodes `mov eax, imm32` (b8 imm32); movECX `mov ecx, imm32`.
func movEAX(v uint32) []byte { return le32(0xb8, v) }
func movECX(v uint32) []byte { return le32(0xb9, v) }

func le32(op byte, v uint32) []byte {
	b := []byte{op, 0, 0, 0, 0}
	binary.LittleEndian.PutUint32(b[1:], v)
	return b
}

// jnzRel8 encodes `jnz to` placed at from (75 rel8).
func jnzRel8(from, to uint64) []byte {
	return []byte{0x75, byte(int8(int64(to) - int64(from+2)))}
}
