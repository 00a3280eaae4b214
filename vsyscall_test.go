package probesim_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim"
	"github.com/probesim/probesim/fixtures"
)

// vsyscallOutput is what the vsyscall fixture prints on x86-64 Linux 5.3
// or later with the default vsyscall=xonly (checked natively below when
// the host has the page): it depends on no clock, CPU or address.
const vsyscallOutput = `gettimeofday: ret 0, within a second of the syscall: yes, usec < 1e6: yes, tz 0 0
gettimeofday(NULL, NULL): ret 0
time: ret equals *t: yes, within a second of the syscall: yes
time(NULL) > 0: yes
getcpu: ret 0, cpu below the CPU count: yes, node 0
getcpu(NULL, NULL): ret 0
maps: ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
call at +0x3c (misaligned):        SIGSEGV si_code 128 si_addr 0
call at +0xc00 (no entry):         SIGSEGV si_code 128 si_addr 0
read of the page:                  SIGSEGV si_code 1 si_addr 0xffffffffff600000
gettimeofday(16, NULL):            SIGSEGV si_code 128 si_addr 0
time(kernel address):              SIGSEGV si_code 1 si_addr 0xffff888000000000
`

// TestVsyscallPageMatchesLinux: calls to the legacy vsyscall page are
// emulated as Linux's emulate_vsyscall does (results, the emulated ret,
// the SIGSEGVs with their si_code and si_addr), counted as the syscalls
// they stand for with a kernel note, on 1 and 2 vCPUs.
func TestVsyscallPageMatchesLinux(t *testing.T) {
	path, err := fixtures.Path(fixtures.ArchAMD64, "vsyscall")
	require.NoError(t, err)
	maps, err := os.ReadFile("/proc/self/maps")
	require.NoError(t, err)
	if strings.Contains(string(maps), "[vsyscall]") {
		native, stderr, status, err := fixtures.RunNative(path, nil, nil, nil)
		require.NoError(t, err)
		require.Equal(t, 0, status, "native stderr %q", stderr)
		require.Equal(t, vsyscallOutput, string(native), "the host kernel's emulation")
	}
	img, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, cpus := range []int{1, 2} {
		var out bytes.Buffer
		res, err := probesim.Run(t.Context(), probesim.Config{Program: "/vsyscall", Image: img, Stdout: &out, CPUs: cpus})
		require.NoError(t, err)
		require.Equal(t, 0, res.Report.ExitStatus, "fault %v", res.Report.Fault)
		assert.Equal(t, vsyscallOutput, out.String())
		assert.Equal(t, uint64(3), res.Report.KernelNotes["gettimeofday:vsyscall page"])
		assert.Equal(t, uint64(2), res.Report.KernelNotes["time:vsyscall page"])
		assert.Equal(t, uint64(2), res.Report.KernelNotes["getcpu:vsyscall page"])
		assert.Equal(t, uint64(3), res.Report.Syscalls["getcpu"], "two through the page, one syscall")
	}
}
