package smp

// SetCheckCycles sets checkCycles for a test and returns the old value.
func SetCheckCycles(c uint64) uint64 {
	old := checkCycles
	checkCycles = c
	return old
}
