package report

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSetOutputKeepsBytes(t *testing.T) {
	var r Run
	r.SetOutput(captured([]byte("héllo\n")), captured([]byte{0xff, 0xfe, 'x'}))
	require.Equal(t, "héllo\n", r.Stdout)
	require.Nil(t, r.StdoutBase64)
	require.Empty(t, r.Stderr)
	require.Equal(t, []byte{0xff, 0xfe, 'x'}, r.StderrBase64)

	var b bytes.Buffer
	require.NoError(t, r.Encode(&b))
	var back Run
	require.NoError(t, json.Unmarshal(b.Bytes(), &back))
	require.Equal(t, []byte{0xff, 0xfe, 'x'}, back.StderrBase64, "invalid UTF-8 survives the JSON round trip")
}

// TestEncodeIsDeterministic: map fields come out in key order, so equal
// reports encode to equal bytes.
func TestEncodeIsDeterministic(t *testing.T) {
	mk := func() *Run {
		r := &Run{Schema: Schema, Syscalls: map[string]uint64{}, UnsupportedSyscalls: map[string]uint64{}}
		for _, n := range []string{"write", "brk", "mmap", "exit_group", "futex", "clone3"} {
			r.Syscalls[n] = uint64(len(n))
		}
		return r
	}
	var a, b bytes.Buffer
	require.NoError(t, mk().Encode(&a))
	require.NoError(t, mk().Encode(&b))
	require.Equal(t, a.String(), b.String())
	require.Less(t, bytes.Index(a.Bytes(), []byte(`"brk"`)), bytes.Index(a.Bytes(), []byte(`"write"`)))
	require.Equal(t, byte('\n'), a.Bytes()[a.Len()-1])
}
