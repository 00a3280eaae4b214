package probes

import (
	"fmt"

	"github.com/probesim/probesim/mmu"
	"github.com/probesim/probesim/smp"
)

// The seed as posted: "[RFC 3/3] Kprobes: userspace probes ... single
// stepping out-of-line", September 2005 (the project's seed), its
// uprobe_single_step and resume_execution_user, defects and all
// (--strategy ssol-stack-2005). The corrected mechanism is ssol-stack.
//
// What the posted code does at a hit, read literally:
//
//   - find_vma(mm, PAGE_ALIGN(esp)): PAGE_ALIGN rounds up, to the page
//     boundary above esp; no VMA at or above it: "No vma found", return;
//   - in a VM_GROWSDOWN stack: page_addr = PAGE_ALIGN(esp); the room check
//     ((esp - 8) - page_addr) > 16 subtracts unsigned longs, page_addr
//     being above esp, so it wraps and always passes; the 16 bytes of the
//     instruction buffer (MAX_INSN_SIZE) go to page_addr + 16, above esp,
//     into live stack frames; eip = page_addr + 16;
//   - in any other VMA (a thread stack, mmapped): the code assumes a stack
//     that grows up: page_addr = PAGE_ALIGN(esp) + PAGE_SIZE, a page and
//     more above esp, inside the frames of the thread's caller or its TLS
//     and thread block at the top of the mapping, or past the mapping;
//     eip = page_addr;
//   - when the copy fails (copy_to_user faults) or there is no VMA, the
//     function returns early and eip is not moved: the thread returns to
//     user mode with TF set at the ip the int3 left, the byte after it,
//     inside the probed instruction;
//   - singlestep_addr = eip, in a global; uprobe_addr and current_uprobe
//     are globals too: every CPU's hit overwrites them;
//   - after the #DB, resume_execution_user: eip = uprobe_addr + (eip -
//     singlestep_addr), with whatever the globals hold by then, and nothing
//     else ("TODO : need to fixup special instructions"): a call's pushed
//     return address, a ret's or an indirect branch's absolute target get
//     the delta too; TF is cleared.
//
// The posted code has no NX handling, though its text says the no-exec bit
// of the copy's page is cleared: probesim clears it, as the text says (an
// i386 of 2005 without PAE had no NX to clear), so that the code's other
// defects show, not a fault at the first copy. Nothing is locked.
//
// Every defect is detected where it happens and reported (Engine.Stats:
// SeedDefects; the report's out_of_line.seed_defects): a copy written at or
// above sp ("hit 12 on cpu2 wrote its copy over live stack at 0x..."), an
// eip not moved, a fixup that used another hit's singlestep_addr or
// uprobe_addr, an instruction whose class needed a fixup it did not get.
// What the program then does (wrong output, a crash) is its own: the
// machine runs it as it would run on that kernel.

// seedInsnSize is MAX_INSN_SIZE * sizeof(kprobe_opcode_t): the bytes the
// seed copies, the instruction and the rest of ainsn.insn (zeros).
const seedInsnSize = 16

// seedGlobals are the posted code's globals: one set for all CPUs.
type seedGlobals struct {
	singlestepAddr uint64 // singlestep_addr
	uprobeAddr     uint64 // uprobe_addr
	// Who wrote singlestep_addr last: the hit's number, vCPU and task.
	setterHit  uint64
	setterVCPU int
	setterTID  int
	hits       uint64 // hits so far, numbered from 1
}

// SeedDefects are what the 2005 code did wrong, counted, with the first
// few described.
type SeedDefects struct {
	LiveStackCopies       uint64   `json:"live_stack_copies"`       // copies written at or above sp
	EIPNotMoved           uint64   `json:"eip_not_moved"`           // no copy, the thread stepped from inside the instruction
	ForeignSinglestepAddr uint64   `json:"foreign_singlestep_addr"` // fixups with another hit's singlestep_addr
	MissingFixups         uint64   `json:"missing_fixups"`          // special instructions given only the delta
	Examples              []string `json:"examples"`                // the first seedExamples of each kind, in order
}

// seedExamples is how many of each kind of defect are described.
const seedExamples = 5

func (d *SeedDefects) add(count *uint64, format string, args ...any) {
	*count++
	if *count <= seedExamples {
		d.Examples = append(d.Examples, fmt.Sprintf(format, args...))
	}
}

// seedStack2005 is the posted code.
type seedStack2005 struct{}

