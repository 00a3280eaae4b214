package kernel

// CPU is the part of a vCPU's state that syscalls change beyond the return
// register. Package emu implements it over the Unicorn engine.
type CPU interface {
	// SetFSBase sets the FS segment base (x86-64 TLS, arch_prctl).
	SetFSBase(base uint64) error
	// SetGSBase sets the GS segment base (arch_prctl ARCH_SET_GS).
	SetGSBase(base uint64) error
	// WriteGDTEntry installs the 8-byte descriptor at GDT index idx so that a
	// later segment load by the guest sees it (i386 TLS, set_thread_area).
	WriteGDTEntry(idx int, desc uint64) error
}

// Thread is the kernel's per-thread state (a task_struct, reduced to what
// probesim models).
type Thread struct {
	TID int
	CPU CPU
	// ClearChildTID is the set_tid_address / CLONE_CHILD_CLEARTID word,
	// cleared and futex-woken when the thread exits.
	ClearChildTID uint64
	RobustList    uint64
	SigMask       uint64
	FSBase        uint64
	GSBase        uint64
	// TLS holds the three i386 TLS descriptors (GDT_ENTRY_TLS_MIN ..
	// GDT_ENTRY_TLS_MAX), which the scheduler must reinstall in the GDT when
	// it switches threads, as switch_to() does with load_TLS().
	TLS [TLSEntries]TLSDesc
	// CPUCycles returns the cycles this thread has run (CLOCK_THREAD_CPUTIME_ID).
	CPUCycles func() uint64
}

// NewThread returns a thread with the given id running on cpu.
func NewThread(tid int, cpu CPU) *Thread {
	return &Thread{TID: tid, CPU: cpu}
}
