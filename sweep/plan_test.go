package sweep

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConfigurationOrder: profile, params, quantum, strategy, cpus, seed,
// slowest first, each in the config's order.
func TestConfigurationOrder(t *testing.T) {
	c, err := Parse("s.yaml", []byte(`program: /p
probes: [f]
cpus: [4, 1]
strategies: [ssol-stack, inline]
seeds: [9, 3]
quantum: [500, 1000]
params: {kernel.syscall_entry_exit: [100, 200]}
`))
	require.NoError(t, err)
	require.Equal(t, 32, c.Len())
	var keys []string
	for _, p := range points(c, Shard{}) {
		keys = append(keys, p.Key())
	}
	assert.Equal(t, []string{
		"cpus=4 strategy=ssol-stack seed=9 quantum=500 profile=skylake kernel.syscall_entry_exit=100",
		"cpus=4 strategy=ssol-stack seed=3 quantum=500 profile=skylake kernel.syscall_entry_exit=100",
		"cpus=1 strategy=ssol-stack seed=9 quantum=500 profile=skylake kernel.syscall_entry_exit=100",
		"cpus=1 strategy=ssol-stack seed=3 quantum=500 profile=skylake kernel.syscall_entry_exit=100",
		"cpus=4 strategy=inline seed=9 quantum=500 profile=skylake kernel.syscall_entry_exit=100",
	}, keys[:5])
	assert.Equal(t, "cpus=4 strategy=ssol-stack seed=9 quantum=1000 profile=skylake kernel.syscall_entry_exit=100", keys[8])
	assert.Equal(t, "cpus=4 strategy=ssol-stack seed=9 quantum=500 profile=skylake kernel.syscall_entry_exit=200", keys[16])
	assert.Equal(t, "cpus=1 strategy=inline seed=3 quantum=1000 profile=skylake kernel.syscall_entry_exit=200", keys[31])
	seen := map[string]bool{}
	for i, k := range keys {
		assert.False(t, seen[k], "key %q repeats", k)
		seen[k] = true
		assert.Equal(t, i, c.Point(i).Index)
	}
	p := c.Point(31)
	assert.Equal(t, "cpus=1 strategy=inline seed=3 quantum=1000 kernel.syscall_entry_exit=200", c.Label(p))
	rc := c.RunConfig(p)
	assert.Equal(t, []string{"kernel.syscall_entry_exit=200"}, rc.Params)
	assert.Equal(t, uint64(1000), rc.Quantum)
	assert.Equal(t, 1, rc.CPUs)
	assert.Equal(t, uint64(3), rc.Seed)
	assert.Equal(t, "skylake", rc.Profile.Name)
}

// TestShardsPartition: the shards of a sweep hold every configuration
// exactly once, interleaved.
func TestShardsPartition(t *testing.T) {
	c, err := Parse("s.yaml", []byte("program: /p\nprobes: [f]\ncpus: [1, 2, 3]\nstrategies: [inline, ssol-stack]\nseeds: {from: 1, to: 5}\n"))
	require.NoError(t, err)
	require.Equal(t, 30, c.Len())
	for _, n := range []int{1, 2, 3, 7, 30, 31} {
		count := make([]int, c.Len())
		for i := 1; i <= n; i++ {
			s := Shard{i, n}
			for _, p := range points(c, s) {
				count[p.Index]++
				assert.Equal(t, i-1, p.Index%n)
			}
		}
		for idx, k := range count {
			assert.Equal(t, 1, k, "n=%d: configuration %d in %d shards", n, idx, k)
		}
	}
	assert.Len(t, points(c, Shard{}), 30)
	assert.Equal(t, []int{1, 4, 7}, indexes(points(c, Shard{2, 3})[:3]))
}

func indexes(ps []Point) []int {
	var out []int
	for _, p := range ps {
		out = append(out, p.Index)
	}
	return out
}

func TestParseShard(t *testing.T) {
	s, err := ParseShard("2/5")
	require.NoError(t, err)
	assert.Equal(t, Shard{2, 5}, s)
	assert.Equal(t, "2/5", s.String())
	for in, want := range map[string]string{
		"0/4": `"0/4": want 1 <= I <= N (shards are numbered from 1)`,
		"5/4": `"5/4": want 1 <= I <= N (shards are numbered from 1)`,
		"1/0": `"1/0": want 1 <= I <= N (shards are numbered from 1)`,
		"2":   `"2" is not I/N (shard I of N, 1-based, such as 1/4)`,
		"a/b": `"a/b" is not I/N (shard I of N, 1-based, such as 1/4)`,
	} {
		_, err := ParseShard(in)
		if assert.Error(t, err, in) {
			assert.Equal(t, want, err.Error())
		}
	}
}

// points lists the configurations of shard s.
func points(c *Config, s Shard) []Point {
	var out []Point
	for i := range c.Indexes(s) {
		out = append(out, c.Point(i))
	}
	return out
}

// TestShardLen: ShardLen counts what Indexes yields.
func TestShardLen(t *testing.T) {
	c, err := Parse("s.yaml", []byte("program: /p\nprobes: [f]\ncpus: [1, 2, 3]\nstrategies: [inline, ssol-stack]\nseeds: {from: 1, to: 5}\n"))
	require.NoError(t, err)
	for _, s := range []Shard{{}, {1, 1}, {1, 2}, {2, 2}, {3, 7}, {7, 7}, {30, 31}, {31, 31}} {
		assert.Equal(t, len(points(c, s)), c.ShardLen(s), "%v", s)
	}
}
