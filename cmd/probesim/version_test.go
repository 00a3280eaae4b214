package main

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestVersionFrom: make's stamp wins; a go install of a tagged version
// says that version, a build from a checkout its revision, and nothing
// known says dev.
func TestVersionFrom(t *testing.T) {
	tagged := &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}}
	checkout := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"}}}
	assert.Equal(t, "v0.3-12-gabc", versionFrom("v0.3-12-gabc", tagged))
	assert.Equal(t, "v1.4.0", versionFrom("dev", tagged))
	assert.Equal(t, "dev-0123456789ab-dirty", versionFrom("dev", checkout))
	assert.Equal(t, "dev", versionFrom("dev", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}))
	assert.Equal(t, "dev", versionFrom("dev", nil))
}

// TestVersionFlag: --version prints what 'probesim version' does, with
// the engine's real version.
func TestVersionFlag(t *testing.T) {
	a, b := cli(t, "--version"), cli(t, "version")
	assert.Equal(t, 0, a.status)
	assert.Equal(t, string(b.stdout), string(a.stdout))
	assert.Contains(t, string(a.stdout), ", Unicorn 2.1.1)\n")
}
