package main

import (
	"github.com/spf13/cobra"

	"github.com/probesim/probesim"
)

// Shell completion: cobra's 'completion' command writes the scripts
// (bash, zsh, fish, powershell); these say what the values are: the
// strategies, the built-in profiles (and profile files), and the files
// each command takes.

// registerCompletions adds value completion to root's commands.
func registerCompletions(root *cobra.Command) {
	// Every strategy a run takes: probesim's, then the seed's variants.
	var strategies []string
	for _, s := range append(append([]probesim.Strategy{}, probesim.Strategies...), probesim.SeedStrategies...) {
		strategies = append(strategies, string(s))
	}
	for _, c := range root.Commands() {
		fl := c.Flags()
		if fl.Lookup("strategy") != nil {
			c.RegisterFlagCompletionFunc("strategy", cobra.FixedCompletions(strategies, cobra.ShellCompDirectiveNoFileComp))
		}
		if fl.Lookup("strategies") != nil {
			c.RegisterFlagCompletionFunc("strategies", cobra.FixedCompletions(strategies, cobra.ShellCompDirectiveNoFileComp))
		}
		if fl.Lookup("profile") != nil {
			c.RegisterFlagCompletionFunc("profile", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
				// A built-in name, or a profile file.
				return append(append([]string{}, probesim.BuiltinProfiles...), "json"), cobra.ShellCompDirectiveFilterFileExt
			})
		}
		for _, name := range []string{"json", "events", "probe-log", "stdout", "out", "baseline", "html"} {
			if fl.Lookup(name) != nil {
				c.MarkFlagFilename(name)
			}
		}
		switch c.Name() {
		case "sweep", "check":
			c.ValidArgsFunction = fileArgs(1, "yaml", "yml")
		case "plot":
			c.ValidArgsFunction = fileArgs(1, "csv", "json")
		case "merge":
			c.ValidArgsFunction = fileArgs(-1, "csv", "json")
		case "timeline":
			c.ValidArgsFunction = fileArgs(1, "jsonl", "json")
		case "version", "calibrate":
			c.ValidArgsFunction = cobra.NoFileCompletions
		}
	}
}

// fileArgs completes up to n (-1: any number) positional arguments with
// files of the extensions given.
func fileArgs(n int, exts ...string) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if n >= 0 && len(args) >= n {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return exts, cobra.ShellCompDirectiveFilterFileExt
	}
}
