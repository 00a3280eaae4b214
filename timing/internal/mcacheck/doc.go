// Package mcacheck checks the timing package's block model against llvm-mca.
//
// It owns the validation corpus (the hot loops extracted from the fixture binaries and a
// curated list of real basic blocks, corpus.go), the translation of a block's bytes into
// assembly llvm-mca accepts (objdump.go), running llvm-mca and reading its summary (mca.go),
// the golden file of llvm-mca's results that lets tests check the model without llvm
// (golden.go), and the comparison and its statistics (compare.go). timing/cmd/validatetiming
// drives it; timing/validate_test.go checks the model against the golden file.
//
// # What is compared
//
// For every block, the model's cycles per execution (Profile.CostBlock(...).CostFP / 256,
// with the profile's default chain mode) against llvm-mca's cycles per iteration: Total
// Cycles / Iterations of
//
//	llvm-mca-14 -mtriple=<x86_64|i386>-unknown-linux-gnu -mcpu=skylake -iterations=100 block.s
//
// The triple is given because the 32-bit blocks do not assemble for llvm-mca's default
// x86-64 target. Total Cycles includes the pipeline fill and drain of the 100 iterations, so a
// 1-cycle loop reads 1.03-1.05: that is llvm-mca's number and is compared as is.
//
// # Branches
//
// A block keeps its final branch in both the model and llvm-mca. The model costs the bytes
// exactly as the emulator's block hook would. For llvm-mca, which ignores control flow but
// must parse the text, objdump's numeric branch and call targets are replaced by labels: a
// branch back to the block's first byte jumps to .Lblock (defined before the first
// instruction), any other direct target to .Lend (defined after the last). objdump's "bnd"
// prefix, which llvm-mc rejects and which costs nothing, is dropped, as are its "#" comments.
//
// # Invariants
//
// Deterministic: blocks keep corpus order, the worst-block list breaks ties by name, and
// nothing depends on map order or the clock. Bad input (unknown symbol, undecodable bytes,
// an llvm-mca error) is an error naming the block, never a panic.
//
// # Locking
//
// None: every function works on its arguments only.
package mcacheck
