package emu

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/probesim/probesim/emu/uc"
	"github.com/probesim/probesim/kernel"
	"github.com/probesim/probesim/mmu"
	"github.com/probesim/probesim/timing"
)

// EventKind says why Core.Run returned.
type EventKind int

const (
	EventNone        EventKind = iota
	EventExit                  // the running thread called exit
	EventExitGroup             // the process called exit_group
	EventKilled                // the process sent itself a fatal signal
	EventFault                 // a guest fault (Event.Fault)
	EventBudget                // the running vCPU reached its stop cycle
	EventBlock                 // the running thread sleeps in a syscall
	EventSyscall               // a syscall waits for the other vCPUs (RunPendingSyscall)
	EventWatch                 // a watched address waits for the other vCPUs
	EventTrap                  // an int3 or #DB trap waits for the other vCPUs (Event.Intno)
	EventOutOfMemory           // a page could not be populated: the machine's memory is used up
	EventExec                  // the running thread exec'd: it goes on in its new address space
)

// Event is what ended one Core.Run.
type Event struct {
	Kind   EventKind
	Status int    // exit status for EventExit and EventExitGroup
	Signal int    // for EventKilled and EventFault
	Fault  Fault  // for EventFault
	Addr   uint64 // for EventWatch
	Intno  uint32 // for EventTrap
}

// Core is one emulated x86 core shared by the vCPUs of a machine.
type Core struct {
	eng  *uc.Engine
	arch kernel.Arch
	// as is the address space the engine translates through now (mm.as),
	// one of the attached ones (mms, mm.go).
	as         *mmu.AddressSpace
	mm         *mmBackend
	mms        map[*mmu.AddressSpace]*mmBackend
	physMapped map[uint64]bool // arenas mapped into the engine, by physical address
	prof       *timing.Profile
	kernel     *kernel.Kernel

	thread   *kernel.Task // the task now running
	counters *uc.Counters // its vCPU's counters

	event    Event
	untilPC  uint64 // an address no guest ever executes
	abi      syscallABI
	argVals  []uint64
	costBuf  []byte
	costMemo map[string]memoCost
	// costedAt holds every block address costed (DistinctBlocks).
	costedAt map[uint64]struct{}

	jitter   func(cost uint64) uint64 // SetKernelJitter
	flagRegs [2]uc.Reg
	flagVals [2]uint64
	retRegs  [3]uc.Reg
	retVals  [3]uint64

	syscallInHook bool
	// pcAtSyscall: inside the x86-64 syscall hook Unicorn's rip is still
	// the syscall instruction, and it adds the instruction's length when
	// the hook returns (Regs, SetRegs).
	pcAtSyscall bool
	syscallGate func() bool
	watchGate   func(addr uint64) bool
	trapGate    func(intno uint32) TrapAction
	watches     map[uint64]uc.Hook

	booting bool   // the boot page is mapped (see boot.go)
	bootPC  uint64 // where the first Run must start while booting
	// kernelMem holds the pages only the modelled kernel maps: the GDT
	// and the boot page (boot.go), outside the address space.
	kernelMem []byte
	cpuid     map[cpuidKey]cpuidLeaf // the model's answers (cpuid.go)

	regs trapRegs // the trapping thread's registers during a trap gate (trapregs.go)
}

// NewCore opens an engine for arch, attaches it to as, and installs the
// hooks and the C cycle accounting. The kernel is set later (SetKernel),
// since it needs the loaded program's details.
func NewCore(arch kernel.Arch, as *mmu.AddressSpace, prof *timing.Profile) (*Core, error) {
	// until is an address no guest ever executes: inside the GDT page.
	mode, until := uc.Mode64, gdtAddr(arch)+0xff0
	if arch == kernel.I386 {
		mode = uc.Mode32
	}
	c := &Core{arch: arch, as: as, prof: prof, untilPC: until, abi: abiFor(arch),
		mms: map[*mmu.AddressSpace]*mmBackend{}, physMapped: map[uint64]bool{}}
	// The engine's CPU model decides which instructions run; the guest's
	// cpuid answers are the same model's (cpuid.go).
	var err error
	if c.cpuid, err = modelCPUID(arch); err != nil {
		return nil, err
	}
	eng, err := uc.OpenWith(mode, uc.Options{CPUModel: cpuModel, Translate: c.translate})
	if err != nil {
		return nil, err
	}
	c.eng = eng
	c.argVals = make([]uint64, len(c.abi.args))
	c.flagRegs, c.retRegs = x8664FlagRegs, x8664RetRegs
	if err := c.install(); err != nil {
		c.Close()
		return nil, err
	}
	c.mm = &mmBackend{c: c, as: as, pt: eng.BasePageTable()}
	if err := as.Attach(c.mm); err != nil {
		c.Close()
		return nil, err
	}
	c.mms[as] = c.mm
	return c, nil
}

