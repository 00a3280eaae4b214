package kernel

import (
	"syscall"
)

// What programs ask at start (kernel/sys.c, kernel/sched/core.c,
// kernel/sched/membarrier.c): prctl, scheduling parameters and affinity,
// resource usage, sysinfo, priorities, membarrier, getcpu, times,
// credentials. Answers describe the modelled machine and the guest's
// fixed identity.

// prctl options (include/uapi/linux/prctl.h).
const (
	prSetPdeathsig   = 1
	prGetPdeathsig   = 2
	prGetDumpable    = 3
	prSetDumpable    = 4
	prGetKeepcaps    = 7
	prSetKeepcaps    = 8
	prSetName        = 15
	prGetName        = 16
	prGetSeccomp     = 21
	prSetSeccomp     = 22
	prCapbsetRead    = 23
	prGetTimerslack  = 30
	prSetTimerslack  = 29
	prSetNoNewPrivs  = 38
	prGetNoNewPrivs  = 39
	prSetThpDisable  = 41
	prGetThpDisable  = 42
	prSetVMA         = 0x53564d41
	prSetChildReaper = 36
	prGetChildReaper = 37
)

var prctlNames = map[uint64]string{prSetSeccomp: "PR_SET_SECCOMP"}

func sysPrctl(k *Kernel, t *Task, a Args) (uint64, Result) {
	switch a[0] {
	case prSetName:
		name, e := k.readPath(a[1])
		if e != 0 {
			return fail(e)
		}
		if len(name) > 15 {
			name = name[:15]
		}
		t.comm = name
		return ok0()
	case prGetName:
		b := make([]byte, 16)
		copy(b, t.name())
		return okOrFault(k.writeBytes(a[1], b))
	case prSetPdeathsig:
		if a[1] > numSignals {
			return fail(syscall.EINVAL)
		}
		t.pdeathsig = int(a[1])
		return ok0()
	case prGetPdeathsig:
		b := newStruct(4)
		b.u32(0, uint32(t.pdeathsig))
		return okOrFault(k.writeBytes(a[1], b.b))
	case prGetDumpable:
		return okv(uint64(k.self().dumpable))
	case prSetDumpable:
		if a[1] > 1 {
			return fail(syscall.EINVAL)
		}
		k.self().dumpable = int(a[1])
		return ok0()
	case prGetChildReaper:
		b := newStruct(4)
		if t.tg.subreaper {
			b.u32(0, 1)
		}
		return okOrFault(k.writeBytes(a[1], b.b))
	case prSetChildReaper:
		t.tg.subreaper = a[1] != 0
		return ok0()
	case prGetKeepcaps, prGetSeccomp, prGetThpDisable:
		return ok0()
	case prSetKeepcaps, prSetThpDisable, prSetTimerslack:
		return ok0()
	case prGetTimerslack:
		return okv(50000)
	case prCapbsetRead:
		if a[1] > 40 {
			return fail(syscall.EINVAL)
		}
		return okv(1) // in the bounding set, not held
	case prSetNoNewPrivs:
		if a[1] != 1 || a[2]|a[3]|a[4] != 0 {
			return fail(syscall.EINVAL)
		}
		k.self().noNewPrivs = true
		return ok0()
	case prGetNoNewPrivs:
		if k.self().noNewPrivs {
			return okv(1)
		}
		return ok0()
	case prSetVMA:
		return ok0() // anonymous VMA names are accepted and not shown
	}
	if name, ok := prctlNames[a[0]]; ok {
		k.unsupportedDetail("prctl", name)
	} else {
		k.unsupportedDetail("prctl", "option "+itoa(int(a[0])))
	}
	return fail(syscall.EINVAL)
}

// sysSchedSetaffinity accepts a mask that names at least one vCPU (the
// scheduler does not pin tasks; the request is noted).
func sysSchedSetaffinity(k *Kernel, t *Task, a Args) (uint64, Result) {
	if a[0] != 0 && k.taskOf(a[0]) == nil {
		return fail(syscall.ESRCH)
	}
	n := min(a[1], 1024)
	b, e := k.readBytes(a[2], int(n))
	if e != 0 {
		return fail(e)
	}
	cpus := k.sched.CPUs()
	for i := 0; i < cpus && i/8 < len(b); i++ {
		if b[i/8]&(1<<(i%8)) != 0 {
			k.note("sched_setaffinity", "accepted")
			return ok0()
		}
	}
	return fail(syscall.EINVAL)
}

func (k *Kernel) taskOf(pid uint64) *Task {
	t := k.tasks[int(int32(pid))]
	if t == nil || t.state == TaskExited {
		return nil
	}
	return t
}

