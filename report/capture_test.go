package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func captured(b []byte) *Capture {
	var c Capture
	c.Write(b)
	return &c
}

// Output up to 2*OutputKeep bytes is kept whole, however it was written.
func TestCaptureKeepsShortOutputWhole(t *testing.T) {
	for _, n := range []int{0, 1, OutputKeep, OutputKeep + 1, 2 * OutputKeep} {
		want := bytes.Repeat([]byte("abcdefg\n"), n/8+1)[:n]
		for _, chunk := range []int{1, 7, 4096, OutputKeep + 3} {
			var c Capture
			for off := 0; off < n; off += chunk {
				c.Write(want[off:min(off+chunk, n)])
			}
			var r Run
			r.SetOutput(&c, captured(nil))
			require.Nil(t, r.StdoutTruncated, "n %d chunk %d", n, chunk)
			require.Equal(t, string(want), r.Stdout, "n %d chunk %d", n, chunk)
			require.Equal(t, uint64(n), c.Bytes())
		}
	}
}

// Longer output keeps its head and tail, with the size and hash of all
// of it; the kept text is cut at character boundaries.
func TestCaptureTruncatesLongOutput(t *testing.T) {
	var all bytes.Buffer
	var c Capture
	line := []byte("é-line 0123456789\n") // 19 bytes, a 2-byte character first
	for i := 0; i < 3*OutputKeep/len(line)+5; i++ {
		c.Write(line)
		all.Write(line)
	}
	var r Run
	r.SetOutput(&c, captured([]byte("err")))
	tr := r.StdoutTruncated
	require.NotNil(t, tr)
	sum := sha256.Sum256(all.Bytes())
	assert.Equal(t, hex.EncodeToString(sum[:]), tr.SHA256)
	assert.Equal(t, uint64(all.Len()), tr.Bytes)
	assert.Nil(t, r.StdoutBase64, "the head is text")
	assert.Nil(t, tr.TailBase64, "the tail is text")
	assert.True(t, strings.HasPrefix(all.String(), r.Stdout))
	assert.True(t, strings.HasSuffix(all.String(), tr.Tail))
	assert.LessOrEqual(t, len(r.Stdout), OutputKeep)
	assert.LessOrEqual(t, len(tr.Tail), OutputKeep)
	assert.Greater(t, len(r.Stdout), OutputKeep-4)
	assert.Greater(t, len(tr.Tail), OutputKeep-4)
	assert.Equal(t, tr.Bytes, uint64(len(r.Stdout)+len(tr.Tail))+tr.Omitted)
	assert.Equal(t, "err", r.Stderr)
	assert.Nil(t, r.StderrTruncated)
}

// A gigabyte costs the capture its fixed buffers only.
func TestCaptureIsBounded(t *testing.T) {
	var c Capture
	buf := bytes.Repeat([]byte{'x'}, 1<<20)
	for i := 0; i < 1024; i++ {
		c.Write(buf)
	}
	assert.Equal(t, uint64(1<<30), c.Bytes())
	assert.LessOrEqual(t, cap(c.head), 2*OutputKeep)
	assert.Equal(t, OutputKeep, len(c.tail))
}
