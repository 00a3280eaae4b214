package kernel

import (
	"strconv"

	"github.com/probesim/probesim/kernel/vfs"
)

// /sys: only what C libraries and runtimes ask at start, for the modelled
// machine: /sys/devices/system/cpu (online, possible, present, offline,
// kernel_max and a cpuN directory per vCPU, which is how glibc counts
// configured and online CPUs) and /sys/kernel/mm/transparent_hugepage
// (the Go runtime reads hpage_pmd_size). Everything else is ENOENT.

func (k *Kernel) buildSys() *vfs.Node {
	fs := k.fs
	dir := func(name string) *vfs.Node { return fs.NewDir(name, 0o755, vfs.DevSys) }
	file := func(name, text string) *vfs.Node {
		return fs.NewGenerated(name, 0o444, vfs.DevSys, func() []byte { return []byte(text) })
	}
	sys := dir("sys")
	devices, system, cpu := dir("devices"), dir("system"), dir("cpu")
	sys.AddChild(devices)
	devices.AddChild(system)
	system.AddChild(cpu)
	n := k.sched.CPUs()
	list := cpuList(n) + "\n"
	for _, f := range []struct{ name, text string }{
		{"online", list}, {"possible", list}, {"present", list}, {"offline", "\n"}, {"kernel_max", "8191\n"},
	} {
		cpu.AddChild(file(f.name, f.text))
	}
	for i := 0; i < n; i++ {
		c := dir("cpu" + strconv.Itoa(i))
		if i > 0 {
			c.AddChild(file("online", "1\n"))
		}
		cpu.AddChild(c)
	}
	kern, mm, thp := dir("kernel"), dir("mm"), dir("transparent_hugepage")
	sys.AddChild(kern)
	kern.AddChild(mm)
	mm.AddChild(thp)
	thp.AddChild(file("enabled", "always [madvise] never\n"))
	thp.AddChild(file("hpage_pmd_size", "2097152\n"))
	return sys
}