// Every task is SCHED_OTHER with priority 0.
func sysSchedGetscheduler(k *Kernel, t *Task, a Args) (uint64, Result) {
	if a[0] != 0 && k.taskOf(a[0]) == nil {
		return fail(syscall.ESRCH)
	}
	return ok0()
}

func sysSchedGetparam(k *Kernel, t *Task, a Args) (uint64, Result) {
	if a[0] != 0 && k.taskOf(a[0]) == nil {
		return fail(syscall.ESRCH)
	}
	return okOrFault(k.writeBytes(a[1], make([]byte, 4)))
}

// sysSchedSetscheduler: SCHED_OTHER and SCHED_BATCH/IDLE with priority 0
// are accepted; the real-time policies need CAP_SYS_NICE (EPERM).
func sysSchedSetscheduler(k *Kernel, t *Task, a Args) (uint64, Result) {
	if a[0] != 0 && k.taskOf(a[0]) == nil {
		return fail(syscall.ESRCH)
	}
	switch a[1] &^ 0x40000000 { // SCHED_RESET_ON_FORK
	case 0, 3, 5:
		return ok0()
	case 1, 2, 6:
		return fail(syscall.EPERM)
	}
	return fail(syscall.EINVAL)
}

func sysSchedPriority(max bool) Handler {
	return func(k *Kernel, t *Task, a Args) (uint64, Result) {
		switch a[0] {
		case 1, 2: // SCHED_FIFO, SCHED_RR
			if max {
				return okv(99)
			}
			return okv(1)
		case 0, 3, 5, 6:
			return ok0()
		}
		return fail(syscall.EINVAL)
	}
}

// rusage: user time from the task's (or the process's) cycles, nothing
// else counted but the context switches of none.
func sysGetrusage(k *Kernel, t *Task, a Args) (uint64, Result) {
	var cycles uint64
	switch int32(a[0]) {
	case 0: // RUSAGE_SELF
		for _, o := range t.tg.tasks {
			if o.CPUCycles != nil {
				cycles += o.CPUCycles()
			}
		}
	case 1: // RUSAGE_THREAD
		if t.CPUCycles != nil {
			cycles = t.CPUCycles()
		}
	case -1: // RUSAGE_CHILDREN: the reaped ones and theirs
		cycles = t.tg.childCycles
	default:
		return fail(syscall.EINVAL)
	}
	ns := k.nanos(cycles)
	ws := k.cfg.Arch.wordSize()
	b := newStruct(2*2*ws + 14*ws)
	b.word(k.cfg.Arch, 0, ns/1e9)
	b.word(k.cfg.Arch, ws, ns%1e9/1000)
	b.word(k.cfg.Arch, 4*ws+2*ws, k.mm().Stats().PeakRSSPages*4) // ru_maxrss (KiB)
	return okOrFault(k.writeBytes(a[1], b.b))
}

// sysSysinfo is struct sysinfo: uptime, loads, the machine's memory (as
// /proc/meminfo has it), the number of tasks, mem_unit 1.
func sysSysinfo(k *Kernel, t *Task, a Args) (uint64, Result) {
	ws := k.cfg.Arch.wordSize()
	total := k.cfg.PhysMemory
	used := k.mm().Phys().UsedPages() * 4096 // the machine's, shared pages once
	// uptime, loads[3], totalram, freeram, sharedram, bufferram,
	// totalswap, freeswap (longs), procs and pad (u16), totalhigh,
	// freehigh (longs, aligned), mem_unit (u32), padding to 20 bytes.
	unitOff := 10*ws + ws + 2*ws
	if ws == 4 {
		unitOff = 10*ws + 4 + 2*ws
	}
	b := newStruct(unitOff + 4 + max(0, 20-2*ws-4))
	b.word(k.cfg.Arch, 0, k.nanos(k.cfg.Clock())/1e9)
	if ws == 4 && total > 0xffffffff {
		// A 32-bit sysinfo counts in units so that the totals fit.
		unit := uint64(4096)
		b.word(k.cfg.Arch, 4*ws, total/unit)
		b.word(k.cfg.Arch, 5*ws, (total-min(total, used))/unit)
		b.u16(10*ws, uint16(k.self().live))
		b.u32(unitOff, uint32(unit))
	} else {
		b.word(k.cfg.Arch, 4*ws, total)
		b.word(k.cfg.Arch, 5*ws, total-min(total, used))
		b.u16(10*ws, uint16(k.self().live))
		b.u32(unitOff, 1)
	}
	return okOrFault(k.writeBytes(a[0], b.b))
}

// getpriority returns 20 - nice (0), setpriority accepts raising nice
// (lowering it needs CAP_SYS_NICE: EACCES).
func sysGetpriority(k *Kernel, t *Task, a Args) (uint64, Result) {
	if a[0] > 2 {
		return fail(syscall.EINVAL)
	}
	return okv(uint64(20 - t.nice))
}

