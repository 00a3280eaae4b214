package probes

import (
	"encoding/binary"
	"fmt"
)

// Stack fixups after a step: each is a costed copy to the user stack,
// booked to the fixups phase.

// fixReturnAddress replaces the return address a stepped call pushed, with
// a costed copy to the user stack.
func (e *Engine) fixReturnAddress(p *probe, pushed, want uint64) error {
	sp := e.m.SP()
	n := e.wordSize()
	b := make([]byte, n)
	if err := e.m.AddressSpace().Read(sp, b); err != nil {
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
	c, err := e.m.KernelCopyToUser(sp, b)
	p.cost.kernel(&p.cost.fixups, c)
	return err
}

// clearPushedTF clears TF in the flags a stepped pushf stored, with a
// costed copy to the user stack.
func (e *Engine) clearPushedTF(p *probe) error {
	sp := e.m.SP()
	var b [2]byte
	if err := e.m.AddressSpace().Read(sp, b[:]); err != nil {
		return err
	}
	b[1] &^= 1 // TF is bit 8
	c, err := e.m.KernelCopyToUser(sp, b[:])
	p.cost.kernel(&p.cost.fixups, c)
	return err
}
