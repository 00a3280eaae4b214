package kernel

// Regs are a task's user registers as the kernel sees them on entry
// (struct pt_regs): the 64-bit names, whose low halves an i386 task uses.
// IP is where the task resumes: after the syscall instruction during a
// syscall. Segment selectors are read for signal frames; SetRegs does not
// load them (user code cannot change CS or SS, and the data segments of
// a flat-memory task only matter on i386, where the frames restore them).
type Regs struct {
	AX, BX, CX, DX, SI, DI, BP, SP       uint64
	R8, R9, R10, R11, R12, R13, R14, R15 uint64
	IP, Flags                            uint64
	CS, SS, DS, ES, FS, GS               uint64
	FSBase, GSBase                       uint64
}

// FPState is the x87 and SSE state in FXSAVE's layout, as a signal
// frame's fpstate holds it.
type FPState [512]byte

// RegsCPU is the full register access of the task a syscall serves, which
// signal delivery and sigreturn need (the exit-to-user point). Package emu
// implements it with CPU; tests may leave it out.
type RegsCPU interface {
	Regs() (Regs, error)
	SetRegs(r *Regs) error
	FPState(s *FPState) error
	SetFPState(s *FPState) error
}
