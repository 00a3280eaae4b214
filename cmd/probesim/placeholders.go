package main

// Commands under construction; each moves to its own file when done.

import (
	"errors"

	"github.com/spf13/cobra"
)

func placeholder(use, short string) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return &exitError{status: exitUsage, err: errors.New(use + ": not built yet")}
		}}
}

func newDemoCmd() *cobra.Command  { return placeholder("demo", "teaching demo") }
func newSweepCmd() *cobra.Command { return placeholder("sweep", "parameter sweep") }
func newMergeCmd() *cobra.Command { return placeholder("merge", "merge sweep shards") }
func newCheckCmd() *cobra.Command { return placeholder("check", "miss-rate regression check") }
func newPlotCmd() *cobra.Command  { return placeholder("plot", "plot sweep results") }
