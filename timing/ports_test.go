package timing

import (
	"math/bits"
	"testing"

	"github.com/stretchr/testify/assert"
)

func bound(groups map[portMask]uint64) uint64 {
	var l portLoad
	for _, m := range []portMask{p0156, p015, p056, p237, p01, p05, p06, p15, p16, p56, p23,
		p0, p1, p2, p3, p4, p5, p6, p7} {
		l.add(m, groups[m]*fpOne)
	}
	return l.boundFP()
}

func TestPortBound(t *testing.T) {
	assert.Zero(t, bound(nil))
	assert.Equal(t, uint64(fpOne), bound(map[portMask]uint64{p0156: 4}), "4 flexible uops on 4 ports")
	assert.Equal(t, uint64(2*fpOne), bound(map[portMask]uint64{p0156: 4, p0: 2}), "port 0 alone needs 2 cycles")
	assert.Equal(t, uint64(6*fpOne/4), bound(map[portMask]uint64{p0156: 4, p06: 2}), "6 uops fit the ALU ports")
	assert.Equal(t, uint64(2*fpOne), bound(map[portMask]uint64{p06: 3, p6: 1}), "{0,6} holds 4 uops")
	assert.Equal(t, uint64(2*fpOne), bound(map[portMask]uint64{p23: 3, p237: 3}), "2, 3 and 7 hold 6")
	assert.Equal(t, uint64(3*fpOne), bound(map[portMask]uint64{p23: 6, p0156: 4}),
		"memory and ALU ports are separate components")
}

// TestPortBoundMatchesBruteForce checks the component shortcut against all 255 port sets.
func TestPortBoundMatchesBruteForce(t *testing.T) {
	masks := []portMask{p0156, p015, p056, p237, p01, p05, p06, p15, p16, p56, p23, p0, p1, p4, p5, p6, p7}
	for seed := uint64(1); seed < 400; seed++ {
		var l portLoad
		x := seed
		for _, m := range masks {
			x = x*6364136223846793005 + 1442695040888963407
			if x>>60 < 6 {
				l.add(m, (x>>40)%2000)
			}
		}
		var want uint64
		for s := 1; s < 256; s++ {
			var within uint64
			for m := range l.uops {
				if portMask(m)&^portMask(s) == 0 {
					within += l.uops[m]
				}
			}
			want = max(want, within/uint64(bits.OnesCount8(uint8(s))))
		}
		assert.Equal(t, want, l.boundFP(), "seed %d", seed)
	}
}
