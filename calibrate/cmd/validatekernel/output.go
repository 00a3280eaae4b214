package main

import (
	"encoding/json"
	"os"

	"github.com/probesim/probesim/timing"
)

// writeJSON records every result with the profiles' names and hosts.
func writeJSON(path string, host, pi *timing.Profile, rows []uprobeRow, inline []inlineRow) error {
	doc := struct {
		HostProfile   string      `json:"host_profile"`
		PtraceProfile string      `json:"ptrace_profile"`
		Host          string      `json:"host"`
		Uprobes       []uprobeRow `json:"uprobes"`
		Inline        []inlineRow `json:"inline"`
	}{HostProfile: host.Name, PtraceProfile: pi.Name, Uprobes: rows, Inline: inline}
	if host.Calibration != nil {
		doc.Host = host.Calibration.Host
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
