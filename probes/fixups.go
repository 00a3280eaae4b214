package probes

import "fmt"

// Stack fixups after a step: each is a costed copy to the user stack,
// booked to the fixups phase.

// fixReturnAddress replaces the return address a stepped call pushed (an
// operand-size word at sp: p.arch.retWord bytes, the selector's slot of a
// far call above it untouched), with a costed copy to the user stack.
//
// Linux's default_post_xol_op pops and pushes sizeof_long instead, which
// for a far call with 32-bit operands in 64-bit mode overwrites the
// selector's slot with the address's high half; probesim writes the word
// the call pushed.
func (e *Engine) fixReturnAddress(p *probe, pushed, want uint64) error {
	sp := e.m.SP()
	n := p.arch.retWord
	var buf [8]byte
	b := buf[:n]
	if err := e.m.CurrentMM().Read(sp, b); err != nil {
		return err
	}
	mask := ^uint64(0) >> (64 - 8*n)
	var got uint64
	for i := int(n) - 1; i >= 0; i-- {
		got = got<<8 | uint64(b[i])
	}
	if got != pushed&mask {
		return fmt.Errorf("out-of-line call: return address %#x on the stack, expected %#x", got, pushed&mask)
	}
	for i := range b {
		b[i] = byte(want >> (8 * i))
	}
	c, err := e.m.KernelCopyToUser(sp, b)
	p.cost.kernel(&p.cost.fixups, c)
	return err
}

// clearPushedTF clears TF in the flags a stepped pushf stored, with a
// costed copy to the user stack.
func (e *Engine) clearPushedTF(p *probe) error {
	sp := e.m.SP()
	var b [2]byte
	if err := e.m.CurrentMM().Read(sp, b[:]); err != nil {
		return err
	}
	b[1] &^= 1 // TF is bit 8
	c, err := e.m.KernelCopyToUser(sp, b[:])
	p.cost.kernel(&p.cost.fixups, c)
	return err
}
