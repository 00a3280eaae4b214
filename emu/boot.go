package emu

import (
	"encoding/binary"
	"fmt"
	"syscall"
	"unsafe"

	"github.com/probesim/probesim/emu/uc"
	"github.com/probesim/probesim/kernel"
)

// Entering user mode.
//
// Unicorn starts an x86 engine at CPL 0 with segment caches that do not
// match any descriptor. Two things go wrong if a guest runs like that:
// privileged instructions (cli, hlt, in, out) execute instead of raising
// #GP, and on i386 the first segment load the guest does itself (glibc's
// "mov %eax,%gs" after set_thread_area) recomputes the stack-size flag
// from the empty SS cache, turning every later push into a 16-bit one.
//
// So a Core enters user mode the way the kernel does after execve: it
// builds a GDT with Linux's user descriptors and returns to the program
// with iret, which loads CS and SS from those descriptors and drops to
// CPL 3. The iret runs from a boot page below mmap_min_addr, which is
// unmapped again as soon as the first slice ends, and its block is
// neither counted nor costed.

// GDT selectors as on an x86-64 Linux kernel (arch/x86/include/asm/segment.h):
// ia32 tasks run with __USER32_CS and __USER_DS, 64-bit tasks with __USER_CS.
const (
	gdtUser32CS = 4 // __USER32_CS = 0x23
	gdtUserDS   = 5 // __USER_DS   = 0x2b
	gdtUserCS   = 6 // __USER_CS   = 0x33

	user32CS = gdtUser32CS<<3 | 3
	userDS   = gdtUserDS<<3 | 3
	userCS   = gdtUserCS<<3 | 3
)

// Flat 4 GiB descriptors, DPL 3: 32-bit code, data, and 64-bit code (L=1).
const (
	descUser32Code = 0x00cffb000000ffff
	descUserData   = 0x00cff3000000ffff
	descUser64Code = 0x00affb000000ffff
)

// The boot page holds the iret and its frame. It must lie below 64 KiB: on
// i386 iret addresses its frame with the old SS's size, which is 16 bits.
const (
	bootPage  = 0xf000
	bootFrame = 0xfe00
)

// gdtAddr returns where the GDT lives: above the user address space. For
// x86-64 it is the first non-canonical address above user space, 2^47: no
// guest access can reach it (a non-canonical address faults), and it lies
// inside the 52-bit linear addresses Unicorn 2.1 passes through (its
// descriptor loads cut higher bits, so the GDT can no longer sit at the
// top of the address space as with 2.0.1).
func gdtAddr(a kernel.Arch) uint64 {
	if a == kernel.I386 {
		return 0xfffff000
	}
	return 0x0000800000000000
}

// The kernel pages: the GDT and the boot page live in a small host mapping
// of the Core's own, given to the engine as a physical range of its own
// (below the address space's arenas), and translated by the Core itself
// (kernelPage), never by the address space: the guest's mappings cannot
// reach them.
const (
	kernelPhys  = 0x10000000 // physical address of kernelMem
	kernelPages = 2          // the GDT, the boot page
)

func (c *Core) gdt() []byte     { return c.kernelMem[:0x1000] }
func (c *Core) bootMem() []byte { return c.kernelMem[0x1000:0x2000] }
func (c *Core) freeKernelPages() {
	if c.kernelMem != nil {
		syscall.Munmap(c.kernelMem)
		c.kernelMem = nil
	}
}

// kernelPage translates the GDT page, and the boot page while booting.
func (c *Core) kernelPage(page uint64) (uint64, uc.Prot, bool) {
	switch {
	case page == gdtAddr(c.arch):
		return kernelPhys, uc.ProtRead | uc.ProtWrite, true
	case c.booting && page == bootPage:
		return kernelPhys + 0x1000, uc.ProtRead | uc.ProtWrite | uc.ProtExec, true
	}
	return 0, 0, false
}