// afterHandler is uprobe_single_step.
func (seedStack2005) afterHandler(e *Engine, t *uprobeTask, p *probe, ev smp.TrapEvent) error {
	g := &e.seed
	g.hits++
	g.uprobeAddr = p.spec.Addr
	sp := e.m.SP()
	as := e.m.CurrentMM()
	aligned := (sp + mmu.PageSize - 1) &^ (mmu.PageSize - 1) // PAGE_ALIGN rounds up
	vma, found := findVMA(as, aligned)
	ip := ev.PC // where the int3 left it: not moved unless a copy is made
	moved := false
	var dst uint64
	if found {
		if vma.Flags&mmu.GrowsDown != 0 {
			if sp-8-aligned > seedInsnSize { // unsigned: wraps, always true
				dst, ip = aligned+seedInsnSize, aligned+seedInsnSize
			}
		} else if page := aligned + mmu.PageSize; page-(sp+8) > seedInsnSize {
			dst, ip = page, page
		}
	}
	t.slotFlipped = false
	if dst != 0 {
		buf := make([]byte, seedInsnSize)
		copy(buf, p.spec.Bytes)
		c, err := e.m.KernelCopyToUser(dst, buf)
		if err != nil {
			ip = ev.PC // -EFAULT: return before eip moves
		} else {
			moved = true
			p.cost.kernel(&p.cost.step, c)
			if dst+seedInsnSize > sp {
				e.stats.SeedDefects.add(&e.stats.SeedDefects.LiveStackCopies,
					"hit %d on cpu%d wrote its copy over live stack at %#x (sp %#x)", g.hits, ev.VCPU, dst, sp)
			}
			// The NX clearing the posting describes (see above).
			page := dst &^ (mmu.PageSize - 1)
			if prot, ok := as.PageProt(page); ok && prot&mmu.ProtExec == 0 {
				c, err := e.m.KernelProtectPageCost(page, prot|mmu.ProtExec)
				if err != nil {
					return err
				}
				p.cost.kernel(&p.cost.step, c)
				t.slotPage, t.slotRestore, t.slotFlipped = page, prot, true
				e.stats.NXFlips++
				e.stats.NXFlipCycles += c.Total()
			}
		}
	}
	if !moved {
		e.stats.SeedDefects.add(&e.stats.SeedDefects.EIPNotMoved,
			"hit %d on cpu%d made no copy (sp %#x): eip not moved, the thread steps from %#x, inside the instruction at %#x",
			g.hits, ev.VCPU, sp, ip, p.spec.Addr)
	}
	if found && (moved || dst == 0) {
		// No VMA and a failed copy return before this line.
		g.singlestepAddr, g.setterHit, g.setterVCPU, g.setterTID = ip, g.hits, ev.VCPU, ev.TID
	}
	e.startStep(t, p, seedStack2005{}, ip)
	t.hitNo = g.hits
	if err := e.m.SetPC(ip); err != nil {
		return err
	}
	return e.m.SetTrapFlag(true)
}

// singlestepped is resume_execution_user.
func (seedStack2005) singlestepped(e *Engine, t *uprobeTask, ev smp.TrapEvent) error {
	g := &e.seed
	p := t.active
	d := &e.stats.SeedDefects
	if g.singlestepAddr != t.xolVaddr {
		d.add(&d.ForeignSinglestepAddr, "fixup of hit %d on cpu%d used cpu%d's singlestep_addr %#x (hit %d), not its own %#x",
			t.hitNo, ev.VCPU, g.setterVCPU, g.singlestepAddr, g.setterHit, t.xolVaddr)
	}
	if p.spec.Class != ClassPlain && p.spec.Class != ClassRelJump && p.spec.Class != ClassStackWrite {
		d.add(&d.MissingFixups, "hit %d on cpu%d: a %s instruction given only the ip delta (the posted TODO)", t.hitNo, ev.VCPU, p.spec.Class)
	}
	ip := g.uprobeAddr + (e.m.PC() - g.singlestepAddr)
	if e.mode() == 32 {
		ip = uint64(uint32(ip))
	}
	if err := e.m.SetPC(ip); err != nil {
		return err
	}
	if t.slotFlipped {
		c, err := e.m.KernelProtectPageCost(t.slotPage, t.slotRestore)
		if err != nil {
			return err
		}
		p.cost.kernel(&p.cost.fixups, c)
		e.stats.NXFlipCycles += c.Total()
	}
	p.cost.step += e.m.TrapCycles()<<8 + p.arch.inPlaceFP
	err := e.endStepTF(t)
	t.endStep()
	return err
}

// abortStep: the posted code has none; the fault stays where the copy (or
// the byte inside the instruction) faulted, NX restored.
func (seedStack2005) abortStep(e *Engine, t *uprobeTask, _ smp.TrapEvent) error {
	if t.slotFlipped {
		_, err := e.m.KernelProtectPageCost(t.slotPage, t.slotRestore)
		return err
	}
	return nil
}

// findVMA is Linux's find_vma: the first VMA that ends above addr.
func findVMA(as *mmu.AddressSpace, addr uint64) (mmu.VMA, bool) {
	for _, v := range as.VMAs() {
		if v.End > addr {
			return v, true
		}
	}
	return mmu.VMA{}, false
}
