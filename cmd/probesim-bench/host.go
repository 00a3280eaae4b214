package main

import (
	"bufio"
	"os"
	"runtime"
	"strings"
)

// hostInfo describes the machine the benchmark ran on: its numbers mean
// little without the CPU and how busy the machine was.
type hostInfo struct {
	CPU         string `json:"cpu"`
	CPUs        int    `json:"cpus"`
	GoVersion   string `json:"go_version"`
	LoadAtStart string `json:"load_at_start"` // 1, 5 and 15 minute averages
	LoadAtEnd   string `json:"load_at_end"`
}

func newHostInfo() hostInfo {
	return hostInfo{CPU: cpuModel(), CPUs: runtime.NumCPU(), GoVersion: runtime.Version(),
		LoadAtStart: loadAverage()}
}

// cpuModel is the first "model name" of /proc/cpuinfo, or "unknown".
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(key) == "model name" {
			return strings.TrimSpace(val)
		}
	}
	return "unknown"
}

// loadAverage is the first three fields of /proc/loadavg, or "unknown".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