// installGDT maps the kernel pages and fills in the user descriptors.
func (c *Core) installGDT() error {
	mem, err := syscall.Mmap(-1, 0, kernelPages*0x1000, syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS)
	if err != nil {
		return fmt.Errorf("emu: allocating the kernel pages: %w", err)
	}
	c.kernelMem = mem
	if err := c.eng.MapPhys(kernelPhys, uint64(len(mem)), unsafe.Pointer(&mem[0])); err != nil {
		return err
	}
	gdt := c.gdt()
	binary.LittleEndian.PutUint64(gdt[gdtUser32CS*8:], descUser32Code)
	binary.LittleEndian.PutUint64(gdt[gdtUserDS*8:], descUserData)
	binary.LittleEndian.PutUint64(gdt[gdtUserCS*8:], descUser64Code)
	return c.eng.SetGDT(gdtAddr(c.arch), 0x1000-1)
}

// enterUserMode prepares the engine so that the next Run starts with an
// iret to st.PC at CPL 3 with st.SP, EFLAGS.IF set and every general
// register zero (rdx/edx = 0 is what the ELF ABI's _start expects: no
// finalizer to register).
func (c *Core) enterUserMode(st Start) error {
	cs, iret, word := uint64(userCS), []byte{0x48, 0xcf}, 8 // iretq
	if c.arch == kernel.I386 {
		cs, iret, word = user32CS, []byte{0xcf}, 4
	}
	boot := c.bootMem()
	copy(boot, iret)
	frame := boot[bootFrame-bootPage:]
	for i, v := range []uint64{st.PC, cs, 0x202, st.SP, userDS} {
		if word == 4 {
			binary.LittleEndian.PutUint32(frame[i*4:], uint32(v))
		} else {
			binary.LittleEndian.PutUint64(frame[i*8:], v)
		}
	}
	// The FPU starts as fpu__init / fninit leave it: x87 control word 0x37f
	// (all exceptions masked, 64-bit precision, round to nearest), every
	// x87 register empty (tag word 0xffff) and MXCSR 0x1f80. Unicorn's
	// reset leaves all three 0, which unmasks every exception, computes
	// long doubles at single precision and tags all eight registers valid
	// (an FXSAVE image's abridged tag byte 0xff where Linux gives 0, found
	// by the probes' differential test).
	regs := []uc.Reg{uc.DS, uc.ES, uc.RAX, uc.RBX, uc.RCX, uc.RDX, uc.RSI, uc.RDI, uc.RBP, uc.RSP, uc.FPCW, uc.FPTAG, uc.MXCSR}
	vals := []uint64{userDS, userDS, 0, 0, 0, 0, 0, 0, 0, bootFrame, 0x37f, 0xffff, 0x1f80}
	if c.arch == kernel.I386 {
		regs = []uc.Reg{uc.DS, uc.ES, uc.EAX, uc.EBX, uc.ECX, uc.EDX, uc.ESI, uc.EDI, uc.EBP, uc.ESP, uc.FPCW, uc.FPTAG, uc.MXCSR}
	}
	if err := c.eng.RegWriteBatch(regs, vals); err != nil {
		return err
	}
	if err := c.enableTSCTrap(); err != nil {
		return err
	}
	c.booting = true
	c.bootPC = bootPage
	return nil
}

// finishBoot takes the boot page away once the guest has left it.
func (c *Core) finishBoot() {
	if !c.booting {
		return
	}
	c.eng.RemoveCache(bootPage, bootPage+0x1000)
	c.eng.InvalidateCosts(bootPage, bootPage+0x1000)
	c.booting = false
	c.eng.DropPages(bootPage, bootPage+0x1000)
}

// inBootPage tells whether a block belongs to the boot stub, which is
// kernel work and charged nothing.
func inBootPage(addr uint64) bool { return addr >= bootPage && addr < bootPage+0x1000 }
