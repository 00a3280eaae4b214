package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at link time (-ldflags "-X main.version=...") by make.
var version = "dev"

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "probesim",
		Short: "Cycle-accurate x86 user-space emulator for studying uprobes on SMP",
		Long: `probesim runs unmodified static x86 Linux programs (i386 and x86-64) on
emulated vCPUs that share one address space, with a deterministic cycle clock,
and measures how user-space probe strategies behave.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newRunCmd(), newDemoCmd(), newSweepCmd(), newMergeCmd(), newCheckCmd(), newPlotCmd(), newCalibrateCmd(), newVersionCmd())
	// Flag errors are usage errors (exit 125) and name the flag at fault.
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitError{status: exitUsage, err: fmt.Errorf("%s: %w (see '%s --help')", c.CommandPath(), err, c.CommandPath())}
	})
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print probesim's version",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			v := version
			if bi, ok := debug.ReadBuildInfo(); ok && v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
				v = bi.Main.Version
			}
			fmt.Fprintf(c.OutOrStdout(), "probesim %s (report schema %s, Unicorn 2.0.1)\n", v, reportSchema())
			return nil
		},
	}
}
