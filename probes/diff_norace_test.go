//go:build !race

package probes

// diffSampleStride is the sample's stride.
func diffSampleStride() int { return diffStride }