func sysSetpriority(k *Kernel, t *Task, a Args) (uint64, Result) {
	if a[0] > 2 {
		return fail(syscall.EINVAL)
	}
	n := int(int32(a[2]))
	n = max(-20, min(19, n))
	if n < t.nice {
		return fail(syscall.EACCES)
	}
	t.nice = n
	return ok0()
}

// membarrier commands (include/uapi/linux/membarrier.h): the private
// expedited ones are supported (every vCPU sees memory in order at the
// next ordered event, which is what the barrier promises).
func sysMembarrier(k *Kernel, t *Task, a Args) (uint64, Result) {
	const (
		query                    = 0
		global                   = 1
		privateExpedited         = 8
		registerPrivateExpedited = 16
		privateExpeditedSync     = 32
		registerSync             = 64
		supported                = global | privateExpedited | registerPrivateExpedited | privateExpeditedSync | registerSync
	)
	switch a[0] {
	case query:
		return okv(supported)
	case global, registerPrivateExpedited, registerSync:
		return ok0()
	case privateExpedited, privateExpeditedSync:
		k.sched.TLBShootdown() // an IPI to every vCPU running the process
		return ok0()
	}
	k.unsupportedDetail("membarrier", "command "+itoa(int(a[0])))
	return fail(syscall.EINVAL)
}

// sysGetcpu writes the vCPU the task runs on.
func sysGetcpu(k *Kernel, t *Task, a Args) (uint64, Result) {
	b := newStruct(4)
	b.u32(0, uint32(k.sched.CurrentCPU()))
	if a[0] != 0 {
		if e := k.writeBytes(a[0], b.b); e != 0 {
			return fail(e)
		}
	}
	if a[1] != 0 {
		return okOrFault(k.writeBytes(a[1], make([]byte, 4)))
	}
	return ok0()
}

// sysTimes is times(struct tms *): user time of the process in clock
// ticks (USER_HZ 100); the result is the ticks since boot.
func sysTimes(k *Kernel, t *Task, a Args) (uint64, Result) {
	var cycles uint64
	for _, o := range t.tg.tasks {
		if o.CPUCycles != nil {
			cycles += o.CPUCycles()
		}
	}
	if a[0] != 0 {
		ws := k.cfg.Arch.wordSize()
		b := newStruct(4 * ws)
		b.word(k.cfg.Arch, 0, k.nanos(cycles)/1e7)
		if e := k.writeBytes(a[0], b.b); e != 0 {
			return fail(e)
		}
	}
	return okv(k.nanos(k.cfg.Clock()) / 1e7)
}

// Credentials: the guest is one unprivileged user.
func sysGetresuid(k *Kernel, t *Task, a Args) (uint64, Result) {
	b := newStruct(4)
	b.u32(0, uint32(k.cfg.UID))
	for _, p := range a[:3] {
		if e := k.writeBytes(p, b.b); e != 0 {
			return fail(e)
		}
	}
	return ok0()
}

func sysGetgroups(k *Kernel, t *Task, a Args) (uint64, Result) {
	if int32(a[0]) < 0 {
		return fail(syscall.EINVAL)
	}
	if a[0] == 0 {
		return okv(1)
	}
	b := newStruct(4)
	b.u32(0, uint32(k.cfg.UID))
	return okv1(k.writeBytes(a[1], b.b))
}

func okv1(e syscall.Errno) (uint64, Result) {
	if e != 0 {
		return fail(e)
	}
	return okv(1)
}

// sysSetid: set*id to the guest's own ids succeed; others need
// CAP_SETUID/CAP_SETGID (EPERM).
func sysSetid(n int) Handler {
	return func(k *Kernel, t *Task, a Args) (uint64, Result) {
		for _, v := range a[:n] {
			if id := int32(v); id != -1 && uint32(id) != uint32(k.cfg.UID) {
				return fail(syscall.EPERM)
			}
		}
		return ok0()
	}
}

// sysCapget reports no capabilities (version 3 header).
func sysCapget(k *Kernel, t *Task, a Args) (uint64, Result) {
	if a[1] != 0 {
		if e := k.writeBytes(a[1], make([]byte, 24)); e != 0 {
			return fail(e)
		}
	}
	return ok0()
}

// sysPersonality: PER_LINUX, queries only (0xffffffff); setting
// PER_LINUX again is accepted.
func sysPersonality(k *Kernel, t *Task, a Args) (uint64, Result) {
	if uint32(a[0]) != 0xffffffff && uint32(a[0]) != 0 {
		k.unsupportedDetail("personality", "persona")
		return fail(syscall.EINVAL)
	}
	return ok0()
}

// Memory locking has nothing to do for memory that is never swapped.
func sysNop(k *Kernel, t *Task, a Args) (uint64, Result) { return ok0() }
