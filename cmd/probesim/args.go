package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// Positional argument checks with messages that name what is wanted,
// instead of cobra's "accepts 1 arg(s), received 2".

// commandName is c's path without the leading "probesim", for messages
// that main prefixes with "probesim: ".
func commandName(c *cobra.Command) string {
	return strings.TrimPrefix(strings.TrimPrefix(c.CommandPath(), c.Root().Name()), " ")
}

// argsError is a usage error about c's arguments, pointing at its help.
func argsError(c *cobra.Command, format string, a ...any) error {
	return usageError("%s: %s (see '%s --help')", commandName(c), fmt.Sprintf(format, a...), c.CommandPath())
}

// exactArgs wants one argument per name.
func exactArgs(n int, names ...string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		switch {
		case len(args) < n:
			return argsError(c, "missing %s", strings.Join(names[len(args):], " "))
		case len(args) > n:
			return argsError(c, "want %s, got %d arguments: %s", strings.Join(names, " "), len(args), strings.Join(args, " "))
		}
		return nil
	}
}

// minArgs wants at least one argument per name; what follows is free.
func minArgs(names ...string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) < len(names) {
			return argsError(c, "missing %s", strings.Join(names[len(args):], " "))
		}
		return nil
	}
}
