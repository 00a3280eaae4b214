package timing

// chainState follows register dependencies through a block, instruction by instruction.
// It computes two things at once:
//
//   - ready: when each slot's value is ready if the block starts with every input ready
//     (the one-shot critical path);
//   - dist: for each slot, the longest latency from each slot's value at block entry to the
//     slot's current value (-1: no dependence). After the block, dist between written slots
//     is the graph whose heaviest cycle per iteration bounds a loop of the block.
type chainState struct {
	ready   [nSlots]int32
	dist    [nSlots][nSlots]int32
	written [nSlots]bool
	path    int32
}

// identityDist is dist at block entry: every slot depends on itself with latency 0 and on
// nothing else.
var identityDist = func() (d [nSlots][nSlots]int32) {
	for s := range d {
		for i := range d[s] {
			d[s][i] = -1
		}
		d[s][s] = 0
	}
	return d
}()

func (c *chainState) reset() {
	c.ready = [nSlots]int32{}
	c.written = [nSlots]bool{}
	c.path = 0
	c.dist = identityDist
}

// apply records one instruction of latency lat. For a load, data (non-address) inputs are
// needed only loadLat cycles later than address inputs, as llvm-mca's ReadAfterLd models it:
// `add eax, [rdi]` (latency 6) waits 6 cycles for rdi but 1 cycle for eax.
func (c *chainState) apply(a *access, lat, loadLat int32, load bool) {
	dataLat := lat
	if load && lat > loadLat {
		dataLat = lat - loadLat
	}
	out := lat
	var from [nSlots]int32
	for i := range from {
		from[i] = -1
	}
	for _, r := range a.reads[:a.nReads] {
		l := dataLat
		if r.addr {
			l = lat
		}
		out = max(out, c.ready[r.slot]+l)
		for i, d := range c.dist[r.slot] {
			if d >= 0 {
				from[i] = max(from[i], d+l)
			}
		}
	}
	for _, w := range a.writes[:a.nWrites] {
		c.ready[w] = out
		c.dist[w] = from
		c.written[w] = true
	}
	c.path = max(c.path, out)
}

// loopCarriedFP is the maximum cycle mean (x256) of the slot-to-slot latency graph: the
// cycles per iteration that a loop running this block back to back cannot beat however wide
// the machine. Karp's algorithm (1978) on the written slots, with every slot as a start.
func (c *chainState) loopCarriedFP() uint64 {
	var nodes [nSlots]int
	m := 0
	for s, w := range c.written {
		if w {
			nodes[m] = s
			m++
		}
	}
	if m == 0 {
		return 0
	}
	const none = -1 << 30
	// walk[k][v]: heaviest walk of exactly k edges ending at nodes[v].
	var walk [nSlots + 1][nSlots]int32
	for k := 1; k <= m; k++ {
		for v := 0; v < m; v++ {
			best := int32(none)
			for u := 0; u < m; u++ {
				w := c.dist[nodes[v]][nodes[u]]
				if w >= 0 && walk[k-1][u] != none {
					best = max(best, walk[k-1][u]+w)
				}
			}
			walk[k][v] = best
		}
	}
	var lambda uint64
	for v := 0; v < m; v++ {
		if walk[m][v] == none {
			continue
		}
		low := int64(1) << 62
		for k := 0; k < m; k++ {
			if walk[k][v] == none {
				continue
			}
			low = min(low, int64(walk[m][v]-walk[k][v])*fpOne/int64(m-k))
		}
		if low > 0 {
			lambda = max(lambda, uint64(low))
		}
	}
	return lambda
}
