package probes

import (
	"encoding/binary"
	"fmt"

	"github.com/probesim/probesim/emu/loader"
	"github.com/probesim/probesim/emu/uc"
	"github.com/probesim/probesim/mmu"
	"github.com/probesim/probesim/smp"
)

// Single-stepping out of line on the stack: the seed's proposal ([RFC 3/3],
// 2005) with the March 2006 repost's corrections.
//
// The int3 stays in the text. On a hit the instruction is copied to the
// bottom of the page that holds the trapping thread's stack pointer, below
// everything live: the copy must leave room for the instruction's own stack
// writes (8 bytes, as the repost requires, or more for push-like
// instructions) and, on x86-64, for the 128-byte red zone below sp, and it
// never crosses the page. If that page has no room and it is the lowest page
// of a growsdown stack, the stack grows by one page (find_extend_vma) and
// the copy goes to the new page. If the page is not executable (NX), the
// kernel makes it executable for the step and restores it afterwards, each a
// page-table update with a TLB shootdown. When no slot can be had, the hit
// falls back to inline stepping, and the fallback is counted. The slot
// state is per thread, so concurrent hits on several vCPUs never share a
// slot.
//
// After the #DB the ip is fixed as Linux's default fixup does (ip = original
// + (ip - copy)), except after ret and indirect jumps (the ip is absolute);
// call and indirect call get their pushed return address fixed, pushf gets TF
// cleared in the pushed flags. A RIP-relative operand is rewritten to use a
// scratch register (riprel.go); when no rewrite is found the hit falls back
// to inline stepping (counted).

const (
	maxInsnSize = 16
	redZone64   = 128
)

// ssolStep is a thread's out-of-line step in progress.
type ssolStep struct {
	p        *probe
	slot     uint64
	page     uint64
	restore  mmu.Prot // the page's protection before the step
	flipped  bool     // NX was cleared for the step
	expanded bool
	scratch  uc.Reg // RIP-relative rewrite: the register borrowed, else 0
	saved    uint64 // its value before the step
}

// Stats counts what the out-of-line strategy had to do.
type Stats struct {
	NXFlips        uint64 `json:"nx_flips"`
	StackGrowths   uint64 `json:"stack_expansions"`
	InlineFallback uint64 `json:"inline_fallbacks"`
}

func (e *Engine) wordSize() uint64 {
	if e.m.Image().Arch == loader.ArchI386 {
		return 4
	}
	return 8
}

// ssolSlot finds where thread's copy of p goes, growing the stack if the
// page holding sp has no room. ok is false when there is no slot.
func (e *Engine) ssolSlot(p *probe) (slot, page uint64, expanded, ok bool) {
	sp := e.m.SP()
	below := uint64(8)
	if w := uint64(StackWriteBytes(p.spec.Insn, e.mode())); w > below {
		below = w
	}
	if e.wordSize() == 8 {
		below += redZone64
	}
	page = sp &^ (mmu.PageSize - 1)
	if sp >= below && sp-below >= page+maxInsnSize {
		return page, page, false, true
	}
	as := e.m.AddressSpace()
	v, found := as.FindVMA(sp)
	if !found || v.Flags&mmu.GrowsDown == 0 || v.Start != page {
		return 0, 0, false, false
	}
	if err := as.ExpandDown(v, 1); err != nil {
		return 0, 0, false, false
	}
	page -= mmu.PageSize
	return page, page, true, true
}

func (e *Engine) mode() int {
	if e.wordSize() == 4 {
		return 32
	}
	return 64
}

// ssolHit starts an out-of-line step of p for the trapping thread.
func (e *Engine) ssolHit(p *probe, ev smp.TrapEvent) (bool, error) {
	copyBytes := p.spec.Bytes
	var scratch uc.Reg
	if p.spec.Class == ClassRIPRelative || RIPRelative(p.spec.Insn, e.mode()) {
		var ok bool
		if copyBytes, scratch, ok = ripRewrite(p.spec); !ok {
			return false, nil
		}
	}
	slot, page, expanded, ok := e.ssolSlot(p)
	if !ok {
		return false, nil
	}
	as := e.m.AddressSpace()
	prot, _ := as.PageProt(page)
	st := &ssolStep{p: p, slot: slot, page: page, restore: prot, expanded: expanded, scratch: scratch}
	if expanded {
		e.stats.StackGrowths++
	}
	if err := e.m.KernelWrite(slot, copyBytes); err != nil {
		return false, err
	}
	if scratch != 0 {
		saved, err := e.m.Reg(scratch)
		if err != nil {
			return false, err
		}
		st.saved = saved
		if err := e.m.SetReg(scratch, p.spec.Addr+uint64(p.spec.Len)); err != nil {
			return false, err
		}
	}
	if prot&mmu.ProtExec == 0 {
		if err := e.m.KernelProtectPage(page, prot|mmu.ProtExec); err != nil {
			return false, err
		}
		st.flipped = true
		e.stats.NXFlips++
	}
	e.ssol[ev.TID] = st
	return e.m.SetPC(slot) == nil && e.m.SetTrapFlag(true) == nil, nil
}

// ssolDone finishes the step after its #DB: the fixups, then NX back.
func (e *Engine) ssolDone(st *ssolStep) error {
	p := st.p
	ip := e.m.PC()
	orig, length := p.spec.Addr, uint64(p.spec.Len)
	switch p.spec.Class {
	case ClassRet, ClassIndirectJump:
		// The ip is where the instruction sent it.
	case ClassIndirectCall:
		if err := e.fixReturnAddress(st.slot+length, orig+length); err != nil {
			return err
		}
	case ClassRelCall:
		if err := e.fixReturnAddress(st.slot+length, orig+length); err != nil {
			return err
		}
		ip = orig + (ip - st.slot)
	case ClassPushf:
		if err := e.clearPushedTF(); err != nil {
			return err
		}
		ip = orig + (ip - st.slot)
	default:
		ip = orig + (ip - st.slot)
	}
	if err := e.m.SetPC(ip); err != nil {
		return err
	}
	if st.scratch != 0 {
		if err := e.m.SetReg(st.scratch, st.saved); err != nil {
			return err
		}
	}
	if st.flipped {
		if err := e.m.KernelProtectPage(st.page, st.restore); err != nil {
			return err
		}
	}
	return e.m.SetTrapFlag(false)
}

// fixReturnAddress replaces the return address a stepped call pushed.
func (e *Engine) fixReturnAddress(pushed, want uint64) error {
	sp := e.m.SP()
	n := e.wordSize()
	b := make([]byte, n)
	as := e.m.AddressSpace()
	if err := as.Read(sp, b); err != nil {
		return err
	}
	got := uint64(binary.LittleEndian.Uint32(b))
	if n == 8 {
		got = binary.LittleEndian.Uint64(b)
	}
	if got != pushed {
		return fmt.Errorf("out-of-line call: return address %#x on the stack, expected %#x", got, pushed)
	}
	if n == 8 {
		binary.LittleEndian.PutUint64(b, want)
	} else {
		binary.LittleEndian.PutUint32(b, uint32(want))
	}
	return as.Write(sp, b)
}

// clearPushedTF clears TF in the flags a stepped pushf stored.
func (e *Engine) clearPushedTF() error {
	sp := e.m.SP()
	as := e.m.AddressSpace()
	var b [2]byte
	if err := as.Read(sp, b[:]); err != nil {
		return err
	}
	b[1] &^= 1 // TF is bit 8
	return as.Write(sp, b[:])
}
