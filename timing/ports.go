package timing

import "math/bits"

// portLoad accumulates a block's uops by the port set they may use.
type portLoad struct {
	uops    [256]uint64 // uops (x256) restricted to exactly port set m
	present [256]portMask
	n       int // present[:n] lists the port sets with uops, in first-use order
}

func (l *portLoad) add(m portMask, uopsFP uint64) {
	if uopsFP == 0 {
		return
	}
	if l.uops[m] == 0 {
		l.present[l.n] = m
		l.n++
	}
	l.uops[m] += uopsFP
}

// boundFP is the cycles (x256) that port contention alone needs: for every port set S, the
// uops that can only use ports of S need at least their count / |S| cycles, and by Hall's
// theorem the largest such ratio is also achievable by an ideal scheduler.
//
// Only sets inside one connected component of the used port sets need checking: uops of
// different components add up independently, and (a+b)/(m+n) <= max(a/m, b/n). On Skylake
// the ALU ports {0,1,5,6} and the memory ports {2,3,4,7} never share a group, so this is at
// most 2 x 16 subsets instead of 255.
func (l *portLoad) boundFP() uint64 {
	present := l.present[:l.n]
	var comps [8]portMask
	nc := 0
	for _, m := range present {
		merged := m
		kept := 0
		for _, c := range comps[:nc] {
			if c&merged != 0 {
				merged |= c
			} else {
				comps[kept] = c
				kept++
			}
		}
		comps[kept] = merged
		nc = kept + 1
	}
	// Largest within / |S|, compared by cross-multiplying; one division at the end.
	var num, den uint64 = 0, 1
	for _, c := range comps[:nc] {
		for s := c; s != 0; s = (s - 1) & c {
			var within uint64
			for _, m := range present {
				if m&^s == 0 {
					within += l.uops[m]
				}
			}
			n := uint64(bits.OnesCount8(uint8(s)))
			if within*den > num*n {
				num, den = within, n
			}
		}
	}
	return num / den
}
