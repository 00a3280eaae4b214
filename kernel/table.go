package kernel

// SupportLevel says how completely probesim implements a syscall, in the
// manner of gVisor's syscall tables (pkg/sentry/syscalls: Supported,
// PartiallySupported, ErrorWithEvent).
type SupportLevel int

const (
	// SupportFull: the syscall does what Linux does, within the model.
	SupportFull SupportLevel = iota
	// SupportPartial: the syscall works; the note names what it leaves
	// out. Flags, commands or families it does not implement return
	// Linux's errno for them and are counted in the report as
	// "name:detail" (Kernel.unsupportedDetail).
	SupportPartial
)

func (l SupportLevel) String() string {
	switch l {
	case SupportFull:
		return "full"
	case SupportPartial:
		return "partial"
	}
	return "unknown"
}

// Syscall is one entry of the syscall table. A syscall without an entry
// returns ENOSYS and is counted in the report's unsupported_syscalls.
type Syscall struct {
	Name    string
	Fn      Handler
	Support SupportLevel
	Note    string
}

// Table returns the syscall table of this kernel's ABI, by name (a copy:
// for documentation and tests).
func (k *Kernel) Table() map[string]Syscall {
	out := make(map[string]Syscall, len(k.table))
	for n, sc := range k.table {
		out[n] = *sc
	}
	return out
}

// entry is the table's shorthand for a syscall with its level and note.
type entry struct {
	fn      Handler
	support SupportLevel
	note    string
}

func full(fn Handler) entry { return entry{fn: fn} }

func partial(fn Handler, note string) entry {
	return entry{fn: fn, support: SupportPartial, note: note}
}

// registerBase installs the syscalls probesim implements for k's ABI.
// Entries are keyed by the name the kernel headers give the number, so one
// name can mean different things on the two ABIs (i386 "mmap" is old_mmap).
func registerBase(k *Kernel) {
	const (
		noFiles     = "only the standard descriptors and /proc/self/maps exist"
		noDelivery  = "signals are recorded, not delivered to handlers"
		noFork      = "threads only: a new process (no CLONE_VM, or no CLONE_THREAD) is ENOSYS"
		limitsNote  = "RLIMIT_STACK is modelled; the other limits report Debian 12's defaults"
		futexNote   = "WAIT, WAKE, WAIT_BITSET and WAKE_BITSET; other commands are ENOSYS"
		onlyEmptyAt = "only AT_EMPTY_PATH on an open descriptor names a file"
	)
	common := map[string]entry{
		"read": partial(sysRead, noFiles), "write": partial(sysWrite, noFiles), "writev": partial(sysWritev, noFiles),
		"open": partial(sysOpen, noFiles), "openat": partial(sysOpenat, noFiles), "close": full(sysClose),
		"lseek": full(sysLseek), "ioctl": partial(sysIoctl, "no descriptor is a terminal: every request is ENOTTY"),
		"readlink": partial(sysReadlink, "only /proc/self/exe"), "readlinkat": partial(sysReadlinkat, "only /proc/self/exe"),
		"statx": partial(sysStatx, onlyEmptyAt),
		"exit":  full(sysExit), "exit_group": full(sysExitGroup),
		"brk": full(sysBrk), "munmap": full(sysMunmap),
		"mprotect":        partial(sysMprotect, "PROT_GROWSDOWN applies to the named range only"),
		"madvise":         full(sysMadvise),
		"set_tid_address": full(sysSetTidAddress),
		"set_robust_list": partial(sysSetRobustList, "the list is recorded, not walked at exit"),
		"rseq":            partial(sysENOSYS, "ENOSYS, as a kernel without CONFIG_RSEQ; glibc and musl run without it"),
		"prlimit64":       partial(sysPrlimit64, limitsNote),
		"getrandom":       full(sysGetrandom),
		"rt_sigaction":    partial(sysRtSigaction, noDelivery),
		"rt_sigprocmask":  partial(sysRtSigprocmask, noDelivery),
		"kill":            partial(sysKill, noDelivery), "tkill": partial(sysTkill, noDelivery),
		"tgkill":        partial(sysTgkill, noDelivery),
		"clock_gettime": full(sysClockGettime), "clock_getres": full(sysClockGetres),
		"gettimeofday": full(sysGettimeofday), "time": full(sysTime),
		"uname": full(sysUname), "getpid": full(sysGetpid), "gettid": full(sysGettid),
		"getppid": partial(sysGetppid, "0: the parent is outside the guest's view"),
		// Registered for i386 too, where every code probesim sees is EINVAL
		// (the compat arch_prctl knows only CPUID and feature codes), not
		// an unsupported syscall.
		"arch_prctl": full(sysArchPrctl),

		"clone":             partial(sysClone, noFork),
		"clone3":            partial(sysClone3, noFork),
		"futex":             partial(sysFutex(k.cfg.Arch == X8664), futexNote),
		"sched_yield":       full(sysSchedYield),
		"sched_getaffinity": full(sysSchedGetaffinity),
		"nanosleep":         full(sysNanosleep(k.cfg.Arch == X8664)),
		"clock_nanosleep":   partial(sysClockNanosleep(k.cfg.Arch == X8664), "REALTIME, MONOTONIC and BOOTTIME"),
	}
	for _, n := range []string{"getuid", "geteuid", "getgid", "getegid"} {
		common[n] = full(sysGetuid)
	}
	var arch map[string]entry
	if k.cfg.Arch == I386 {
		arch = map[string]entry{
			"mmap": partial(sysOldMmap, noFiles), "mmap2": partial(sysMmap2, noFiles), "_llseek": full(sysLlseek),
			"fstat64": full(sysFstat64), "fstatat64": partial(sysFstatat64, onlyEmptyAt),
			"ugetrlimit": partial(sysGetrlimit, limitsNote), "getrlimit": partial(sysOldGetrlimit, limitsNote),
			"set_thread_area": full(sysSetThreadArea), "get_thread_area": full(sysGetThreadArea),
			"clock_gettime64": full(sysClockGettime64), "clock_getres_time64": full(sysClockGetresTime64),
			"futex_time64":           partial(sysFutex(true), futexNote),
			"clock_nanosleep_time64": partial(sysClockNanosleep(true), "REALTIME, MONOTONIC and BOOTTIME"),
		}
		for _, n := range []string{"getuid32", "geteuid32", "getgid32", "getegid32"} {
			arch[n] = full(sysGetuid)
		}
	} else {
		arch = map[string]entry{
			"mmap": partial(sysMmap, noFiles), "fstat": full(sysFstat), "newfstatat": partial(sysNewfstatat, onlyEmptyAt),
			"getrlimit": partial(sysGetrlimit, limitsNote),
		}
	}
	for _, m := range []map[string]entry{common, arch} {
		for n, e := range m {
			k.table[n] = &Syscall{Name: n, Fn: e.fn, Support: e.support, Note: e.note}
		}
	}
}
