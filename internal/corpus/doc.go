// Package corpus holds the report corpus: the run reports (without their
// host object) and probe event logs of a fixed list of scenarios, covering
// every fixture on both arches, each strategy on 1 to 8 vCPUs and several
// seeds, lockstep, the fixup classes, stack expansion, the example sweeps'
// points and the demo. TestReportCorpus reruns them and requires
// byte-identical results, so that a change below the model (the engine,
// the address space's backing, the cost cache, how probes are watched)
// cannot move a cycle unnoticed.
//
// After an intended change to the model, review the differences the test
// prints, then re-record:
//
//	go test ./internal/corpus/ -run TestReportCorpus -update
//
// The package has no code besides its test; the scenarios run programs
// under fixed guest paths (never the checkout's), so the corpus does not
// depend on where the tree lives.
package corpus
