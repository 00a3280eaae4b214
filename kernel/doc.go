// Package kernel is probesim's model of the Linux kernel: one Kernel is
// the system (the view, pipes' inode numbers, the network, the futex
// queues keyed by (mm, address), the clock, the syscall table), serving
// every process of the simulation, in the shape of Linux's own objects
// (and of gVisor's pkg/sentry/kernel, whose structure it follows at a much
// smaller scale):
//
//   - Task (task.go): one thread of execution, with its signal mask and
//     pending signals, alternate signal stack, TLS, clear-child-tid word,
//     robust list, and the objects it shares or owns;
//   - Process (threadgroup.go): the process, whose TGID is Config.PID,
//     with its process-wide pending signals and its count of live threads
//     (tasks are reaped when they exit, process.go); the process's interval
//     and POSIX timers (itimer.go) are the Kernel's, as there is one;
//   - the address space, mmu.AddressSpace (Config.Mem), shared by every
//     task (only CLONE_VM threads exist), with file-backed private
//     mappings read on first touch (memory.go);
//   - FDTable (fdtable.go) of reference-counted FileDescriptions (file.go),
//     each pointing at a FileImpl: a standard stream, a file or directory
//     of the view (openfile.go, dirfile.go), a pipe or FIFO (pipe.go,
//     fifo.go), a socket (socket.go), an eventfd, a timerfd, an epoll
//     instance, a synthetic /proc, /sys or /dev file. Readiness is a
//     FileImpl's Readiness and its wait queue (waitqueue.go), so poll,
//     select, epoll, O_NONBLOCK and blocking work on every kind alike;
//   - the simulated network (socknames.go): AF_UNIX sockets bound in the
//     view or the abstract namespace, and per-protocol port tables of the
//     loopback TCP and UDP sockets (sockconn.go, sockio.go, sockmsg.go,
//     sockopt.go; i386's socketcall in socketcall.go);
//   - fsContext (fsctx.go): the working directory and umask, shared per
//     CLONE_FS, over the filesystem view (package kernel/vfs);
//   - SignalHandlers (signals.go): the dispositions, shared per
//     CLONE_SIGHAND;
//   - timers in simulated time (timer.go), futex queues (futex.go), and
//     blocking with wake-up (block.go).
//
// clone (clone.go) shares or copies each object as its CLONE_* flags say.
//
// # How a syscall runs
//
// The package has no cgo and knows nothing of Unicorn. A caller (package
// emu) reads the syscall number and arguments out of the vCPU registers,
// calls Kernel.Syscall, writes the return value back, and acts on the
// Result (continue, block, end the task, end the process, or kill it with a
// signal). Syscall looks the number up in the ABI's table (table.go), whose
// entries carry a support level and a note (Kernel.Table); a number
// without an entry is ENOSYS and counted in Unsupported by name, and a
// flag, command or case an entry does not model gets the errno Linux
// gives without the feature and is counted as "name:detail", so a report
// shows exactly what the guest missed. What the kernel accepts without
// modelling it beyond success (an advisory lock) is counted in Notes.
// Whatever a syscall does to a task's CPU state beyond the return value
// (the FS base, a GDT descriptor, a signal frame) goes through the CPU
// and RegsCPU interfaces (regs.go).
//
// A syscall that must wait blocks the task (block.go): it records how to
// finish and returns Outcome Block, after putting the task on the wait
// queues or the timer it waits for. Wakers (a futex wake, a pipe write, a
// timer, a signal) make the task runnable through the Scheduler (sched.go),
// which package smp implements; when the machine loads the task again it
// calls Resume, and the syscall finishes then, in global cycle order.
//
// After every syscall and at the start of every slice the task returns to
// user mode through ExitToUser (deliver.go), which is where signals are
// delivered as Linux's exit_to_user_mode_loop delivers them: an
// interrupted syscall is restarted or fails with EINTR (restart.go), and a
// handler gets Linux's frame (rt_sigframe on x86-64, sigframe or
// rt_sigframe on i386, with the FPU state) on its stack or on the
// alternate one; rt_sigreturn and sigreturn restore from it. A task a
// probe single-steps keeps its signals pending until the step ends
// (uprobe_deny_signal).
//
// # Determinism
//
// Time comes from the simulated cycle clock (Config.Clock and
// Config.FreqHz, starting at Epoch), randomness (AT_RANDOM, getrandom,
// /dev/urandom) from a generator seeded with Config.Seed, identities are
// fixed (PID, UID, the parent is init), and the files of the view have
// inode numbers derived from their paths and timestamps at Epoch unless the
// host's are asked for (kernel/vfs). Host files are read, never written
// outside a read-write mount, and every host file whose contents the guest
// read is listed with its size and sha256 (FS().HostReads). Directory entries
// come in name order. Timers due at the same cycle fire in creation order,
// futex waiters and wait-queue entries wake FIFO. The same inputs
// therefore produce the same syscall results on every host.
//
// # Deviations from Linux
//
//   - Processes: the first leads its own group and session and its
//     parent is init (pid 1), which is outside the simulation and reaps
//     orphans at once. No job control: WUNTRACED and WCONTINUED are
//     accepted and never report. The core-dump bit of a wait status is
//     never set (RLIMIT_CORE is 0). Shared futexes are keyed like private
//     ones, by (mm, address), so they do not wake across processes.
//     Namespaces, pidfds, CLONE_PARENT and CLONE_PTRACE are EINVAL,
//     counted; execve of the other ABI is ENOEXEC, counted.
//   - Standard descriptors 0, 1 and 2 always stat as pipes (S_IFIFO), so a
//     glibc or musl guest picks the same stdio buffering whether or not
//     probesim itself runs on a terminal; no descriptor is a terminal.
//   - Files: host device nodes, FIFOs and sockets of the view cannot be
//     opened (ENXIO); /dev has null, zero, full, random and urandom (the
//     latter two seeded) and a tty that cannot be opened. File mappings go through a page cache shared
//     by every mapping of a file (memory.go, mmu/pagecache.go): private
//     pages are copied at their first write, shared stores are read(2)
//     at once and written back to the view at msync, fsync, sync and the
//     last unmap of the page; /proc/self/maps shows dev:inode as 00:00 0. Locks (fcntl, flock) always succeed, as for a
//     process without contention, and are noted (also across processes). st_blocks counts
//     whole 4 KiB blocks (no sparse files).
//   - Signals: the frame's setup is not charged beyond the syscall or
//     exception that delivers it; the i386 sigreturn restores the FPU from
//     the frame's FXSAVE image only, and neither sigreturn reloads segment
//     selectors. ERESTART_RESTARTBLOCK restarts with the original
//     arguments, not restart_syscall's remaining time: a relative sleep a
//     signal woke without running a handler (one a thread-directed kill
//     woke and that turned out ignored) sleeps its whole duration again.
//   - The process CPU-time clocks are the machine's cycle clock for the
//     process and the task's own cycles for a thread; clock_nanosleep on
//     the process CPU clock is EINVAL (counted).
//   - Sockets are simulated in-process and never reach the host: AF_UNIX
//     (stream, datagram, seqpacket) and AF_INET/AF_INET6 TCP and UDP whose
//     peers are loopback addresses (127.0.0.0/8, ::1; the unspecified
//     address means loopback, as Linux connects to it). A destination off
//     the host is ENETUNREACH and a bind to a non-local address
//     EADDRNOTAVAIL, counted; other families are EAFNOSUPPORT and raw
//     sockets EPERM, counted. A TCP connection is established during
//     connect (a non-blocking one still says EINPROGRESS, with SO_ERROR and
//     writability as net/ipv4/tcp_input.c leaves them once the SYN-ACK
//     is in), without retransmission, TIME_WAIT (a closed socket frees its
//     port at once), Nagle or congestion control; the receiver's SO_RCVBUF
//     is the only flow control, for AF_UNIX streams too (Linux bounds the
//     sender's SO_SNDBUF, counting skb overhead). Closing with unread data
//     or a zero linger resets the peer (tcp_close); a send to a peer
//     closed is taken and answered by a reset, so the next send is
//     ECONNRESET and the one after EPIPE, as tcp_sendmsg sees them. UDP
//     drops on a full receive buffer; a connected UDP socket sending to a
//     closed port gets ECONNREFUSED on its next call (the ICMP error).
//     Ephemeral ports count up from 32768 (ip_local_port_range) and
//     autobound AF_UNIX names from 00000, where Linux randomises. A
//     blocked connect waiting for room in a full accept queue is taken
//     back out by a signal (Linux lets the handshake go on), and
//     SO_SNDTIMEO does not bound that wait (only sends). SO_RCVLOWAT
//     above 1, MSG_OOB, MSG_FASTOPEN, IP-level control messages, multicast
//     and the timestamping, filter and busy-poll options are not modelled
//     (counted); TCP_CORK is kept and noted but delays nothing;
//     descriptors in flight in an unreachable cycle of AF_UNIX sockets are
//     freed with the process (no unix_gc). Binding a socket in a
//     read-write mount is EPERM (the socket inode would be the host's).
//     Socket timeouts are kept in
//     jiffies of HZ 250, Debian's CONFIG_HZ (a host built with another HZ
//     rounds SO_RCVTIMEO differently).
//   - rseq is ENOSYS (glibc copes); mremap resizes and moves private
//     anonymous memory only (mremap.go; a file or shared mapping is
//     ENOSYS, counted, and glibc's realloc falls back to copying); robust
//     futexes are cleaned at thread exit, priority-inheritance futexes are
//     ENOSYS.
//
// # Locking
//
// A Kernel is not safe for concurrent use. The machine (package smp) runs
// one vCPU at a time and calls into the kernel from that single goroutine.
package kernel
