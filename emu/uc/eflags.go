package uc

// The EFLAGS repair.
//
// Unicorn 2.1.1 (QEMU 5's i386 translator) calls the cmpxchg8b and
// cmpxchg16b helpers without first storing the block's current
// condition-code operation into the CPU state: the helper computes the
// flags it keeps (all but ZF) from the operation of the previous block
// end, applied to the operands the current block left. When that stale
// operation is CC_OP_EFLAGS (the state after a cmpxchg8b, a popf, or at
// the start of every run), the "flags" are a raw operand: Go's 386
// atomic.Xadd64(p, -1) (adc edi, ecx with edi = 0xffffffff; then lock
// cmpxchg8b) leaves EFLAGS = 0xffffffff. ZF is right, so the guest's own
// loop works, and the next flag-setting instruction replaces the value;
// but if the run stops before that, Unicorn folds the value into the
// saved flags (cpu_exec_exit), and the next run starts with TF (a #DB
// after one instruction: a SIGTRAP the program never asked for), DF, AC,
// NT and VM set (TestCmpxchg8bCorruptsEFlags). A stop right there is
// rare in fast mode and routine in lockstep, which stops at every block.
//
// probesim_emu_start (eflags.c) repairs it after every uc_emu_start: a
// run that ends with an EFLAGS bit no user task can hold (bit 3, 5 or
// 15, IOPL, NT, RF, VM, VIF, VIP, bit 22 and up) had its flags
// corrupted; they are rewritten with those bits cleared and the control
// bits a user task may hold (TF, DF, AC, ID) as they were before the run.
// The arithmetic flags (CF, PF, AF, SF, OF) stay as computed: wrong, as
// they are after any such cmpxchg8b, and rewritten by the next
// arithmetic instruction. A corruption that sets only user-holdable bits
// (an operand whose bits fall only there) is not detected. The two reads
// happen in C, inside the run's one cgo call.

// EFlagsRepairs is how many runs ended with corrupted EFLAGS that were
// repaired.
func (e *Engine) EFlagsRepairs() uint64 { return e.flagRepairs }
