package probesim_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/probesim/probesim"
)

func TestParseBytes(t *testing.T) {
	for s, want := range map[string]uint64{"0": 0, "8388608": 8 << 20, "512K": 512 << 10, "8m": 8 << 20, " 1G ": 1 << 30} {
		got, err := probesim.ParseBytes(s)
		assert.NoError(t, err, s)
		assert.Equal(t, want, got, s)
	}
	for _, s := range []string{"", "K", "12Q", "-1", "1.5M", "99999999999999999999", "17179869184G"} {
		_, err := probesim.ParseBytes(s)
		assert.Error(t, err, s)
	}
}
