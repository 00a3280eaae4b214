package demo

import (
	"fmt"
	"strings"

	"github.com/probesim/probesim"
	"github.com/probesim/probesim/timing"
)

// walkthrough tells the story of the miss in a few paragraphs of plain
// text, with the run's own numbers. The text and HTML pages share it.
func (d *Demo) walkthrough() []string {
	s := d.Story
	w := s.Window
	inline := d.Trial(probesim.Inline, s.CPUs)
	ip := inline.Probe()
	probe := callName(s.Probe)

	var paras []string
	paras = append(paras, fmt.Sprintf(
		"At cycle %s, thread %d on cpu%d ran %s and trapped on the int3 the uprobe "+
			"had written over its instruction (%s): the handler ran, a hit. "+
			"To execute that instruction the inline strategy wrote the original byte back "+
			"into the program text, which every vCPU shares, and single-stepped it in place.",
		num(w.Open.Cycle), w.Open.TID, w.Open.VCPU, probe, ip.Instruction))

	var others []string
	for v, n := range s.MissesInWindow {
		if n > 0 {
			others = append(others, fmt.Sprintf("cpu%d", v))
		}
	}
	paras = append(paras, fmt.Sprintf(
		"The window stayed open from cycle %s to %s, %s cycles, until the step's #DB "+
			"let the kernel write int3 again. At cycle %s, %s cycles into it, thread %d "+
			"on cpu%d ran %s straight through: no int3 in the text, no trap, "+
			"no handler. Nobody saw that execution. It was not alone: %s executions on %s went "+
			"through this one window unseen.",
		num(w.Open.Cycle), num(w.Close.Cycle), num(w.Cycles()),
		num(s.Miss.Cycle), num(s.Miss.Cycle-w.Open.Cycle), s.Miss.TID, s.Miss.VCPU, probe,
		num(uint64(s.WindowMisses())), joinAnd(others)))

	typical := fmt.Sprintf("This window is a typical one of the %s that other vCPUs ran through: they lasted %s "+
		"cycles at the median (all %s windows of the run: %s; the longer a window, the likelier a miss).",
		num(uint64(s.MissedCount)), num(s.MissedMedian), num(uint64(s.WindowCount)), num(s.MedianCycles))
	if s.MissedCount == 1 {
		typical = fmt.Sprintf("It is the only one of the run's %s windows that other vCPUs ran through (they lasted %s cycles at the median).",
			num(uint64(s.WindowCount)), num(s.MedianCycles))
	}
	if f := s.First; f != w && f.Cycles() > s.MissedMedian {
		typical += fmt.Sprintf(" The first one, at cycle %s, lasted %s: the kernel's first write to the text "+
			"page during the run also broke its copy-on-write (%s cycles in this profile).",
			num(f.Open.Cycle), num(f.Cycles()), num(timing.Default().Kernel.CowBreakPage))
	}
	next := ""
	if n := s.Next; n != nil {
		next = fmt.Sprintf("At cycle %s int3 was back and thread %d on cpu%d trapped again. ",
			num(n.Cycle), n.TID, n.VCPU)
	}
	whole := fmt.Sprintf("%s%s Over the whole run, inline on %d vCPUs missed %s of %s executions (%s) in %s windows "+
		"of up to %s cycles.",
		next, typical, s.CPUs, num(ip.Misses), num(ip.Executions), percent(ip.Misses, ip.Executions),
		num(ip.Windows.Count), num(ip.Windows.MaxCycles))
	if one := d.Trial(probesim.Inline, 1); one != nil {
		whole += fmt.Sprintf(" On 1 vCPU it opened %s windows too, but no other thread "+
			"can run during one (the kernel does not preempt a thread in the middle of its "+
			"single-step), so it missed %s.",
			num(one.Probe().Windows.Count), plural(one.Probe().Misses, "execution"))
	}
	paras = append(paras, whole)

	for _, st := range d.Options.Strategies {
		t := d.Trial(st, s.CPUs)
		if st == probesim.Inline || t == nil {
			continue
		}
		sp := t.Probe()
		cost := ""
		if a, b := sp.OverheadCycles.PerHit, ip.OverheadCycles.PerHit; a > 0 && b > 0 {
			cost = fmt.Sprintf(" The price is %s cycles per hit, against %s for inline.", num(a), num(b))
		}
		var how string
		switch st {
		case probesim.SSOLStack:
			flips := uint64(0)
			if ool := t.Report.OutOfLine; ool != nil {
				flips = ool.NXFlips
			}
			how = fmt.Sprintf("after the handler it copies the instruction into free stack space below the "+
				"trapping thread's stack pointer, makes that stack page executable for the step (%s NX "+
				"flips on %d vCPUs) and single-steps the copy there", num(flips), s.CPUs)
		case probesim.XOL:
			how = "as mainline Linux does, it single-steps a copy of the instruction in a slot of an " +
				"executable page of the process's own ([uprobes], mapped on the first hit), one slot per " +
				"thread stepping"
		case probesim.SSOLStack2006:
			spins := ""
			if ool := t.Report.OutOfLine; ool != nil && ool.LockSpins > 0 {
				spins = fmt.Sprintf(" (%s hits spun %s cycles for it here)", num(ool.LockSpins), num(ool.LockSpinCycles))
			}
			how = "it steps a copy on the stack as ssol-stack does, under the 2006 repost's global lock: " +
				"one hit in flight at a time, the other vCPUs spinning for it" + spins
		case probesim.SSOLStack2005:
			how = "it steps a copy on the stack as the seed's code was posted in 2005, defects and all " +
				"(probesim run --strategy ssol-stack-2005 lists the ones a run hits)"
		default:
			how = "it steps the instruction elsewhere"
		}
		paras = append(paras, fmt.Sprintf(
			"Why %s does not miss: it never takes the int3 out of the text; %s. Every other vCPU still "+
				"finds int3 at %s, so every execution traps: %s hits, %s misses.%s",
			st, how, probe, num(sp.Hits), num(sp.Misses), cost))
	}
	return paras
}

// joinAnd joins "a", "b" and "c" as "a, b and c".
func joinAnd(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// plural spells a count: "no call", "1 call", "3 calls".
func plural(n uint64, noun string) string {
	switch n {
	case 0:
		return "no " + noun
	case 1:
		return "1 " + noun
	}
	return num(n) + " " + noun + "s"
}
