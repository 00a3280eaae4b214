package chunklog

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestLogKeepsOrderAcrossChunks(t *testing.T) {
	var l Log[int]
	assert.Nil(t, l.All())
	const n = 2*ChunkLen + 3
	for i := 0; i < n; i++ {
		l.Add(i)
	}
	got := l.All()
	assert.Len(t, got, n)
	assert.Equal(t, n, l.Len())
	assert.Len(t, l.chunks, 3)
	for i, v := range got {
		if v != i {
			t.Fatalf("entry %d is %d", i, v)
		}
	}
	got[0] = -1
	assert.Equal(t, 0, l.All()[0], "All returns a copy")
}
