package kernel

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeSched is a Scheduler that records what the kernel asks of it.
type fakeSched struct {
	now     uint64 // fixed point
	woken   []wakeRecord
	cloned  []*Task
	waiting bool
	flushes int
}

type wakeRecord struct {
	tid int
	at  uint64
}

func (s *fakeSched) NowFP() uint64           { return s.now }
func (s *fakeSched) Wake(t *Task, at uint64) { s.woken = append(s.woken, wakeRecord{t.TID, at}) }
func (s *fakeSched) Waiting() bool           { return s.waiting }
func (s *fakeSched) CPUs() int               { return 4 }
func (s *fakeSched) TLBShootdown()           { s.flushes++ }
func (s *fakeSched) CurrentCPU() int         { return 0 }
func (s *fakeSched) TimerArmed(uint64)       {}
func (s *fakeSched) Clone(c *Task, _ uint64) error {
	s.cloned = append(s.cloned, c)
	return nil
}

func withSched(s Scheduler) harnessOption { return func(c *Config) { c.Sched = s } }

// fire runs every timer due at or before now.
func fire(k *Kernel, now uint64) {
	for {
		at, ok := k.NextTimerFP()
		if !ok || at > now {
			return
		}
		k.FireNextTimer()
	}
}

func TestTimersFireInDeadlineThenCreationOrder(t *testing.T) {
	h := newHarness(t, X8664)
	var order []int
	mk := func(id int) *Timer { return h.k.timers.newTimer(func(uint64) { order = append(order, id) }) }
	a, b, c, d := mk(1), mk(2), mk(3), mk(4)
	c.Arm(100)
	a.Arm(200)
	d.Arm(100)
	b.Arm(50)
	b.Arm(300) // re-arming moves it
	d.Disarm()
	at, ok := h.k.NextTimerFP()
	require.True(t, ok)
	assert.Equal(t, uint64(100), at)
	fire(h.k, 1000)
	assert.Equal(t, []int{3, 1, 2}, order)
	_, ok = h.k.NextTimerFP()
	assert.False(t, ok)
	_, armed := d.Armed()
	assert.False(t, armed)
}

func TestFutexWaitWakeAndTimeout(t *testing.T) {
	forEachArch(t, func(t *testing.T, h *harness) {
		s := &fakeSched{now: 1000 << 8}
		h.k.sched = s
		word := h.data([]byte{7, 0, 0, 0})
		other := h.k.NewTask(2000, nil)

		// A value that differs: EAGAIN at once.
		assert.Equal(t, h.errRet(syscall.EAGAIN), h.call("futex", word, futexWait, 6, 0))

		// A waiter without timeout sleeps until woken.
		_, res := h.sys("futex", word, futexWait, 7, 0)
		require.Equal(t, Block, res.Outcome)
		assert.Equal(t, TaskBlocked, h.th.State())
		s.now = 5000 << 8
		ret, _ := h.k.Syscall(other, nr(t, h.arch, "futex"), Args{word, futexWake, 1})
		assert.Equal(t, uint64(1), ret, "one waiter woken")
		assert.Equal(t, []wakeRecord{{testTID, 5000 << 8}}, s.woken, "ready at the waker's time")
		require.True(t, h.th.NeedsResume())
		ret, res = h.k.Resume(h.th)
		assert.Equal(t, Result{}, res)
		assert.Equal(t, uint64(0), ret)
		assert.False(t, h.th.NeedsResume())

		// A relative timeout of 1 us at 3 GHz: 3000 cycles later.
		ts := h.alloc(16)
		if h.arch == I386 {
			h.put(ts, le32(0, 1000))
		} else {
			h.put(ts, le64(0, 1000))
		}
		_, res = h.sys("futex", word, futexWait, 7, ts)
		require.Equal(t, Block, res.Outcome)
		at, ok := h.k.NextTimerFP()
		require.True(t, ok)
		assert.Equal(t, uint64(5000+3000)<<8, at)
		fire(h.k, at)
		assert.Equal(t, wakeRecord{testTID, at}, s.woken[1], "ready at the deadline")
		ret, _ = h.k.Resume(h.th)
		assert.Equal(t, h.errRet(syscall.ETIMEDOUT), ret)
		ret, _ = h.k.Syscall(other, nr(t, h.arch, "futex"), Args{word, futexWake, 1})
		assert.Equal(t, uint64(0), ret, "the timed-out waiter left the queue")
		assert.Empty(t, h.k.futexes)
	})
}