func (c *Core) install() error {
	if err := c.installGDT(); err != nil {
		return err
	}
	if _, err := c.eng.HookInterrupt(c.onInterrupt); err != nil {
		return err
	}
	if c.arch == kernel.X8664 {
		if _, err := c.eng.HookSyscall(c.onSyscall); err != nil {
			return err
		}
	}
	if _, err := c.eng.HookCPUID(c.onCPUID); err != nil {
		return err
	}
	if err := c.eng.HookPortIO(c.onPortIO); err != nil {
		return err
	}
	if _, err := c.eng.HookInvalidInsn(c.onInvalidInsn); err != nil {
		return err
	}
	if err := c.eng.EnableAccounting(c.blockCost); err != nil {
		return err
	}
	return c.eng.SetWatchFunc(c.onBlockWatch)
}

// Close releases the engine and the kernel pages. Address spaces still
// attached are detached first (their mappings die with the engine).
func (c *Core) Close() error {
	var errs []error
	if base := c.eng.BasePageTable(); base != nil {
		errs = append(errs, c.eng.SwitchPageTable(base))
	}
	for as, b := range c.mms {
		errs = append(errs, as.Detach(b))
		if b.pt != c.eng.BasePageTable() {
			errs = append(errs, c.eng.FreePageTable(b.pt))
		}
	}
	c.mms = nil
	err := errors.Join(append(errs, c.eng.Close())...)
	c.freeKernelPages()
	return err
}

// Engine exposes the binding for the machine and the probe engine. Inside a
// trap gate, register values set through the Core are written to the engine
// first (see trapregs.go).
func (c *Core) Engine() *uc.Engine {
	_ = c.syncTrapRegs()
	return c.eng
}

// Arch returns the guest ABI.
func (c *Core) Arch() kernel.Arch { return c.arch }

// SetKernel sets the modelled kernel that serves syscalls.
func (c *Core) SetKernel(k *kernel.Kernel) { c.kernel = k }

// SetRunning names the thread about to run and the counters its vCPU's
// cycles are charged to.
func (c *Core) SetRunning(t *kernel.Task, cnt *uc.Counters) {
	c.thread = t
	c.counters = cnt
	c.eng.SetCounters(cnt)
}

// BlocksCosted is how many times a block was costed (distinct blocks plus
// re-costs after code changes): a measure of the event rate.
func (c *Core) BlocksCosted() uint64 { return c.eng.CostCacheMisses() }

// DistinctBlocks is how many different block start addresses were costed:
// BlocksCosted's floor, reached when nothing is ever costed twice.
func (c *Core) DistinctBlocks() uint64 { return uint64(len(c.costedAt)) }

// Run executes the running thread from pc until an event ends the slice.
// The returned error is a host-side failure, never a guest fault.
func (c *Core) Run(pc uint64) (Event, error) {
	for {
		ev, again, err := c.run(pc)
		if !again {
			return ev, err
		}
		// A vsyscall was emulated: the thread goes on at its caller.
		pc = c.PC()
	}
}

// run is one Start of the engine; again is set when the slice goes on
// from the current ip (an emulated vsyscall).
func (c *Core) run(pc uint64) (ev Event, again bool, err error) {
	c.event = Event{}
	c.counters.ResetBudgetHit()
	if c.booting {
		pc = c.bootPC
	}
	err = c.eng.Start(pc, c.untilPC, 0, 0)
	c.finishBoot()

	if c.event.Kind != EventNone {
		return c.event, false, nil
	}
	if c.counters.BudgetHit() {
		return Event{Kind: EventBudget}, false, nil
	}
	if pf, ok := c.eng.PageFault(); ok && err != nil {
		if c.as.OutOfMemory() {
			// The page could not be populated: the OOM killer's SIGKILL.
			return Event{Kind: EventOutOfMemory, Signal: kernel.SIGKILL}, false, nil
		}
		if pf.Access == uc.MemFetch && c.inVsyscallPage(c.PC()) {
			ev, stop := c.vsyscallFault()
			return ev, !stop, nil
		}
		return c.pageFaultEvent(pf), false, nil
	}
	if err != nil {
		// Unicorn refused to go on without a hook having said why (an
		// exception with no handler, for instance): report it as the
		// kernel would report an unexpected trap.
		var ue *uc.Error
		if errors.As(err, &ue) {
			return c.faultEvent(kernel.SIGSEGV, "general protection", c.PC(), 0, 0), false, nil
		}
		return Event{}, false, err
	}
	// The engine stopped by itself at a hlt, which user mode may not
	// execute (#GP in Linux, hence SIGSEGV). (Runs that seemed to stop at
	// an ordinary instruction were budget stops reported with a stale PC;
	// uc.Engine.Start now repairs the PC.)
	return c.faultEvent(kernel.SIGSEGV, "general protection", c.PC(), 0, 0), false, nil
}

