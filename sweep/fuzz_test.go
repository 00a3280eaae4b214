package sweep

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/report"
)

// FuzzParse feeds arbitrary bytes to the config parser: it must never
// panic, every error must be one line naming the file, and an accepted
// config must be a product of at most MaxConfigs configurations whose
// points decode and encode back (Config.Point and the row matcher are
// inverses), whose keys are distinct at both ends, and whose shards add up.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		threadsYAML,
		"program: /p\nprobes: [f]\ncpus: [4, 1]\nstrategies: [ssol-stack, inline]\nseeds: [9, 3]\nquantum: [500, 1000]\nparams: {kernel.syscall_entry_exit: [100, 200], issue_width: 4}\n",
		"program: /p\nprobes: f\ncpus: 64\nstrategies: xol\nseeds: {from: 18446744073709551000, to: 18446744073709551615}\nmax_cycles: 18446744073709551615\nstack_limit: 16G\n",
		"program: /p\nprobes: [f]\ncpus: 1\nstrategies: inline\nseeds: 1\nquantum: [1, 18446744073709551615]\n---\nx: 1\n",
		"a: &x [1]\nb: *x\n",
		"program: /p\nprobes: [f]\ncpus: [1]\nstrategies: [inline]\nseeds: [1]\nargs: [\"a\", 2, 0x10]\nenv: [A=1]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("s.yaml", data)
		if err != nil {
			require.True(t, strings.HasPrefix(err.Error(), "s.yaml"), "%q", err.Error())
			require.NotContains(t, err.Error(), "\n")
			return
		}
		n := c.Len()
		require.True(t, n >= 1 && n <= MaxConfigs, "%d configurations", n)
		m := newRowMatcher(c)
		for _, i := range []int{0, n / 3, n / 2, n - 1} {
			p := c.Point(i)
			r := c.RowOf(p, &report.Run{StopReason: "exit"})
			require.NoError(t, r.Check(), p.Key())
			got, ok := m.index(&r)
			require.True(t, ok, "configuration %d (%s) matches", i, p.Key())
			require.Equal(t, i, got, p.Key())
		}
		if n > 1 {
			require.NotEqual(t, c.Point(0).Key(), c.Point(n-1).Key())
		}
		for _, s := range []Shard{{}, {1, 3}, {3, 3}} {
			k := 0
			for range c.Indexes(s) {
				k++
			}
			require.Equal(t, c.ShardLen(s), k, "shard %v", s)
		}
	})
}
