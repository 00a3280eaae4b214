package kernel

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/probesim/probesim/kernel/vfs"
)

// /proc: the guest's own view (fs/proc), produced from the kernel's state
// when a file is opened: /proc/self and /proc/thread-self, /proc/<pid>
// (and /proc/<tid> for every thread) with maps, exe, cwd, fd/N, status,
// stat, statm, cmdline, comm, environ and mounts, the task/ directory,
// and the system files cpuinfo, meminfo, stat, uptime, version, loadavg
// and mounts. Identities are the modelled ones (PID, UID, vCPU count,
// modelled CPU); nothing is read from the host's /proc.

func (k *Kernel) buildProc() *vfs.Node {
	r := &procRoot{k: k}
	return k.fs.NewDynDir("proc", 0o555, vfs.DevProc, r)
}

type procRoot struct {
	k     *Kernel
	cache vfs.DynCache
}

var procSystemFiles = []string{"cpuinfo", "loadavg", "meminfo", "mounts", "self", "stat", "thread-self", "uptime", "version"}

func (r *procRoot) List() []string {
	return append([]string{strconv.Itoa(r.k.self().TGID)}, procSystemFiles...)
}

func (r *procRoot) Lookup(name string) *vfs.Node {
	k, fs := r.k, r.k.fs
	switch name {
	case "self":
		return r.cache.Get(name, func() *vfs.Node {
			return fs.NewLink(name, vfs.DevProc, func() string { return strconv.Itoa(k.self().TGID) })
		})
	case "thread-self":
		return r.cache.Get(name, func() *vfs.Node {
			return fs.NewLink(name, vfs.DevProc, func() string {
				tid := k.self().TGID
				if k.cur != nil {
					tid = k.cur.TID
				}
				return strconv.Itoa(k.self().TGID) + "/task/" + strconv.Itoa(tid)
			})
		})
	case "mounts":
		return r.cache.Get(name, func() *vfs.Node {
			return fs.NewLink(name, vfs.DevProc, func() string { return "self/mounts" })
		})
	case "cpuinfo", "meminfo", "stat", "uptime", "version", "loadavg":
		return r.cache.Get(name, func() *vfs.Node {
			return fs.NewGenerated(name, 0o444, vfs.DevProc, func() []byte { return []byte(k.procSystemFile(name)) })
		})
	}
	id, err := strconv.Atoi(name)
	if err != nil || strconv.Itoa(id) != name {
		return nil
	}
	t := k.tasks[id]
	if id == k.self().TGID && len(k.self().tasks) > 0 {
		t = k.self().tasks[0] // the group leader, even once it exited
	} else if t == nil || t.state == TaskExited {
		return nil
	}
	return r.cache.Get(name, func() *vfs.Node { return k.procPidDir(name, t, true) })
}

// procPidDir is /proc/<pid> (process true: with task/) or
// /proc/<pid>/task/<tid>.
func (k *Kernel) procPidDir(name string, t *Task, process bool) *vfs.Node {
	d := &procPid{k: k, t: t, process: process}
	n := k.fs.NewDynDir(name, 0o555, vfs.DevProc, d)
	n.SetOwner(uint32(k.cfg.UID), uint32(k.cfg.UID))
	return n
}

type procPid struct {
	k       *Kernel
	t       *Task
	process bool
	cache   vfs.DynCache
}

var procPidFiles = []string{"cmdline", "comm", "cwd", "environ", "exe", "fd", "maps", "mounts", "stat", "statm", "status"}

func (p *procPid) List() []string {
	if p.process {
		return append(append([]string{}, procPidFiles...), "task")
	}
	return procPidFiles
}

func (p *procPid) Lookup(name string) *vfs.Node {
	k, fs, t := p.k, p.k.fs, p.t
	own := func(n *vfs.Node) *vfs.Node {
		n.SetOwner(uint32(k.cfg.UID), uint32(k.cfg.UID))
		return n
	}
	gen := func(perm uint32, f func() string) *vfs.Node {
		return p.cache.Get(name, func() *vfs.Node {
			return own(fs.NewGenerated(name, perm, vfs.DevProc, func() []byte { return []byte(f()) }))
		})
	}
	switch name {
	case "maps":
		return gen(0o444, func() string { return t.tg.mm.MapsText() })
	case "cmdline":
		return gen(0o444, func() string { return nulJoin(t.tg.argv) })
	case "environ":
		return gen(0o400, func() string { return nulJoin(t.tg.envp) })
	case "comm":
		return gen(0o644, func() string { return t.name() + "\n" })
	case "status":
		return gen(0o444, func() string { return k.procStatus(t) })
	case "stat":
		return gen(0o444, func() string { return k.procStat(t) })
	case "statm":
		return gen(0o444, func() string { return k.procStatm() })
	case "mounts":
		return gen(0o444, k.procMounts)
	case "exe":
		return p.cache.Get(name, func() *vfs.Node {
			return own(fs.NewMagicLink(name, vfs.DevProc, func() string { return t.tg.exe }, func() *vfs.Node {
				n, _ := fs.Lookup(nil, t.tg.exe, true)
				return n
			}))
		})
	case "cwd":
		return p.cache.Get(name, func() *vfs.Node {
			return own(fs.NewMagicLink(name, vfs.DevProc, func() string { return t.fsc.cwd.Path() },
				func() *vfs.Node { return t.fsc.cwd }))
		})
	case "fd":
		return p.cache.Get(name, func() *vfs.Node {
			return own(fs.NewDynDir(name, 0o500, vfs.DevProc, &procFD{k: k, t: t}))
		})
	case "task":
		if !p.process {
			return nil
		}
		return p.cache.Get(name, func() *vfs.Node {
			return own(fs.NewDynDir(name, 0o555, vfs.DevProc, &procTasks{k: k}))
		})
	}
	return nil
}

