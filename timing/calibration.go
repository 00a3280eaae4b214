package timing

// Calibration is the provenance of a profile measured on a host by
// `probesim calibrate` (package calibrate): for every parameter, how it
// was obtained, and the median and spread of the measurement behind it.
// JSON schema: doc.go ("Calibration").
type Calibration struct {
	Tool   string `json:"tool"`   // "probesim calibrate"
	Host   string `json:"host"`   // the CPU model and kernel release it ran on
	CPUs   int    `json:"cpus"`   // CPUs used for the multi-CPU measurements
	Repeat int    `json:"repeat"` // repeats of every measurement
	// ClockMethod says how freq_hz was measured and what times were
	// converted with.
	ClockMethod string `json:"clock_method"`
	// InsnTable says why the block costs come from the table they do.
	InsnTable string `json:"insn_table"`
	// Params has one entry per calibrated parameter, in Params order.
	Params []CalibratedParam `json:"params"`
	// Measurements are the raw measurements the parameters derive from,
	// sorted by name.
	Measurements []Measurement `json:"measurements"`
	// Skipped lists the parts not measured, each with its one-line reason.
	Skipped []string `json:"skipped"`
}

// CalibratedParam is one parameter of a calibrated profile.
type CalibratedParam struct {
	Name string `json:"name"` // dotted parameter name, e.g. "kernel.syscall_entry_exit"
	// Source is "measured" (derived from this host's measurements),
	// "table" (from the instruction table's machine) or "estimate" (not
	// measurable from user space; carried over from the skylake profile,
	// converted to this clock).
	Source string `json:"source"`
	Method string `json:"method"` // how, in one sentence
	// Median, Min, Max and SpreadPercent summarise the per-repeat values
	// in nanoseconds (zero for a parameter that is not a time).
	// SpreadPercent is the interquartile range over the median, in percent.
	MedianNS      float64 `json:"median_ns"`
	MinNS         float64 `json:"min_ns"`
	MaxNS         float64 `json:"max_ns"`
	SpreadPercent float64 `json:"spread_percent"`
}

// Measurement is one measured quantity over the repeats.
type Measurement struct {
	Name          string  `json:"name"` // e.g. "syscall_ns", "core_hz"
	Median        float64 `json:"median"`
	Min           float64 `json:"min"`
	Max           float64 `json:"max"`
	SpreadPercent float64 `json:"spread_percent"`
	Samples       int     `json:"samples"`
}
