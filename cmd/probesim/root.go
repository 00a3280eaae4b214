package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/probesim/probesim"
)

// version is set at link time (-ldflags "-X main.version=...") by make.
var version = "dev"

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "probesim",
		Short: "Cycle-accurate x86 user-space emulator for studying uprobes on SMP",
		Long: `probesim runs unmodified static x86 Linux programs (i386 and x86-64) on
emulated vCPUs that share one address space, with a deterministic cycle clock,
and measures how user-space probe strategies behave.

Shell completion (flags, strategies, profiles): 'probesim completion bash'
(or zsh, fish, powershell) prints the script; see 'probesim completion --help'.`,
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.AddCommand(newRunCmd(), newDemoCmd(), newTimelineCmd(), newSweepCmd(), newMergeCmd(), newCheckCmd(), newPlotCmd(), newCalibrateCmd(), newVersionCmd(), newManCmd())
	// Flag errors are usage errors (exit 125) and name the flag at fault.
	root.SetFlagErrorFunc(flagError)
	registerCompletions(root)
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print probesim's version (also: probesim --version)",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			fmt.Fprintln(c.OutOrStdout(), versionString())
			return nil
		},
	}
}

// versionString is probesim's version line: the version make stamps
// (git describe), else the module version a 'go install pkg@version'
// build records, else the VCS revision Go stamps into a build from a
// checkout; then the report schema and the engine's version.
func versionString() string {
	return fmt.Sprintf("probesim %s (report schema %s, Unicorn %s)", buildVersion(), reportSchema(), probesim.EngineVersion())
}

func buildVersion() string {
	bi, _ := debug.ReadBuildInfo()
	return versionFrom(version, bi)
}

// versionFrom picks the version: stamped by make (not "dev"), else bi's
// module version ('go install github.com/probesim/probesim/cmd/probesim@v1.2.0'
// records v1.2.0), else "dev-" and the first 12 digits of the VCS
// revision Go stamped (with -dirty for a modified tree), else "dev".
func versionFrom(stamped string, bi *debug.BuildInfo) string {
	if stamped != "dev" || bi == nil {
		return stamped
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if len(rev) >= 12 {
		return "dev-" + rev[:12] + dirty
	}
	return stamped
}
