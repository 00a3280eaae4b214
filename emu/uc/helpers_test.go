package uc

import (
	"encoding/binary"
	"syscall"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// Guest layout shared by the tests. Code is mapped RWX at codeAddr and ends
// with a jump to exitAddr, which is Start's `until`: it lies in the same page
// but is never executed, so Unicorn does not discard any hot translation.
const (
	codeAddr  = 0x10000
	exitAddr  = codeAddr + 0x800
	dataAddr  = 0x20000
	stackAddr = 0x30000
)

// space is a test's guest memory, as the address space gives it to a
// virtual engine: host memory given once as physical memory, and a page
// table the engine's translator reads.
type space struct {
	host  []byte
	pages map[uint64]spacePage
	next  uint64 // next free physical page index
	// onMiss, if set, runs when the translator finds no page (it may map
	// one: demand paging or stack growth).
	onMiss func(page uint64)
	// onWrite, if set, runs when the translator is asked for a write (a
	// page the table holds read-only: copy on write may remap it).
	onWrite      func(page uint64)
	translations []uint64 // pages the translator was asked for, in order
}

type spacePage struct {
	phys uint64
	prot Prot
}

const (
	physBase   = 0x100000000
	spacePages = 64
)

var spaces = map[*Engine]*space{}

func (s *space) translate(page uint64, access MemAccess) (uint64, Prot, bool) {
	s.translations = append(s.translations, page)
	if access == MemWrite && s.onWrite != nil {
		s.onWrite(page)
	}
	p, ok := s.pages[page]
	if !ok && s.onMiss != nil {
		s.onMiss(page)
		p, ok = s.pages[page]
	}
	if !ok {
		return 0, 0, false
	}
	return physBase + p.phys*pageSize, p.prot, true
}

// newEngine opens a virtual engine (the kind probesim runs) over a fresh
// space of spacePages physical pages.
func newEngine(t testing.TB, m Mode) *Engine {
	t.Helper()
	sp := &space{pages: map[uint64]spacePage{}}
	host, err := syscall.Mmap(-1, 0, spacePages*pageSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	require.NoError(t, err)
	sp.host = host
	e, err := OpenWith(m, Options{CPUModel: CPUSkylakeClient, Translate: sp.translate})
	require.NoError(t, err)
	require.NoError(t, e.MapPhys(physBase, uint64(len(host)), unsafe.Pointer(&host[0])))
	spaces[e] = sp
	t.Cleanup(func() {
		require.NoError(t, e.Close())
		delete(spaces, e)
		require.NoError(t, syscall.Munmap(host))
	})
	return e
}

// newPhysEngine opens an engine without a virtual TLB: guest addresses
// are Unicorn's physical addresses (Map, MemWrite).
func newPhysEngine(t testing.TB, m Mode) *Engine {
	t.Helper()
	e, err := Open(m)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	return e
}

// mapPage gives the page at vaddr a fresh physical page with prot.
func mapPage(t testing.TB, e *Engine, vaddr uint64, prot Prot) {
	t.Helper()
	sp := spaces[e]
	require.Less(t, sp.next, uint64(spacePages), "the test space is full")
	sp.pages[vaddr&^(pageSize-1)] = spacePage{phys: sp.next, prot: prot}
	sp.next++
}

// protectPage changes a page's permissions, as the address space does.
func protectPage(t testing.TB, e *Engine, vaddr uint64, prot Prot) {
	t.Helper()
	page := vaddr &^ (pageSize - 1)
	sp := spaces[e]
	p, ok := sp.pages[page]
	require.True(t, ok, "page %#x is not mapped", page)
	p.prot = prot
	sp.pages[page] = p
	require.NoError(t, e.ProtectPages(page, page+pageSize, prot))
}

// unmapPage takes a page away, as the address space does.
func unmapPage(t testing.TB, e *Engine, vaddr uint64) {
	t.Helper()
	page := vaddr &^ (pageSize - 1)
	require.NoError(t, e.RemoveCache(page, page+pageSize))
	delete(spaces[e].pages, page)
	require.NoError(t, e.DropPages(page, page+pageSize))
}

// hostBytes is the host memory behind [vaddr, vaddr+n) of a mapped page.
func hostBytes(t testing.TB, e *Engine, vaddr uint64, n int) []byte {
	t.Helper()
	sp := spaces[e]
	p, ok := sp.pages[vaddr&^(pageSize-1)]
	require.True(t, ok, "page %#x is not mapped", vaddr)
	off := p.phys*pageSize + vaddr&(pageSize-1)
	require.LessOrEqual(t, vaddr&(pageSize-1)+uint64(n), uint64(pageSize), "crosses a page")
	return sp.host[off : off+uint64(n)]
}

// hostWrite writes guest memory from the host side (as the modelled
// kernel does): translated code is not told (RemoveCache is the caller's).
func hostWrite(t testing.TB, e *Engine, vaddr uint64, data []byte) {
	t.Helper()
	copy(hostBytes(t, e, vaddr, len(data)), data)
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
	if spaces[e] == nil { // a physical engine
		require.NoError(t, e.Map(codeAddr, pageSize, ProtAll))
		require.NoError(t, e.Map(dataAddr, pageSize, ProtRead|ProtWrite))
		require.NoError(t, e.Map(stackAddr, pageSize, ProtRead|ProtWrite))
		require.NoError(t, e.MemWrite(codeAddr, withExit(code)))
	} else {
		mapPage(t, e, codeAddr, ProtAll)
		mapPage(t, e, dataAddr, ProtRead|ProtWrite)
		mapPage(t, e, stackAddr, ProtRead|ProtWrite)
		hostWrite(t, e, codeAddr, withExit(code))
	}
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
