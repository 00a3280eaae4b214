package sweep

import (
	"math/bits"
	"slices"
	"sort"
)

// The configurations of a sweep, without listing them.
//
// A sweep's configurations are blocks, each the Cartesian product of one
// Axes: the top level's, then one per include entry, in config order.
// Exclude filters take configurations out of the first block (as a GitHub
// Actions matrix does, before include), and an include block skips the
// configurations an earlier block already has, so that every
// configuration appears once. Configuration i is the i-th live position
// counting through the blocks in order, each in its product's
// mixed-radix order.
//
// Without include or exclude the one block is all live and nothing is
// stored. Otherwise each block keeps a bitset of its live positions and
// the count of live positions before each word, so that Point (select)
// and the index of a row's values (rank) cost a binary search: a bit and
// a half per position of the products, at most a few hundred kilobytes
// for MaxConfigs.

// Filter is an exclude entry: a configuration matches when, for every
// setting the entry names, its value is one of the entry's values.
type Filter struct {
	keys   []string            // config keys, params as "params.NAME", sorted
	values map[string][]string // key -> the values, as settingValue spells them
}

// matches says whether p has one of f's values for every key of f.
func (f *Filter) matches(p *Point) bool {
	for _, k := range f.keys {
		if !slices.Contains(f.values[k], settingValue(p, k)) {
			return false
		}
	}
	return true
}

// block is one product of a sweep's configurations.
type block struct {
	axes  *Axes
	n     int      // positions in the product
	live  bitset   // nil: every position is live
	rank  []uint32 // live positions before each word of live
	count int      // live positions
	first int      // index of its first configuration
}

func (b *block) isLive(pos int) bool { return b.live == nil || b.live.has(pos) }

// rankOf is the number of live positions before pos.
func (b *block) rankOf(pos int) int {
	if b.live == nil {
		return pos
	}
	w := pos / 64
	return int(b.rank[w]) + bits.OnesCount64(b.live[w]&(1<<(pos%64)-1))
}

// selectLive is the position of the k-th live position (0-based).
func (b *block) selectLive(k int) int {
	if b.live == nil {
		return k
	}
	w := sort.Search(len(b.rank), func(i int) bool { return int(b.rank[i]) > k }) - 1
	word, left := b.live[w], k-int(b.rank[w])
	for ; left > 0; left-- {
		word &= word - 1 // drop the lowest set bit
	}
	return w*64 + bits.TrailingZeros64(word)
}

// index finds the configuration with p's values: the first block holding
// them at a live position.
func findIndex(blocks []block, p *Point) (int, bool) {
	for i := range blocks {
		b := &blocks[i]
		pos, ok := b.axes.position(p)
		if ok && b.isLive(pos) {
			return b.first + b.rankOf(pos), true
		}
	}
	return 0, false
}

// buildBlocks lays out the products of top and includes, with exclude
// applied to top's. sizes are the products' sizes (each checked against
// the limit already). It reports, for each include, how many
// configurations it added.
func buildBlocks(top *Axes, includes []*Axes, exclude []Filter, sizes []int) ([]block, []int) {
	blocks := make([]block, 0, 1+len(includes))
	blocks = append(blocks, block{axes: top, n: sizes[0], count: sizes[0]})
	added := make([]int, len(includes))
	if len(includes) == 0 && len(exclude) == 0 {
		return blocks, added
	}
	main := &blocks[0]
	main.live = newBitset(main.n)
	for pos := range main.n {
		p := top.point(pos)
		if !slices.ContainsFunc(exclude, func(f Filter) bool { return f.matches(&p) }) {
			main.live.set(pos)
		}
	}
	main.index()
	for i, inc := range includes {
		b := block{axes: inc, n: sizes[1+i], live: newBitset(sizes[1+i])}
		for pos := range b.n {
			p := inc.point(pos)
			if _, dup := findIndex(blocks, &p); !dup {
				b.live.set(pos)
			}
		}
		b.index()
		added[i] = b.count
		blocks = append(blocks, b)
	}
	first := 0
	for i := range blocks {
		blocks[i].first = first
		first += blocks[i].count
	}
	return blocks, added
}

// index fills rank and count from live.
func (b *block) index() {
	b.rank = make([]uint32, len(b.live))
	n := 0
	for w, word := range b.live {
		b.rank[w] = uint32(n)
		n += bits.OnesCount64(word)
	}
	b.count = n
}

// bitset is a set of positions or configuration indexes.
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

func (b bitset) has(i int) bool { return b[i/64]&(1<<(i%64)) != 0 }
func (b bitset) set(i int)      { b[i/64] |= 1 << (i % 64) }
