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
		viewNote   = "in the filesystem view (kernel/vfs): host files read-only, changes in an overlay unless the mount is rw"
		fcntlNote  = "locks are granted and noted, not enforced between processes (each is counted in kernel_notes); leases, F_NOTIFY, F_SETSIG and seals are EINVAL"
		mmapNote   = "files map through a shared page cache: MAP_PRIVATE copies a page at its first write, MAP_SHARED stores reach the file at msync, fsync and the last unmap; MAP_SYNC is EOPNOTSUPP"
		noFork     = "threads and processes (fork.go); namespaces, pidfds, CLONE_PARENT and CLONE_PTRACE are EINVAL, counted"
		execNote   = "static and dynamic ELF of the process's own ABI (another is ENOEXEC) and #! scripts, from the guest's view"
		waitNote   = "exited children only: no job control, so WUNTRACED and WCONTINUED never report; rusage has user time and max RSS"
		limitsNote = "RLIMIT_STACK is modelled; the other limits report Debian 12's defaults"
		futexNote  = "no priority inheritance: the PI commands are ENOSYS"
	)
	common := map[string]entry{
		"read": full(sysRead), "write": full(sysWrite), "readv": full(sysReadv), "writev": full(sysWritev),
		"pread64": full(sysPread64), "pwrite64": full(sysPwrite64), "preadv": full(sysPreadv), "pwritev": full(sysPwritev),
		"preadv2": partial(sysPreadv2, "no RWF_* flags"), "pwritev2": partial(sysPwritev2, "no RWF_* flags"),
		"open": partial(sysOpen, viewNote), "openat": partial(sysOpenat, viewNote), "creat": partial(sysCreat, viewNote),
		"close": full(sysClose),
		"lseek": full(sysLseek), "ioctl": partial(sysIoctl, "FIOCLEX, FIONCLEX, FIONBIO, FIOASYNC, FIONREAD; no descriptor is a terminal, so the rest are ENOTTY"),
		"readlink": full(sysReadlink), "readlinkat": full(sysReadlinkat),
		"statx":      partial(sysStatx, "STATX_BASIC_STATS; no birth time"),
		"getdents64": full(sysGetdents64), "mkdir": partial(sysMkdir, viewNote), "mkdirat": partial(sysMkdirat, viewNote),
		"mknodat": partial(sysMknodat, "regular files and FIFOs; devices are EPERM"),
		"unlink":  partial(sysUnlink, viewNote), "unlinkat": partial(sysUnlinkat, viewNote), "rmdir": partial(sysRmdir, viewNote),
		"rename": partial(sysRename, viewNote), "renameat": partial(sysRenameat, viewNote),
		"renameat2": partial(sysRenameat2, "no RENAME_WHITEOUT"),
		"link":      full(sysLink), "linkat": full(sysLinkat), "symlink": full(sysSymlink), "symlinkat": full(sysSymlinkat),
		"faccessat": full(sysFaccessat), "faccessat2": full(sysFaccessat2),
		"chdir": full(sysChdir), "fchdir": full(sysFchdir), "getcwd": full(sysGetcwd), "umask": full(sysUmask),
		"ftruncate": full(sysFtruncate), "fsync": full(sysFsync), "fdatasync": full(sysFsync), "syncfs": full(sysSyncfs),
		"sync": full(sysSync), "fchmod": full(sysFchmod), "fchmodat": full(sysFchmodat),
		"fchownat":  partial(chownHandler(true, true, false, id32), "an unprivileged guest can change nothing"),
		"utimensat": full(sysUtimensat),
		"statfs":    partial(sysStatfs, "fixed figures per filesystem type"), "fstatfs": partial(sysFstatfs, "fixed figures per filesystem type"),
		"flock":     partial(sysFlock, "granted and recorded in kernel_notes, not enforced between processes"),
		"fallocate": partial(sysFallocate, "mode 0 only"),
		"readahead": full(sysFadvise),

		"dup": full(sysDup), "dup2": full(sysDup2), "dup3": full(sysDup3), "close_range": full(sysCloseRange),
		"fcntl": partial(sysFcntl, fcntlNote),
		"pipe":  full(sysPipe), "pipe2": full(sysPipe2), "eventfd": full(sysEventfd), "eventfd2": full(sysEventfd2),
		"timerfd_create":  partial(sysTimerfdCreate, "REALTIME, MONOTONIC and BOOTTIME; TFD_TIMER_CANCEL_ON_SET never cancels"),
		"timerfd_settime": full(timerfdSettime(k.cfg.Arch == X8664)), "timerfd_gettime": full(timerfdGettime(k.cfg.Arch == X8664)),
		"poll": full(sysPoll), "ppoll": full(ppollHandler(k.cfg.Arch == X8664)),
		"pselect6":     full(pselect6Handler(k.cfg.Arch == X8664)),
		"epoll_create": full(sysEpollCreate), "epoll_create1": full(sysEpollCreate1), "epoll_ctl": full(sysEpollCtl),
		"epoll_wait": full(epollWaitHandler), "epoll_pwait": full(epollPwaitHandler),
		"epoll_pwait2": full(sysEpollPwait2),

		"rt_sigreturn": full(sysRtSigreturn), "sigaltstack": full(sysSigaltstack),
		"rt_sigsuspend": full(sysRtSigsuspend), "pause": full(sysPause),
		"rt_sigtimedwait": full(sigtimedwaitHandler(k.cfg.Arch == X8664)),
		"rt_sigqueueinfo": full(sysRtSigqueueinfo), "rt_tgsigqueueinfo": full(sysRtTgsigqueueinfo),
		"rt_sigpending": full(sysRtSigpending),
		"alarm":         full(sysAlarm), "setitimer": full(sysSetitimer), "getitimer": full(sysGetitimer),
		"timer_create":  partial(sysTimerCreate, "SIGEV_SIGNAL, SIGEV_THREAD_ID, SIGEV_NONE; the process CPU clock is the machine's"),
		"timer_settime": full(timerSettimeHandler(k.cfg.Arch == X8664)), "timer_gettime": full(timerGettimeHandler(k.cfg.Arch == X8664)),
		"timer_getoverrun": full(sysTimerGetoverrun), "timer_delete": full(sysTimerDelete),

		"prctl":              partial(sysPrctl, "names, death signal, dumpable, no_new_privs, THP and timer slack; no seccomp"),
		"sched_setaffinity":  partial(sysSchedSetaffinity, "accepted and noted: tasks are not pinned"),
		"sched_getscheduler": full(sysSchedGetscheduler), "sched_getparam": full(sysSchedGetparam),
		"sched_setscheduler": full(sysSchedSetscheduler), "sched_setparam": full(sysSchedGetscheduler),
		"sched_get_priority_max": full(sysSchedPriority(true)), "sched_get_priority_min": full(sysSchedPriority(false)),
		"getrusage":   partial(sysGetrusage, "user time and max RSS; the other fields are 0"),
		"sysinfo":     partial(sysSysinfo, "the machine's memory; no swap, loads 0"),
		"getpriority": full(sysGetpriority), "setpriority": full(sysSetpriority),
		"membarrier": full(sysMembarrier), "getcpu": full(sysGetcpu), "times": full(sysTimes),
		"capget": full(sysCapget), "personality": partial(sysPersonality, "PER_LINUX only"),
		"mlock": full(sysNop), "munlock": full(sysNop), "mlockall": full(sysNop), "munlockall": full(sysNop),
		"msync": full(sysMsync), "mlock2": full(sysNop),
		"exit": full(sysExit), "exit_group": full(sysExitGroup),
		"brk": full(sysBrk), "munmap": full(sysMunmap),
		"mremap":          partial(sysMremap, "private anonymous memory; MREMAP_FIXED and MREMAP_DONTUNMAP are EINVAL, file and shared mappings ENOSYS, counted"),
		"mprotect":        partial(sysMprotect, "PROT_GROWSDOWN applies to the named range only"),
		"madvise":         full(sysMadvise),
		"set_tid_address": full(sysSetTidAddress),
		"set_robust_list": full(sysSetRobustList), "get_robust_list": full(sysGetRobustList),
		"rseq":           partial(sysENOSYS, "ENOSYS, as a kernel without CONFIG_RSEQ; glibc and musl run without it"),
		"prlimit64":      partial(sysPrlimit64, limitsNote),
		"getrandom":      full(sysGetrandom),
		"rt_sigaction":   full(sysRtSigaction),
		"rt_sigprocmask": full(sysRtSigprocmask),
		"kill":           full(sysKill), "tkill": full(sysTkill),
		"tgkill":        full(sysTgkill),
		"clock_gettime": full(sysClockGettime), "clock_getres": full(sysClockGetres),
		"gettimeofday": full(sysGettimeofday), "time": full(sysTime),
		"uname": full(sysUname), "getpid": full(sysGetpid), "gettid": full(sysGettid),
		"getppid": partial(sysGetppid, "1 for the first process and orphans: the modelled init"),
		"getpgrp": full(sysGetpgrp), "getpgid": full(sysGetpgid),
		"getsid": full(sysGetsid), "setpgid": full(sysSetpgid),
		"setsid": full(sysSetsid),
		"fork":   full(sysFork), "vfork": full(sysVfork),
		"wait4":  partial(sysWait4, waitNote),
		"execve": partial(sysExecve, execNote), "execveat": partial(sysExecveat, execNote),
		"waitid": partial(sysWaitid, waitNote),
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
	const (
		sockNote = "AF_UNIX (stream, datagram, seqpacket) and loopback AF_INET/AF_INET6 TCP and UDP, in-process; other families are EAFNOSUPPORT"
		netNote  = "loopback only: a destination off the host is ENETUNREACH, counted"
		optNote  = "SOL_SOCKET, TCP, IP and IPv6 options Go and libc use; others are ENOPROTOOPT, counted"
		msgNote  = "MSG_OOB and MSG_FASTOPEN are EOPNOTSUPP, counted; SCM_RIGHTS and SCM_CREDENTIALS on AF_UNIX"
	)
	for n, e := range map[string]entry{
		"socket": partial(sysSocket, sockNote), "socketpair": partial(sysSocketpair, "AF_UNIX only, as on Linux"),
		"bind": partial(sysBind, netNote), "connect": partial(sysConnect, netNote), "listen": full(sysListen),
		"accept4": full(sysAccept4), "shutdown": full(sysShutdown),
		// i386 has no accept syscall: socketcall's SYS_ACCEPT finds it here.
		"accept":      full(sysAccept),
		"getsockname": full(sysGetsockname), "getpeername": full(sysGetpeername),
		"sendto": partial(sysSendto, msgNote), "recvfrom": full(sysRecvfrom),
		"sendmsg": partial(sysSendmsg, msgNote), "recvmsg": full(sysRecvmsg),
		"sendmmsg":   partial(sysSendmmsg, "sendmsg per entry; a stream entry that fills the buffer records what went through"),
		"recvmmsg":   full(recvmmsgHandler(k.cfg.Arch == X8664)),
		"getsockopt": partial(sysGetsockopt, optNote), "setsockopt": partial(sysSetsockopt, optNote),
	} {
		common[n] = e
	}
	creds := map[string]entry{
		"getresuid": full(sysGetresuid), "getresgid": full(sysGetresuid), "getgroups": full(sysGetgroups),
		"setuid": full(sysSetid(1)), "setgid": full(sysSetid(1)), "setreuid": full(sysSetid(2)), "setregid": full(sysSetid(2)),
		"setresuid": full(sysSetid(3)), "setresgid": full(sysSetid(3)), "setfsuid": full(sysGetuid), "setfsgid": full(sysGetuid),
		"setgroups": full(sysSetid(0)),
	}
	for n, e := range creds {
		common[n] = e
		if k.cfg.Arch == I386 {
			common[n+"32"] = e
		}
	}
	for n, e := range xattrEntries() {
		common[n] = e
	}
	var arch map[string]entry
	if k.cfg.Arch == I386 {
		arch = map[string]entry{
			"mmap": partial(sysOldMmap, mmapNote), "mmap2": partial(sysMmap2, mmapNote), "_llseek": full(sysLlseek),
			"fstat64": full(sysFstat64), "fstatat64": full(sysFstatat64),
			"stat64": full(sysStat64), "lstat64": full(sysLstat64),
			"getdents": full(sysGetdents), "truncate64": full(sysTruncate64), "ftruncate64": full(sysFtruncate64),
			"statfs64": partial(sysStatfs64, "fixed figures per filesystem type"), "fstatfs64": partial(sysFstatfs64, "fixed figures per filesystem type"),
			"fadvise64_64": full(sysFadvise), "fadvise64": full(sysFadvise),
			"sendfile": full(sendfileHandler(false)), "sendfile64": full(sendfileHandler(true)),
			"chown32":          partial(chownHandler(true, false, false, id32), "an unprivileged guest can change nothing"),
			"lchown32":         partial(chownHandler(false, false, false, id32), "an unprivileged guest can change nothing"),
			"fchown32":         partial(chownHandler(true, false, true, id32), "an unprivileged guest can change nothing"),
			"chown":            partial(chownHandler(true, false, false, id16), "an unprivileged guest can change nothing"),
			"lchown":           partial(chownHandler(false, false, false, id16), "an unprivileged guest can change nothing"),
			"fchown":           partial(chownHandler(true, false, true, id16), "an unprivileged guest can change nothing"),
			"utimensat_time64": full(sysUtimensatTime64),
			"mkdir":            partial(sysMkdir, viewNote), "access": full(sysAccess), "truncate": full(sysTruncate),
			"chmod": full(sysChmod), "mknod": partial(sysMknod, "regular files and FIFOs; devices are EPERM"),
			"utimes":  full(sysUtimes),
			"fcntl64": partial(sysFcntl, fcntlNote), "_newselect": full(sysSelect), "select": full(sysOldSelect),
			"ppoll_time64": full(ppollHandler(true)), "pselect6_time64": full(pselect6Handler(true)),
			"socketcall": full(sysSocketcall), "waitpid": partial(sysWaitpid, waitNote),
			"recvmmsg_time64": full(recvmmsgHandler(true)),
			"sigreturn":       full(sysSigreturn), "signal": full(sysSignal), "sigaction": full(sysOldSigaction),
			"sigprocmask": full(sysOldSigprocmask), "sigsuspend": full(sysSigsuspend), "sigpending": full(sysOldSigpending),
			"rt_sigtimedwait_time64": full(sigtimedwaitHandler(true)),
			"timer_settime64":        full(timerSettimeHandler(true)), "timer_gettime64": full(timerGettimeHandler(true)),
			"timerfd_settime64": full(timerfdSettime(true)), "timerfd_gettime64": full(timerfdGettime(true)),
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
			"mmap": partial(sysMmap, mmapNote), "fstat": full(sysFstat), "newfstatat": full(sysNewfstatat),
			"stat": full(sysStat), "lstat": full(sysLstat),
			"getrlimit": partial(sysGetrlimit, limitsNote),
			"getdents":  full(sysGetdents), "access": full(sysAccess), "truncate": full(sysTruncate),
			"chmod": full(sysChmod), "mknod": partial(sysMknod, "regular files and FIFOs; devices are EPERM"),
			"fadvise64": full(sysFadvise), "sendfile": full(sendfileHandler(true)), "utimes": full(sysUtimes),
			"select": full(sysSelect),
			"chown":  partial(chownHandler(true, false, false, id32), "an unprivileged guest can change nothing"),
			"lchown": partial(chownHandler(false, false, false, id32), "an unprivileged guest can change nothing"),
			"fchown": partial(chownHandler(true, false, true, id32), "an unprivileged guest can change nothing"),
		}
	}
	for _, m := range []map[string]entry{common, arch} {
		for n, e := range m {
			k.table[n] = &Syscall{Name: n, Fn: e.fn, Support: e.support, Note: e.note}
		}
	}
}
