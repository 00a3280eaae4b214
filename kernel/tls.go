package kernel

import (
	"encoding/binary"
	"syscall"
)

// i386 TLS descriptors live in three GDT slots. probesim uses the numbers an
// ia32 task sees on an x86-64 kernel (arch/x86/include/asm/segment.h:
// GDT_ENTRY_TLS_MIN = 12), which is what the native runs it is compared
// with see.
const (
	TLSEntryMin = 12
	TLSEntries  = 3
)

// TLSDesc is one thread's TLS slot: the user_desc the guest passed, and the
// 8-byte GDT descriptor built from it.
type TLSDesc struct {
	Info [16]byte // struct user_desc, as last set
	Desc uint64   // the encoded descriptor; 0 = empty
	Used bool
}

// userDesc is struct user_desc (arch/x86/include/uapi/asm/ldt.h).
type userDesc struct {
	entry, base, limit uint32
	seg32, contents    uint32
	readExecOnly       uint32
	limitInPages       uint32
	segNotPresent      uint32
	useable            uint32
}

func parseUserDesc(b []byte) userDesc {
	f := binary.LittleEndian.Uint32(b[12:])
	return userDesc{
		entry: binary.LittleEndian.Uint32(b[0:]), base: binary.LittleEndian.Uint32(b[4:]),
		limit: binary.LittleEndian.Uint32(b[8:]), seg32: f & 1, contents: f >> 1 & 3,
		readExecOnly: f >> 3 & 1, limitInPages: f >> 4 & 1, segNotPresent: f >> 5 & 1,
		useable: f >> 6 & 1,
	}
}

// empty is LDT_empty(): the "clear this slot" encoding.
func (u userDesc) empty() bool {
	return u.base == 0 && u.limit == 0 && u.contents == 0 && u.readExecOnly == 1 &&
		u.seg32 == 0 && u.limitInPages == 0 && u.segNotPresent == 1 && u.useable == 0
}

// zero is LDT_zero(): every field 0, which tls.c also takes as "clear".
func (u userDesc) zero() bool {
	return u == userDesc{entry: u.entry}
}

// clears reports whether u asks for an empty slot (set_tls_desc).
func (u userDesc) clears() bool { return u.empty() || u.zero() }

// okay is tls_desc_okay() (arch/x86/kernel/tls.c): besides a clear
// request, only present 32-bit data segments may go into the TLS slots.
func (u userDesc) okay() bool {
	return u.clears() || (u.seg32 == 1 && u.contents <= 1 && u.segNotPresent == 0)
}

// encode builds the descriptor as fill_ldt() (arch/x86/include/asm/desc.h)
// does: a present, DPL 3, code/data segment with the accessed bit set.
func (u userDesc) encode() uint64 {
	lo := (u.base&0xffff)<<16 | u.limit&0xffff
	hi := u.base&0xff000000 | (u.base&0x00ff0000)>>16 | u.limit&0xf0000 |
		1<<8 | (u.readExecOnly^1)<<9 | u.contents<<10 | (u.segNotPresent^1)<<15 |
		u.seg32<<22 | u.limitInPages<<23 | u.useable<<20 | 0x7000
	return uint64(lo) | uint64(hi)<<32
}

// emptyUserDesc is what fill_user_desc() reports for an empty slot: the
// all-zero descriptor decodes as read_exec_only and seg_not_present.
var emptyUserDesc = [16]byte{12: 1<<3 | 1<<5}

// sysSetThreadArea is i386 set_thread_area (arch/x86/kernel/tls.c).
func sysSetThreadArea(k *Kernel, t *Task, a Args) (uint64, Result) {
	if e := k.SetThreadArea(t, a[0]); e != 0 {
		return fail(e)
	}
	return ok0()
}

// SetThreadArea applies set_thread_area(uinfo) to thread t: the calling
// thread, or a new thread of clone(CLONE_SETTLS) on i386, whose CPU is nil
// until it first runs (the scheduler loads its TLS slots then).
func (k *Kernel) SetThreadArea(t *Task, uinfo uint64) syscall.Errno {
	raw, e := k.readBytes(uinfo, 16)
	if e != 0 {
		return e
	}
	u := parseUserDesc(raw)
	// do_set_thread_area validates before it allocates a slot, so an
	// invalid descriptor leaves entry_number untouched.
	if !u.okay() {
		return syscall.EINVAL
	}
	idx := int(int32(u.entry))
	if idx == -1 {
		idx = -1
		for i, d := range t.TLS {
			if !d.Used {
				idx = TLSEntryMin + i
				break
			}
		}
		if idx == -1 {
			return syscall.ESRCH
		}
		binary.LittleEndian.PutUint32(raw[0:], uint32(idx))
		if e := k.writeBytes(uinfo, raw[:4]); e != 0 {
			return e
		}
		u.entry = uint32(idx)
	}
	if idx < TLSEntryMin || idx >= TLSEntryMin+TLSEntries {
		return syscall.EINVAL
	}
	slot := &t.TLS[idx-TLSEntryMin]
	copy(slot.Info[:], raw)
	slot.Used = !u.clears()
	slot.Desc = 0
	if slot.Used {
		slot.Desc = u.encode()
	}
	if t.CPU != nil {
		if err := t.CPU.WriteGDTEntry(idx, slot.Desc); err != nil {
			return syscall.EFAULT
		}
	}
	return 0
}

// sysGetThreadArea returns the user_desc of a TLS slot.
func sysGetThreadArea(k *Kernel, t *Task, a Args) (uint64, Result) {
	idx, e := k.readU32(a[0])
	if e != 0 {
		return fail(e)
	}
	if int(idx) < TLSEntryMin || int(idx) >= TLSEntryMin+TLSEntries {
		return fail(syscall.EINVAL)
	}
	slot := t.TLS[int(idx)-TLSEntryMin]
	info := slot.Info
	if !slot.Used {
		info = emptyUserDesc
	}
	binary.LittleEndian.PutUint32(info[0:], idx)
	if e := k.writeBytes(a[0], info[:]); e != 0 {
		return fail(e)
	}
	return ok0()
}

// arch_prctl codes (arch/x86/include/uapi/asm/prctl.h).
const (
	archSetGS = 0x1001
	archSetFS = 0x1002
	archGetFS = 0x1003
	archGetGS = 0x1004
)

// userTop is the x86-64 TASK_SIZE_MAX: FS/GS bases at or above it are
// refused with EPERM, as do_arch_prctl_64 does.
const userTop = 0x7ffffffff000

func sysArchPrctl(k *Kernel, t *Task, a Args) (uint64, Result) {
	if k.cfg.Arch != X8664 {
		// On i386, arch_prctl only knows the CET/feature codes.
		return fail(syscall.EINVAL)
	}
	switch a[0] {
	case archSetFS, archSetGS:
		if a[1] >= userTop {
			return fail(syscall.EPERM)
		}
		var err error
		if a[0] == archSetFS {
			t.FSBase = a[1]
			if t.CPU != nil {
				err = t.CPU.SetFSBase(a[1])
			}
		} else {
			t.GSBase = a[1]
			if t.CPU != nil {
				err = t.CPU.SetGSBase(a[1])
			}
		}
		if err != nil {
			return fail(syscall.EFAULT)
		}
		return ok0()
	case archGetFS, archGetGS:
		v := t.FSBase
		if a[0] == archGetGS {
			v = t.GSBase
		}
		b := newStruct(8)
		b.u64(0, v)
		if e := k.writeBytes(a[1], b.b); e != 0 {
			return fail(e)
		}
		return ok0()
	}
	return fail(syscall.EINVAL)
}
