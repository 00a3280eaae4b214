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

// TestAdvertisedFeaturesMatchTheCPU runs the cpufeatures fixture under
// probesim to learn what its cpuid advertises, then one instruction of
// every advertised feature, on fixed inputs, both natively and under
// probesim: the results must be the real CPU's. It also checks that
// AT_HWCAP is CPUID.1:EDX, and that no instruction that returns the host's
// randomness (rdrand, rdseed) is advertised.
func TestAdvertisedFeaturesMatchTheCPU(t *testing.T) {
	for _, arch := range []string{fixtures.ArchAMD64, fixtures.ArchI386} {
		t.Run(arch, func(t *testing.T) {
			path, err := fixtures.Path(arch, "cpufeatures")
			require.NoError(t, err)
			img, err := os.ReadFile(path)
			require.NoError(t, err)
			emulated := func(args ...string) string {
				var out bytes.Buffer
				res, err := probesim.Run(probesim.Config{Program: "/cpufeatures", Image: img, Args: args, Stdout: &out})
				require.NoError(t, err)
				require.Equal(t, 0, res.Report.ExitStatus, "stderr %q fault %v", res.Report.Stderr, res.Report.Fault)
				return out.String()
			}
			info := emulated()
			assert.Contains(t, info, "hwcap_is_cpuid1_edx=yes")
			var names []string
			for _, line := range strings.Split(info, "\n") {
				if rest, ok := strings.CutPrefix(line, "advertised:"); ok {
					names = strings.Fields(rest)
				}
			}
			require.NotEmpty(t, names)
			assert.NotContains(t, names, "rdrand")
			assert.NotContains(t, names, "rdseed")
			for _, base := range []string{"fpu", "tsc", "mmx", "sse", "sse2", "sse3", "ssse3", "sse41", "sse42", "popcnt", "aes", "pclmulqdq"} {
				assert.Contains(t, names, base)
			}
			args := append([]string{"run"}, names...)
			native, stderr, status, err := fixtures.RunNative(path, args, nil, nil)
			require.NoError(t, err)
			require.Equal(t, 0, status, "native stderr %q", stderr)
			assert.Equal(t, string(native), emulated(args...), "advertised features: %v", names)
		})
	}
}