func TestCloneSharesOrCopiesTheDescriptorTable(t *testing.T) {
	h := newHarness(t, X8664, withSched(&fakeSched{}))
	threadFlags := uint64(cloneVM | cloneThread | cloneSighand)
	tid := h.call("clone", threadFlags|cloneFiles, 0, 0, 0, 0)
	shared := h.k.TaskByTID(int(tid))
	require.NotNil(t, shared)
	assert.Same(t, h.th.files, shared.files)
	assert.Same(t, h.th.sighand, shared.sighand)
	assert.Same(t, h.th.Process(), shared.Process())

	tid = h.call("clone", threadFlags, 0, 0, 0, 0)
	own := h.k.TaskByTID(int(tid))
	require.NotNil(t, own)
	assert.NotSame(t, h.th.files, own.files)
	assert.Same(t, h.th.files.Get(1), own.files.Get(1), "the copy refers to the same descriptions")
	assert.Equal(t, 2, h.th.files.Get(1).refs, "the shared table and the copy")

	// The copy is private: closing in it leaves the original open.
	_, _ = h.k.Syscall(own, nr(t, X8664, "close"), Args{1})
	assert.Nil(t, own.files.Get(1))
	assert.NotNil(t, h.th.files.Get(1))
	assert.Equal(t, 1, h.th.files.Get(1).refs)

	assert.Equal(t, h.errRet(syscall.ENOSYS), h.call("clone", 0x11, 0, 0, 0, 0), "a new process")
	assert.Equal(t, h.errRet(syscall.EINVAL), h.call("clone", cloneVM|cloneThread, 0, 0, 0, 0), "CLONE_THREAD without CLONE_SIGHAND")
}

// A new process (fork, vfork, posix_spawn's CLONE_VM|CLONE_VFORK, clone3
// with SIGCHLD) needs a machine that runs address spaces (MMScheduler):
// without one it is ENOSYS, counted. (The machine's forks are tested in
// package smp and with the process fixtures.)
func TestNewProcessIsCountedUnsupported(t *testing.T) {
	h := newHarness(t, X8664)
	const sigchld = 17
	assert.Equal(t, h.errRet(syscall.ENOSYS), h.call("clone", 0x1200000|sigchld, 0, 0, 0, 0), "glibc's fork")
	assert.Equal(t, h.errRet(syscall.ENOSYS), h.call("clone", cloneVM|cloneVFork|sigchld, 0, 0, 0, 0), "posix_spawn")
	args := make([]byte, 88)
	args[32] = sigchld // exit_signal
	assert.Equal(t, h.errRet(syscall.ENOSYS), h.call("clone3", h.data(args), 88), "clone3 fork")
	assert.Equal(t, h.errRet(syscall.EINVAL), h.call("clone", cloneSighand, 0, 0, 0, 0), "CLONE_SIGHAND without CLONE_VM")
	assert.Equal(t, map[string]uint64{"clone:new process without a machine": 2, "clone3:new process without a machine": 1},
		h.k.Unsupported())
	assert.Equal(t, h.errRet(syscall.EINVAL), h.call("clone", 0x20000000|sigchld, 0, 0, 0, 0), "CLONE_NEWPID")
}

func TestExitTaskClearsAndWakesChildTID(t *testing.T) {
	s := &fakeSched{}
	h := newHarness(t, X8664, withSched(s))
	word := h.data([]byte{0x2a, 0, 0, 0})
	waiter := h.k.NewTask(1100, nil)
	_, res := h.k.Syscall(waiter, nr(t, X8664, "futex"), Args{word, futexWait, 0x2a})
	require.Equal(t, Block, res.Outcome)
	h.th.ClearChildTID = word
	live := h.k.self().Live()
	assert.False(t, h.k.ExitTask(h.th, 3))
	assert.Equal(t, TaskExited, h.th.State())
	assert.Equal(t, 3, h.th.ExitStatus())
	assert.Equal(t, live-1, h.k.self().Live())
	assert.Equal(t, []byte{0, 0, 0, 0}, h.get(word, 4))
	assert.Equal(t, []wakeRecord{{1100, 0}}, s.woken)
}

func TestMemorySyscallsShootDownTLBs(t *testing.T) {
	s := &fakeSched{}
	h := newHarness(t, X8664, withSched(s))
	addr := h.call("mmap", 0, 0x3000, 3, 0x22, ^uint64(0), 0)
	h.call("mprotect", addr, 0x1000, 1)
	h.call("madvise", addr, 0x1000, 4) // MADV_DONTNEED
	h.call("madvise", addr, 0x1000, 0) // MADV_NORMAL: nothing to flush
	h.call("munmap", addr, 0x3000)
	assert.Equal(t, 3, s.flushes)
	h.as.SetBrkBase(0x601000)
	base := h.call("brk", 0)
	h.call("brk", base+0x2000)
	assert.Equal(t, 3, s.flushes, "growing brk flushes nothing")
	h.call("brk", base)
	assert.Equal(t, 4, s.flushes, "shrinking brk does")
}