// procTasks is /proc/<pid>/task: a directory per live thread.
type procTasks struct {
	k     *Kernel
	cache vfs.DynCache
}

func (p *procTasks) List() []string {
	var out []string
	for _, t := range p.k.self().tasks {
		if t.state != TaskExited {
			out = append(out, strconv.Itoa(t.TID))
		}
	}
	return out
}

func (p *procTasks) Lookup(name string) *vfs.Node {
	id, err := strconv.Atoi(name)
	if err != nil {
		return nil
	}
	t := p.k.tasks[id]
	if t == nil || t.state == TaskExited {
		return nil
	}
	return p.cache.Get(name, func() *vfs.Node { return p.k.procPidDir(name, t, false) })
}

// procFD is /proc/<pid>/fd: a magic link per open descriptor.
type procFD struct {
	k     *Kernel
	t     *Task
	nodes map[uint64]*vfs.Node // by descriptor, while it refers to Private
}

func (p *procFD) List() []string {
	var out []string
	for i, s := range p.t.files.slots {
		if s.fd != nil {
			out = append(out, strconv.Itoa(i))
		}
	}
	return out
}

func (p *procFD) Lookup(name string) *vfs.Node {
	fd, err := strconv.ParseUint(name, 10, 32)
	if err != nil || strconv.FormatUint(fd, 10) != name {
		return nil
	}
	f := p.t.files.Get(fd)
	if f == nil {
		return nil
	}
	if n := p.nodes[fd]; n != nil && n.Private == f {
		return n
	}
	n := p.k.fs.NewMagicLink(name, vfs.DevProc, func() string { return fdLinkText(f) }, func() *vfs.Node { return fdTarget(f) })
	n.SetOwner(uint32(p.k.cfg.UID), uint32(p.k.cfg.UID))
	n.Private = f
	if p.nodes == nil {
		p.nodes = map[uint64]*vfs.Node{}
	}
	p.nodes[fd] = n
	return n
}

// fdLinkText is what readlink of /proc/<pid>/fd/N shows (d_path, or the
// name of an anonymous inode).
func fdLinkText(f *FileDescription) string {
	if l, ok := f.impl.(interface{ linkText() string }); ok {
		return l.linkText()
	}
	if n := fileNode(f); n != nil {
		if n.Removed() {
			return n.Path() + " (deleted)"
		}
		return n.Path()
	}
	return "anon_inode:[unknown]"
}

// fdTarget is the node following /proc/<pid>/fd/N lands on.
func fdTarget(f *FileDescription) *vfs.Node {
	if l, ok := f.impl.(interface{ linkNode() *vfs.Node }); ok {
		return l.linkNode()
	}
	return fileNode(f)
}

func nulJoin(ss []string) string {
	var b strings.Builder
	for _, s := range ss {
		b.WriteString(s)
		b.WriteByte(0)
	}
	return b.String()
}

// comm is the task name: the program's file name, cut to TASK_COMM_LEN-1.
func (k *Kernel) comm() string {
	c := path.Base(k.cfg.ExePath)
	if len(c) > 15 {
		c = c[:15]
	}
	return c
}

