// Package emu is probesim's vCPU layer: one emulated x86 core (a Unicorn
// engine reached through our binding in emu/uc) attached to the shared
// address space (package mmu), with the modelled kernel (package kernel) behind
// its syscall and exception hooks and the per-block cycle accounting of
// package timing charged in C.
//
// # What a Core is
//
// A Core owns one Unicorn engine. All vCPUs of a machine run on the same
// Core, one at a time: the machine (package smp) switches between them by
// saving and restoring the engine's register context and by pointing the C
// block hook at the running vCPU's counters. Sharing one engine means one
// translation cache and one set of mappings, so the only way a translation
// can go stale is a write from the host side; mmu reports every such write
// through Core.InvalidateCode, which drops both the translated blocks and
// their cached costs. A range losing execute permission is reported with
// Core.RevokeExec, which fences its translations instead of dropping them
// (they cannot run until the range is executable again, and then run
// without being translated anew): a probe's out-of-line step flips NX on a
// stack page on every hit, and translating the copy each time cost ~8 us.
//
// While a trap gate runs (a probe's int3 or #DB), the trapping thread's ip,
// sp and flags are cached in the Core and written back once when the gate
// returns (trapregs.go): a hit would otherwise cross into C for each of
// them.
//
// # Events
//
// Go runs only at events: a syscall, an exception, a memory fault, an
// invalid instruction, the first execution of a block (to cost it), and the
// end of a run slice. Everything per instruction or per executed block stays
// in C. A hook that must end the slice records an Event and calls Stop;
// Core.Run returns it.
//
// # Locking
//
// A Core is used by one goroutine at a time (the machine's). It has no
// internal locking; Unicorn engines are not safe for concurrent use.
package emu
