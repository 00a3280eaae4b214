package kernel

// registerBase installs the syscalls probesim implements for k's ABI.
// Handlers are keyed by the name the kernel headers give the number, so one
// name can mean different things on the two ABIs (i386 "mmap" is old_mmap).
func registerBase(k *Kernel) {
	common := map[string]Handler{
		"read": sysRead, "write": sysWrite, "writev": sysWritev,
		"open": sysOpen, "openat": sysOpenat, "close": sysClose, "lseek": sysLseek,
		"ioctl": sysIoctl, "readlink": sysReadlink, "readlinkat": sysReadlinkat,
		"statx": sysStatx,
		"exit":  sysExit, "exit_group": sysExitGroup,
		"brk": sysBrk, "munmap": sysMunmap, "mprotect": sysMprotect, "madvise": sysMadvise,
		"set_tid_address": sysSetTidAddress, "set_robust_list": sysSetRobustList,
		"rseq":         sysENOSYS,
		"prlimit64":    sysPrlimit64,
		"getrandom":    sysGetrandom,
		"rt_sigaction": sysRtSigaction, "rt_sigprocmask": sysRtSigprocmask,
		"kill": sysKill, "tkill": sysTkill, "tgkill": sysTgkill,
		"clock_gettime": sysClockGettime, "clock_getres": sysClockGetres,
		"gettimeofday": sysGettimeofday, "time": sysTime,
		"uname": sysUname, "getpid": sysGetpid, "gettid": sysGettid, "getppid": sysGetppid,
		"sched_yield": sysSchedYield,
		// Registered for i386 too, where every code probesim sees is EINVAL
		// (the compat arch_prctl knows only CPUID and feature codes), not
		// an unsupported syscall.
		"arch_prctl": sysArchPrctl,
	}
	for _, n := range []string{"getuid", "geteuid", "getgid", "getegid"} {
		common[n] = sysGetuid
	}
	var arch map[string]Handler
	if k.cfg.Arch == I386 {
		arch = map[string]Handler{
			"mmap": sysOldMmap, "mmap2": sysMmap2, "_llseek": sysLlseek,
			"fstat64": sysFstat64, "fstatat64": sysFstatat64,
			"ugetrlimit": sysGetrlimit, "getrlimit": sysOldGetrlimit,
			"set_thread_area": sysSetThreadArea, "get_thread_area": sysGetThreadArea,
			"clock_gettime64": sysClockGettime64, "clock_getres_time64": sysClockGetresTime64,
		}
		for _, n := range []string{"getuid32", "geteuid32", "getgid32", "getegid32"} {
			arch[n] = sysGetuid
		}
	} else {
		arch = map[string]Handler{
			"mmap": sysMmap, "fstat": sysFstat, "newfstatat": sysNewfstatat,
			"getrlimit": sysGetrlimit,
		}
	}
	for n, h := range common {
		k.handlers[n] = h
	}
	for n, h := range arch {
		k.handlers[n] = h
	}
}