// stop ends the current slice with ev.
func (c *Core) stop(ev Event) {
	c.event = ev
	c.eng.Stop()
}

// PC returns the instruction pointer of the loaded context.
func (c *Core) PC() uint64 {
	if c.regs.valid {
		return c.regs.pc
	}
	r := uc.RIP
	if c.arch == kernel.I386 {
		r = uc.EIP
	}
	v, _ := c.eng.RegRead(r)
	return v
}

// SP returns the stack pointer of the loaded context.
func (c *Core) SP() uint64 {
	if c.regs.valid {
		return c.regs.sp
	}
	r := uc.RSP
	if c.arch == kernel.I386 {
		r = uc.ESP
	}
	v, _ := c.eng.RegRead(r)
	return v
}

// faultEvent builds a fault event at rip with the VMA that holds rip.
func (c *Core) faultEvent(sig int, kind string, addr, rip, code uint64) Event {
	if rip == 0 {
		rip = c.PC()
	}
	f := Fault{Signal: sig, Kind: kind, Addr: addr, RIP: rip, SP: c.SP(), ErrorCode: code}
	f.VMA, f.InVMA = c.as.FindVMA(rip)
	return Event{Kind: EventFault, Signal: sig, Fault: f}
}

// memoCost is a block cost remembered by the block's bytes.
type memoCost struct {
	insns  uint32
	costFP uint64
}

// blockCost is called from the C block hook, once per distinct block.
func (c *Core) blockCost(addr uint64, size uint32) (uint32, uint64) {
	if inBootPage(addr) {
		return 0, 0
	}
	if c.costedAt == nil {
		c.costedAt = map[uint64]struct{}{}
	}
	c.costedAt[addr] = struct{}{}
	if cap(c.costBuf) < int(size) {
		c.costBuf = make([]byte, size)
	}
	buf := c.costBuf[:size]
	if err := c.as.ReadForce(addr, buf); err != nil {
		// A block Unicorn translated must be readable; if not, charge one
		// instruction so the run still counts something.
		return 1, 1 << 8
	}
	// Costs are memoised by the block's bytes: a probe flips a block
	// between two contents on every hit, and decoding a block costs ~10 us
	// while a lookup costs ~100 ns. A block's cost depends only on its
	// bytes (and the profile and mode, fixed per Core).
	if bc, ok := c.costMemo[string(buf)]; ok {
		return bc.insns, bc.costFP
	}
	bc := c.prof.CostBlock(buf, addr, c.modeBits())
	if c.costMemo == nil {
		c.costMemo = map[string]memoCost{}
	}
	c.costMemo[string(buf)] = memoCost{bc.Insns, bc.CostFP}
	return bc.Insns, bc.CostFP
}

func (c *Core) modeBits() int {
	if c.arch == kernel.I386 {
		return 32
	}
	return 64
}

// translate is the engine's page-table miss handler: the kernel pages
// (GDT, boot stub), else the address space's page-fault path, which grows a
// stack on a data access below it (expand_stack) and populates the page.
// The engine also calls it for a write to a page it holds read-only, where
// a copy-on-write page is copied (mmu.TranslateAccess).
func (c *Core) translate(page uint64, access uc.MemAccess) (uint64, uc.Prot, bool) {
	if paddr, p, ok := c.kernelPage(page); ok {
		return paddr, p, true
	}
	t, err := c.as.TranslateAccess(page, access != uc.MemFetch, access == uc.MemWrite)
	if err != nil {
		// Out of memory ends the process (Run); anything else is a
		// segmentation fault.
		return 0, 0, false
	}
	if t.Grew && c.counters != nil {
		// A page fault that the kernel handles: entry, the fault
		// handler, exit.
		c.counters.Add(0, c.kernelCostFP(c.prof.Kernel.PageFaultEntryExit))
	}
	return t.Phys, uc.Prot(t.Prot), true
}

// kernel.CPU implementation for the running thread.

func (c *Core) SetFSBase(base uint64) error { return c.eng.RegWrite(uc.FS_BASE, base) }
func (c *Core) SetGSBase(base uint64) error { return c.eng.RegWrite(uc.GS_BASE, base) }

func (c *Core) WriteGDTEntry(idx int, desc uint64) error {
	if c.arch != kernel.I386 {
		return fmt.Errorf("emu: no GDT in 64-bit mode")
	}
	if idx <= 0 || idx >= 512 {
		return fmt.Errorf("emu: GDT index %d out of range", idx)
	}
	binary.LittleEndian.PutUint64(c.gdt()[idx*8:], desc)
	return nil
}
