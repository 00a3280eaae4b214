package mmu

import (
	"strconv"
	"strings"
)

// FindVMA returns the VMA containing addr.
func (as *AddressSpace) FindVMA(addr uint64) (VMA, bool) {
	as.mu.Lock()
	defer as.mu.Unlock()
	i, ok := as.findVMA(addr)
	if !ok {
		return VMA{}, false
	}
	return as.vmas[i], true
}

// VMAs returns a copy of all VMAs in address order.
func (as *AddressSpace) VMAs() []VMA {
	as.mu.Lock()
	defer as.mu.Unlock()
	out := make([]VMA, len(as.vmas))
	copy(out, as.vmas)
	return out
}

// mapsNameColumn is where show_map_vma (fs/proc/task_mmu.c) starts a name:
// seq_setwidth(m, 25 + sizeof(void *) * 6 - 1) pads the header to 72
// columns (a 64-bit kernel, also for ia32 tasks) and seq_pad adds one more
// space.
const mapsNameColumn = 25 + 8*6 - 1

// MapsText renders /proc/self/maps as Linux prints it
// (show_vma_header_prefix and show_map_vma in fs/proc/task_mmu.c): per VMA
// "start-end perms offset dev inode", each number in lower-case hex padded to
// at least 8 (offset) or 2 (device) digits, the inode in decimal, then a
// space; a named VMA pads the line to column 72 and adds a space and the
// name. A file-backed VMA shows its file's identity (VMA.ID: the view's
// device and deterministic inode number, not the host's); anonymous ones
// show 00:00 0 as Linux does.
func (as *AddressSpace) MapsText() string {
	as.mu.Lock()
	defer as.mu.Unlock()
	var b strings.Builder
	line := make([]byte, 0, 128)
	for _, v := range as.vmas {
		line = line[:0]
		line = appendHex(line, v.Start, 8)
		line = append(line, '-')
		line = appendHex(line, v.End, 8)
		line = append(line, ' ')
		line = append(line, v.Perms()...)
		line = append(line, ' ')
		var off uint64
		if v.Flags&FileBacked != 0 {
			off = v.Offset
		}
		line = appendHex(line, off, 8)
		line = append(line, ' ')
		line = appendDev(line, v.ID.Dev)
		line = append(line, ' ')
		line = strconv.AppendUint(line, v.ID.Ino, 10)
		line = append(line, ' ')
		if v.Name != "" {
			for len(line) < mapsNameColumn {
				line = append(line, ' ')
			}
			line = append(line, ' ')
			line = append(line, v.Name...)
		}
		line = append(line, '\n')
		b.Write(line)
	}
	if as.vsyscallPage {
		// The gate VMA (get_gate_vma, arch/x86/entry/vsyscall/
		// vsyscall_64.c), which show_map lists last: the vsyscall page,
		// execute-only under vsyscall=xonly.
		b.WriteString(vsyscallMapsLine)
	}
	return b.String()
}

// appendDev appends a dev_t as show_vma_header_prefix does ("%02x:%02x",
// MAJOR and MINOR of the userspace encoding, new_decode_dev).
func appendDev(dst []byte, dev uint64) []byte {
	major := (dev>>8)&0xfff | (dev>>32)&^0xfff
	minor := dev&0xff | (dev>>12)&^0xff
	dst = appendHex(dst, major, 2)
	dst = append(dst, ':')
	return appendHex(dst, minor, 2)
}

// SetVsyscallPage says whether the task has the x86-64 vsyscall page
// (not an ia32 one), which /proc/self/maps then lists last. The page has
// no VMA: nothing can be mapped there, and executing it is a fault the CPU
// side emulates (emu/vsyscall.go).
func (as *AddressSpace) SetVsyscallPage(on bool) {
	as.mu.Lock()
	defer as.mu.Unlock()
	as.vsyscallPage = on
}

const vsyscallMapsLine = "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n"

// appendHex appends v in lower-case hex with at least width digits
// (seq_put_hex_ll).
func appendHex(dst []byte, v uint64, width int) []byte {
	s := strconv.FormatUint(v, 16)
	for i := len(s); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}
