package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim/sweep"
)

// TestCommittedBaseline is probesim's own miss-rate regression gate, the
// job docs/ci.md describes run on probesim itself: both strategies on 1 and
// 4 vCPUs must measure what docs/examples/ci-baseline.csv records. A change
// to the model that moves them fails here with check's table; after review,
// `probesim check docs/examples/ci-check.yaml --baseline
// docs/examples/ci-baseline.csv --update` records the new values.
func TestCommittedBaseline(t *testing.T) {
	res := cli(t, "check", "../../docs/examples/ci-check.yaml", "--baseline", "../../docs/examples/ci-baseline.csv")
	require.Equal(t, 0, res.status, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	assert.Contains(t, string(res.stdout), "check: ok: 0 of 12 configurations regressed")
}

// TestExampleSweepConfig: the README's sweep example loads and expands to
// the product it documents.
func TestExampleSweepConfig(t *testing.T) {
	c, err := sweep.Load("../../docs/examples/threads-sweep.yaml")
	require.NoError(t, err)
	assert.Equal(t, 4*3*5, c.Len())
}
