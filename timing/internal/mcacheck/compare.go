package mcacheck

import (
	"fmt"
	"math"
	"sort"

	"github.com/probesim/probesim/timing"
)

// Row is the comparison of one block.
type Row struct {
	Name      string
	Mode      int
	Insns     int     // instructions the model decoded
	Model     float64 // model cycles per execution: CostFP / 256
	MCA       float64 // llvm-mca cycles per iteration
	ErrPct    float64 // (Model - MCA) / MCA * 100
	Untabled  uint32  // instructions the model's table lacks
	Undecoded int     // bytes the model could not decode
	// Excluded: llvm-mca has no model for an instruction of the block (MCAResult.Placeholders),
	// so its cycles are not a reference. Shown, but left out of the error statistics.
	Excluded bool
}

// Report is the comparison of a corpus.
type Report struct {
	Rows      []Row   // corpus order
	Included  int     // rows not Excluded
	MAEPct    float64 // mean of |ErrPct| over the included rows: the validated figure
	MAEAllPct float64 // mean of |ErrPct| over every row, for reference
}

// CompareBlock costs one block with the profile and compares it with llvm-mca's result.
func CompareBlock(p *timing.Profile, b Block, mca MCAResult) (Row, error) {
	code, err := b.Code()
	if err != nil {
		return Row{}, err
	}
	if mca.Iterations == 0 || mca.TotalCycles == 0 {
		return Row{}, fmt.Errorf("block %s: no llvm-mca cycles", b.Name)
	}
	bc := p.CostBlock(code, 0, b.Mode)
	model := float64(bc.CostFP) / float64(uint64(1)<<timing.FPShift)
	want := mca.CyclesPerIter()
	return Row{
		Name: b.Name, Mode: b.Mode, Insns: int(bc.Insns),
		Model: model, MCA: want, ErrPct: (model - want) / want * 100,
		Untabled: bc.Untabled, Undecoded: bc.Undecoded, Excluded: mca.Placeholders > 0,
	}, nil
}

// NewReport computes the statistics of rows.
func NewReport(rows []Row) Report {
	r := Report{Rows: rows}
	var sum, sumAll float64
	for _, row := range rows {
		e := math.Abs(row.ErrPct)
		sumAll += e
		if !row.Excluded {
			sum += e
			r.Included++
		}
	}
	if r.Included > 0 {
		r.MAEPct = sum / float64(r.Included)
	}
	if len(rows) > 0 {
		r.MAEAllPct = sumAll / float64(len(rows))
	}
	return r
}

// CompareGolden compares the profile with every block of a golden file.
func CompareGolden(p *timing.Profile, g *Golden) (Report, error) {
	var rows []Row
	for _, b := range g.Blocks {
		row, err := CompareBlock(p, b.Block, b.MCA.Result())
		if err != nil {
			return Report{}, err
		}
		rows = append(rows, row)
	}
	return NewReport(rows), nil
}

// Worst returns the n included rows with the largest |ErrPct|, largest first, ties by name.
func (r Report) Worst(n int) []Row {
	var rows []Row
	for _, row := range r.Rows {
		if !row.Excluded {
			rows = append(rows, row)
		}
	}
	sort.SliceStable(rows, func(i, j int) bool {
		ei, ej := math.Abs(rows[i].ErrPct), math.Abs(rows[j].ErrPct)
		if ei != ej {
			return ei > ej
		}
		return rows[i].Name < rows[j].Name
	})
	return rows[:min(n, len(rows))]
}
