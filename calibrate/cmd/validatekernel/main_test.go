package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestUsage(t *testing.T) {
	var out, errb bytes.Buffer
	assert.Equal(t, 2, run(nil, &out, &errb))
	assert.Equal(t, "validatekernel: usage: validatekernel -host FILE -ptrace FILE [-plot FILE] [-repeat N] [-seeds N]\n", errb.String())
	errb.Reset()
	assert.Equal(t, 2, run([]string{"-nosuchflag"}, &out, &errb))
	assert.Contains(t, errb.String(), "flag provided but not defined: -nosuchflag")
}

func TestWorkLabel(t *testing.T) {
	for w, want := range map[int]string{0: "0", 1000: "1k", 300000: "300k", 1000000: "1M", 1500: "1500"} {
		assert.Equal(t, want, workLabel(w))
	}
}

func TestMedian(t *testing.T) {
	assert.Equal(t, 2.0, median([]float64{3, 1, 2}))
	assert.Equal(t, 2.5, median([]float64{4, 1, 2, 3}))
	assert.Equal(t, 0.0, median(nil))
}
