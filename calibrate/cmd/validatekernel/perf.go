package main

import (
	"context"

	"github.com/probesim/probesim/internal/perfprobe"
)

// addProbe creates GROUP:event on the first instruction of function sym of
// bin and returns the event's full name. It goes at the function's file
// offset, not at its name (perfprobe says why).
func addProbe(ctx context.Context, probes *perfprobe.Group, bin, sym, event string) (string, error) {
	p, err := perfprobe.Locate(bin, sym, 0)
	if err != nil {
		return "", err
	}
	return probes.AddAt(ctx, bin, p.FileOffset, event, sym)
}
