package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func runArgs(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestMissingMCASaysInstallLLVM14(t *testing.T) {
	code, stdout, stderr := runArgs("-mca", "/nonexistent/llvm-mca-14")
	assert.Equal(t, 2, code)
	assert.Empty(t, stdout)
	assert.Equal(t, "validatetiming: /nonexistent/llvm-mca-14 not found: install llvm-14 "+
		"(apt-get install llvm-14, or run make validate-timing)\n", stderr)
	assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line")
}

func TestBadArguments(t *testing.T) {
	code, _, stderr := runArgs("extra")
	assert.Equal(t, 2, code)
	assert.Equal(t, "validatetiming: unexpected argument \"extra\"\n", stderr)

	code, _, stderr = runArgs("-describe", "nocolon")
	assert.Equal(t, 2, code)
	assert.Equal(t, "validatetiming: -describe wants ELF:SYMBOL, got \"nocolon\"\n", stderr)

	code, _, stderr = runArgs("-describe", "/nonexistent/file:main")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "validatetiming: open /nonexistent/file")

	code, _, _ = runArgs("-no-such-flag")
	assert.Equal(t, 2, code)
}
