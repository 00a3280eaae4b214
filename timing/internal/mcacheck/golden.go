package mcacheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// Golden is the committed record of llvm-mca's results on the corpus
// (timing/testdata/mca_skylake.json), so that a test can check the model against llvm-mca
// on a machine without llvm.
type Golden struct {
	MCAVersion     string        `json:"mca_version"`             // `llvm-mca-14 --version`, e.g. "Debian LLVM version 14.0.6"
	ObjdumpVersion string        `json:"objdump_version"`         // the disassembler that wrote the asm lines
	Command        string        `json:"command"`                 // the llvm-mca command line
	Cycles         string        `json:"cycles"`                  // how mca_cycles_per_iter is computed
	TargetMAEPct   float64       `json:"target_mae_percent"`      // TargetMAEPct when written
	MaxBlockErrPct float64       `json:"max_block_error_percent"` // MaxBlockErrPct when written
	Blocks         []GoldenBlock `json:"blocks"`
}

// GoldenBlock is one block and llvm-mca's result on it.
type GoldenBlock struct {
	Block
	Asm []string  `json:"asm"` // the llvm-mca input, between the .Lblock and .Lend labels
	MCA MCARecord `json:"mca"`
}

// MCARecord is MCAResult as stored in the golden file.
type MCARecord struct {
	Iterations    uint64  `json:"iterations"`
	Instructions  uint64  `json:"instructions"`
	TotalCycles   uint64  `json:"total_cycles"`
	RThroughput   float64 `json:"block_rthroughput"`
	CyclesPerIter float64 `json:"cycles_per_iter"`  // TotalCycles / Iterations, for readers
	Placeholders  int     `json:"placeholder_rows"` // instructions llvm-mca gives its placeholder latency 100
}

// Record converts an llvm-mca result for the golden file.
func Record(r MCAResult) MCARecord {
	return MCARecord{r.Iterations, r.Instructions, r.TotalCycles, r.RThroughput, r.CyclesPerIter(), r.Placeholders}
}

// Result converts back.
func (m MCARecord) Result() MCAResult {
	return MCAResult{m.Iterations, m.Instructions, m.TotalCycles, m.RThroughput, m.Placeholders}
}

// CyclesDefinition is Golden.Cycles.
const CyclesDefinition = "total_cycles / iterations"

// TargetMAEPct is the validation target: the model's mean absolute percentage error against
// llvm-mca over the corpus.
const TargetMAEPct = 15.0

// MaxBlockErrPct bounds any single compared block's |error|: a coarse guard, far above the
// typical error, against a broken table row (a divide costed as an add is off by ~99%).
const MaxBlockErrPct = 50.0

// ReadGolden reads and checks a golden file.
func ReadGolden(path string) (*Golden, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("golden %s: %v", path, err)
	}
	g, err := ParseGolden(data)
	if err != nil {
		return nil, fmt.Errorf("golden %s: %v", path, err)
	}
	return g, nil
}

// ParseGolden parses a golden file; unknown fields are errors.
func ParseGolden(data []byte) (*Golden, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var g Golden
	if err := dec.Decode(&g); err != nil {
		return nil, fmt.Errorf("malformed JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("malformed JSON: data after the object")
	}
	if g.MCAVersion == "" || g.Command == "" {
		return nil, errors.New("mca_version and command must be recorded")
	}
	if len(g.Blocks) == 0 {
		return nil, errors.New("no blocks")
	}
	seen := map[string]bool{}
	for _, b := range g.Blocks {
		if seen[b.Name] {
			return nil, fmt.Errorf("block %s twice", b.Name)
		}
		seen[b.Name] = true
		if _, err := b.Code(); err != nil {
			return nil, err
		}
		if b.MCA.Iterations == 0 || b.MCA.TotalCycles == 0 {
			return nil, fmt.Errorf("block %s: no llvm-mca result", b.Name)
		}
	}
	return &g, nil
}

// Write writes the golden file, indented, blocks in corpus order.
func (g *Golden) Write(path string) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep "<x86_64|i386>" readable in the command
	enc.SetIndent("", "  ")
	if err := enc.Encode(g); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
