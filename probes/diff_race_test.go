//go:build race

package probes

// diffSampleStride under the race detector, where every run is several
// times slower: a quarter of the usual sample.
func diffSampleStride() int { return 4 * diffStride }