func (k *Kernel) procStatus(t *Task) string {
	st := k.mm().Stats()
	state := "R (running)"
	if t.state == TaskBlocked {
		state = "S (sleeping)"
	}
	uid := k.cfg.UID
	kb := func(b uint64) string { return fmt.Sprintf("%8d kB", b/1024) }
	var caught, ignored uint64
	for sig := 1; sig <= numSignals; sig++ {
		switch t.sighand.actions[sig].Handler {
		case sigDFL:
		case sigIGN:
			ignored |= 1 << (sig - 1)
		default:
			caught |= 1 << (sig - 1)
		}
	}
	cpus := k.sched.CPUs()
	return fmt.Sprintf("Name:\t%s\nUmask:\t%04o\nState:\t%s\nTgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t0\nTracerPid:\t0\n"+
		"Uid:\t%d\t%d\t%d\t%d\nGid:\t%d\t%d\t%d\t%d\nFDSize:\t%d\nGroups:\t%d \nNStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\n"+
		"VmPeak:\t%s\nVmSize:\t%s\nVmLck:\t%s\nVmPin:\t%s\nVmHWM:\t%s\nVmRSS:\t%s\nVmData:\t%s\nVmStk:\t%s\n"+
		"Threads:\t%d\nSigQ:\t0/95000\nSigPnd:\t%016x\nShdPnd:\t%016x\nSigBlk:\t%016x\nSigIgn:\t%016x\nSigCgt:\t%016x\n"+
		"CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t000001ffffffffff\n"+
		"CapAmb:\t0000000000000000\nNoNewPrivs:\t0\nSeccomp:\t0\nCpus_allowed:\t%x\nCpus_allowed_list:\t%s\n"+
		"voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n",
		k.comm(), t.fsc.umask, state, t.tg.TGID, t.TID, uid, uid, uid, uid, uid, uid, uid, uid,
		max(64, len(t.files.slots)), uid, t.tg.TGID, t.TID, t.tg.TGID, t.tg.TGID,
		kb(st.PeakMappedBytes), kb(st.MappedBytes), kb(0), kb(0), kb(st.PeakRSSPages*4096),
		kb(st.RSSPages*4096), kb(st.MappedBytes), kb(k.mm().StackLimit()),
		t.tg.live, t.pendingMask(), t.tg.pendingMask(), t.SigMask, ignored, caught,
		uint64(1)<<cpus-1, cpuList(cpus))
}

func cpuList(n int) string {
	if n == 1 {
		return "0"
	}
	return "0-" + strconv.Itoa(n-1)
}

func (k *Kernel) procStat(t *Task) string {
	st := k.mm().Stats()
	state := "R"
	if t.state == TaskBlocked {
		state = "S"
	}
	ticks := func(cycles uint64) uint64 { return k.nanos(cycles) / 10_000_000 } // USER_HZ 100
	var utime uint64
	if t.CPUCycles != nil {
		utime = ticks(t.CPUCycles())
	}
	return fmt.Sprintf("%d (%s) %s 0 %d %d 0 -1 4194304 0 0 0 0 %d 0 0 0 20 0 %d 0 0 %d %d 18446744073709551615 "+
		"0 0 0 0 0 0 %d %d %d 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
		t.TID, k.comm(), state, t.tg.TGID, t.tg.TGID, utime, t.tg.live, st.MappedBytes, st.RSSPages,
		t.pendingMask(), t.SigMask, 0)
}

func (k *Kernel) procStatm() string {
	st := k.mm().Stats()
	return fmt.Sprintf("%d %d %d 0 0 %d 0\n", st.MappedBytes/4096, st.RSSPages, st.FilePTEs, st.MappedBytes/4096)
}

func (k *Kernel) procMounts() string {
	return "/dev/sda1 / ext4 ro,relatime 0 0\nproc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n" +
		"sysfs /sys sysfs ro,nosuid,nodev,noexec,relatime 0 0\nudev /dev devtmpfs rw,nosuid,relatime 0 0\n" +
		"tmpfs /tmp tmpfs rw,nosuid,nodev 0 0\n"
}

// procSystemFile produces /proc/cpuinfo, meminfo, stat, uptime, version
// and loadavg.
func (k *Kernel) procSystemFile(name string) string {
	now := k.nanos(k.cfg.Clock())
	switch name {
	case "cpuinfo":
		return k.cpuinfoText()
	case "meminfo":
		total := k.cfg.PhysMemory / 1024
		used := k.mm().Phys().UsedPages() * 4 // the machine's, shared pages once
		free := total - min(total, used)
		return fmt.Sprintf("MemTotal:       %8d kB\nMemFree:        %8d kB\nMemAvailable:   %8d kB\n"+
			"Buffers:               0 kB\nCached:                0 kB\nSwapCached:            0 kB\n"+
			"SwapTotal:             0 kB\nSwapFree:              0 kB\nShmem:                 0 kB\n"+
			"CommitLimit:    %8d kB\nCommitted_AS:   %8d kB\nHugePages_Total:       0\nHugePages_Free:        0\n"+
			"Hugepagesize:       2048 kB\n", total, free, free, total, k.mm().Stats().MappedBytes/1024)
	case "stat":
		var b strings.Builder
		user := now / 10_000_000
		fmt.Fprintf(&b, "cpu  %d 0 0 0 0 0 0 0 0 0\n", user)
		for i := 0; i < k.sched.CPUs(); i++ {
			fmt.Fprintf(&b, "cpu%d %d 0 0 0 0 0 0 0 0 0\n", i, user)
		}
		fmt.Fprintf(&b, "intr 0\nctxt 0\nbtime %d\nprocesses %d\nprocs_running 1\nprocs_blocked 0\nsoftirq 0\n",
			Epoch, len(k.tasks))
		return b.String()
	case "uptime":
		return fmt.Sprintf("%d.%02d 0.00\n", now/1e9, now%1e9/1e7)
	case "version":
		return "Linux version " + utsname[2] + " (probesim) " + utsname[3] + "\n"
	case "loadavg":
		return fmt.Sprintf("0.00 0.00 0.00 1/%d %d\n", k.self().live, k.nextTID-1)
	}
	return ""
}
