package emu

import (
	"golang.org/x/arch/x86/x86asm"

	"github.com/probesim/probesim/emu/insn"
	"github.com/probesim/probesim/emu/uc"
	"github.com/probesim/probesim/kernel"
)

// Instructions the CPU lets user mode run but whose results would leak the
// host, or that user mode may not run at all, which the engine gets wrong.
//
// rdtsc and rdtscp read the TSC: in Unicorn, the host's clock. The Core
// sets CR4.TSD, so both raise #GP at CPL 3 (QEMU's helper_rdtsc checks
// it, as the CPU does), and the fault handler answers the vCPU's own cycle
// clock instead: a TSC that counts the modelled cycles, deterministic and
// consistent with the time syscalls. Linux leaves TSD clear, so a native
// program never sees that #GP: to the guest the instruction just works,
// single-step trap included (a #GP handled in the hook ends no step, so
// the Core raises the #DB that TF asks for: onInterrupt).
//
// in and out at CPL 3 with IOPL 0 raise #GP on the CPU (SIGSEGV on Linux);
// Unicorn 2.1.1 runs them. A port I/O hook refuses them.

// CR4 bits Linux sets for user mode that matter to the engine: SSE on
// (OSFXSR), SIMD exceptions as #XM (OSXMMEXCPT); and TSD, which Linux
// leaves clear and the Core sets to trap the TSC reads.
const (
	cr4TSD        = 1 << 2
	cr4OSFXSR     = 1 << 9
	cr4OSXMMEXCPT = 1 << 10
)

// enableTSCTrap writes CR4 whole: Unicorn reads back 0 for it before the
// first run (its reset sets SSE on in the hidden flags only), and writing
// CR4 recomputes those flags from the value written.
func (c *Core) enableTSCTrap() error {
	return c.eng.RegWrite(uc.CR4, cr4TSD|cr4OSFXSR|cr4OSXMMEXCPT)
}

// emulateTSC answers an rdtsc or rdtscp at the ip that raised #GP: EDX:EAX
// get the vCPU's clock in cycles (rdtscp's ECX, IA32_TSC_AUX, the vCPU's
// number as Linux sets it: 0 here, see the package doc of smp for vCPU
// identity), and the ip moves past it. It reports false for any other
// instruction.
func (c *Core) emulateTSC() bool {
	pc := c.PC()
	var code [3]byte
	if c.as.ReadForce(pc, code[:]) != nil {
		return false
	}
	n := 0
	switch {
	case code[0] == 0x0f && code[1] == 0x31:
		n = 2 // rdtsc
	case code[0] == 0x0f && code[1] == 0x01 && code[2] == 0xf9:
		n = 3 // rdtscp
	default:
		return false
	}
	tsc := c.counters.Cycles()
	// The ip last: writing it makes Unicorn leave the current block. In
	// 64-bit mode the whole registers: the CPU zero-extends the 32-bit
	// halves it writes, and Unicorn's EAX keeps the upper half.
	regs := []uc.Reg{uc.RAX, uc.RDX, uc.RCX, uc.RIP}
	if c.arch == kernel.I386 {
		regs = []uc.Reg{uc.EAX, uc.EDX, uc.ECX, uc.EIP}
	}
	vals := []uint64{tsc & 0xffffffff, tsc >> 32, 0, pc + uint64(n)}
	if n == 2 {
		regs, vals = []uc.Reg{regs[0], regs[1], regs[3]}, []uint64{vals[0], vals[1], vals[3]}
	}
	// The #GP was handled here, not delivered: without this, the next
	// #GP or #DE would become a double fault, and the one after that a
	// triple fault (uc.Engine.ClearException).
	if c.eng.ClearException() != nil {
		return false
	}
	return c.eng.RegWriteBatch(regs, vals) == nil
}

// onPortIO refuses in and out: #GP, SIGSEGV, which ends the process (a
// signal nobody handles). Two engine facts shape it (measured on 2.1.1):
// inside this hook the ip is not the instruction's but the last one
// Unicorn stored (the block's start, normally), so the instruction is
// found by decoding forward from there; and a stop takes effect only at
// the end of the translated block, so the block's remaining instructions
// still run: the one that could reach outside, a syscall ending the block,
// is refused by the syscall hook while the fault is pending.
func (c *Core) onPortIO(port uint32, size int, out bool, value uint32) uint32 {
	pc := c.portIOInsn(c.PC())
	c.stop(c.faultEvent(kernel.SIGSEGV, "general protection", pc, pc, 0))
	return 0
}

// portIOInsn is the address of the first port I/O instruction at or after
// from (within a block's reach), or from itself.
func (c *Core) portIOInsn(from uint64) uint64 {
	code := make([]byte, 512)
	n := c.readCode(from, code)
	for off := 0; off < n; {
		inst, err := insn.Decode(code[off:n], c.modeBits())
		if err != nil {
			break
		}
		switch inst.Op {
		case x86asm.IN, x86asm.OUT, x86asm.INSB, x86asm.INSW, x86asm.INSD,
			x86asm.OUTSB, x86asm.OUTSW, x86asm.OUTSD:
			return from + uint64(off)
		}
		off += inst.Len
	}
	return from
}
