package emu

import (
	"fmt"

	"github.com/probesim/probesim/emu/uc"
)

// Ordered events.
//
// The machine runs vCPUs a quantum at a time, so ordinary memory accesses of
// different vCPUs are ordered only to within a quantum. Some events must be
// ordered exactly by cycle: a vCPU executing a watched address (a probe
// site) and the modelled kernel's work in a syscall. For those the Core asks
// a gate installed by the machine; when the gate says another vCPU is still
// behind, the Core stops before the event and the machine resumes it once
// every other vCPU has caught up.

// SetSyscallGate installs the gate consulted at every syscall.
func (c *Core) SetSyscallGate(gate func() bool) { c.syscallGate = gate }

// SetWatchGate installs the gate consulted when a vCPU is about to execute
// a watched address. The gate returns true to let it execute now (and
// records the event), false to stop before it.
func (c *Core) SetWatchGate(gate func(addr uint64) bool) { c.watchGate = gate }

// Watch makes addr a watched address: every execution of the instruction
// there consults the watch gate first. Watching costs one C call per
// execution of that instruction only.
func (c *Core) Watch(addr uint64) error {
	if _, ok := c.watches[addr]; ok {
		return nil
	}
	h, err := c.eng.HookCode(addr, addr, c.onWatch)
	if err != nil {
		return fmt.Errorf("emu: watching %#x: %w", addr, err)
	}
	if c.watches == nil {
		c.watches = map[uint64]uc.Hook{}
	}
	c.watches[addr] = h
	return nil
}

// WatchBlocks makes addr a block-watched address: every executed block
// that holds the instruction there consults the watch gate at the block's
// start (uc.Engine.WatchAddr). It costs nothing per instruction and no
// retranslation, so it may come and go while the machine runs; the price
// is that the instructions of the block before addr run after the event.
func (c *Core) WatchBlocks(addr uint64) error {
	if err := c.eng.WatchAddr(addr); err != nil {
		return fmt.Errorf("emu: watching %#x: %w", addr, err)
	}
	return nil
}

// UnwatchBlocks stops block-watching addr.
func (c *Core) UnwatchBlocks(addr uint64) { c.eng.UnwatchAddr(addr) }

// onBlockWatch is the block hook's question about a block-watched address:
// it happens now, or the engine stops before the block (which is then not
// charged again when it resumes).
func (c *Core) onBlockWatch(addr uint64) bool {
	if c.watchGate == nil || c.watchGate(addr) {
		return true
	}
	c.event = Event{Kind: EventWatch, Addr: addr}
	return false
}

// Unwatch stops watching addr.
func (c *Core) Unwatch(addr uint64) error {
	h, ok := c.watches[addr]
	if !ok {
		return nil
	}
	delete(c.watches, addr)
	return c.eng.HookDel(h)
}

// onWatch runs before the instruction at a watched address. Stopping from a
// code hook stops before the instruction (measured on 2.0.1); the block it
// belongs to was already charged, so the block that resumes here must not be
// charged again.
func (c *Core) onWatch(addr uint64, size uint32) {
	if c.eng.StoppedBeforeBlock() {
		// The block hook already stopped this block before charging it
		// (budget used up, or fenced code; Unicorn still calls the code
		// hook of its first instruction): the instruction does not run now
		// and is seen again on resume.
		return
	}
	if c.watchGate == nil || c.watchGate(addr) {
		return
	}
	c.counters.SkipNextBlockAt(addr)
	c.stop(Event{Kind: EventWatch, Addr: addr})
}
