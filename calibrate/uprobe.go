package calibrate

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The uprobe PMU: perf_event_open with the dynamic PMU type Linux
// publishes in /sys/bus/event_source/devices/uprobe/type creates a uprobe
// owned by the event's file descriptor (kernel/trace/trace_uprobe.c,
// create_local_trace_uprobe): no tracefs entry is made, and closing the
// descriptor, which the kernel does when the process dies however it dies,
// removes the probe. That is why an interrupted calibrate leaves no probe
// behind.

// UprobePMUTypePath is where Linux publishes the uprobe PMU's type.
const UprobePMUTypePath = "/sys/bus/event_source/devices/uprobe/type"

// uprober opens counting uprobes; tests inject a fake.
type uprober interface {
	// open counts hits of the instruction at file offset off of the
	// executable at path, in process pid.
	open(path string, off uint64, pid int) (uprobeCounter, error)
}

type uprobeCounter interface {
	count() (uint64, error)
	Close() error
}

// Preflight says why the uprobe measurements cannot run here, or "" if
// they can: they need root (CAP_PERFMON or CAP_SYS_ADMIN for a uprobe
// PMU event) and the uprobe PMU. euid and typePath are parameters so
// that tests inject both conditions.
func uprobePreflight(euid int, typePath string) string {
	if euid != 0 {
		return "uprobe hits skipped: not root (perf_event_open of the uprobe PMU needs CAP_PERFMON)"
	}
	if _, err := readPMUType(typePath); err != nil {
		return "uprobe hits skipped: no uprobe PMU (" + err.Error() + ")"
	}
	return ""
}

func readPMUType(path string) (uint32, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return 0, fmt.Errorf("%s does not exist", path)
		}
		return 0, err
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a PMU type", path, strings.TrimSpace(string(data)))
	}
	return uint32(v), nil
}

// pmuUprober opens real uprobe PMU events.
type pmuUprober struct{ pmuType uint32 }

type pmuCounter struct{ fd int }

func (u pmuUprober) open(path string, off uint64, pid int) (uprobeCounter, error) {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return nil, err
	}
	attr := unix.PerfEventAttr{
		Type: u.pmuType,
		Size: uint32(unsafe.Sizeof(unix.PerfEventAttr{})),
		Ext1: uint64(uintptr(unsafe.Pointer(p))), // config1: uprobe_path
		Ext2: off,                                // config2: probe_offset
	}
	fd, err := unix.PerfEventOpen(&attr, pid, -1, -1, unix.PERF_FLAG_FD_CLOEXEC)
	runtime.KeepAlive(p) // the kernel read the path through config1
	if err != nil {
		return nil, fmt.Errorf("perf_event_open(uprobe %s+%#x): %w", path, off, err)
	}
	return &pmuCounter{fd: fd}, nil
}

func (c *pmuCounter) count() (uint64, error) {
	var b [8]byte
	if _, err := unix.Read(c.fd, b[:]); err != nil {
		return 0, fmt.Errorf("read uprobe counter: %w", err)
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

func (c *pmuCounter) Close() error { return unix.Close(c.fd) }
