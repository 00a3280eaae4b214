package smp

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestChunkLogKeepsOrderAcrossChunks(t *testing.T) {
	var l chunkLog[int]
	assert.Nil(t, l.all())
	const n = 2*chunkLen + 3
	for i := 0; i < n; i++ {
		l.add(i)
	}
	got := l.all()
	assert.Len(t, got, n)
	assert.Len(t, l.chunks, 3)
	for i, v := range got {
		if v != i {
			t.Fatalf("entry %d is %d", i, v)
		}
	}
	got[0] = -1
	assert.Equal(t, 0, l.all()[0], "all returns a copy")
}
