package main

import (
	"fmt"
	"regexp"
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
	prefix := ""
	if n := commandName(c); n != "" {
		prefix = n + ": "
	}
	return usageError("%s%s (see '%s --help')", prefix, fmt.Sprintf(format, a...), c.CommandPath())
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

// noArgs wants no argument.
func noArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return argsError(c, "takes no arguments, got %s", strings.Join(args, " "))
	}
	return nil
}

// requireFlags fails when one of the flags named was not given.
func requireFlags(c *cobra.Command, names ...string) error {
	for _, n := range names {
		if !c.Flags().Changed(n) {
			return argsError(c, "--%s is required", n)
		}
	}
	return nil
}

// pflagInvalid matches pflag's error for a value of the wrong type.
var pflagInvalid = regexp.MustCompile(`^invalid argument "(.*)" for "(?:-., )?--([^"]+)" flag: `)

// flagError restates pflag's errors as one line naming the command, the
// flag and what it wants, and points at the help: a usage error.
func flagError(c *cobra.Command, err error) error {
	msg := err.Error()
	if m := pflagInvalid.FindStringSubmatch(msg); m != nil {
		want := "a value of its type"
		if f := c.Flags().Lookup(m[2]); f != nil {
			switch f.Value.Type() {
			case "uint64", "uint", "uint32":
				want = "a non-negative integer"
			case "int", "int64", "int32":
				want = "an integer"
			case "bool":
				want = "true or false"
			case "float64":
				want = "a number"
			case "intSlice":
				want = "comma-separated integers"
			}
		}
		msg = fmt.Sprintf("invalid argument %q for --%s: want %s", m[1], m[2], want)
	}
	return argsError(c, "%s", msg)
}

// commandError restates cobra's errors that reach main without passing
// through a command (an unknown command, with its suggestions on lines of
// their own) as one line.
func commandError(root *cobra.Command, err error) error {
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, "unknown command "); ok {
		name, _, _ := strings.Cut(rest, " for ")
		hint := ""
		if s := root.SuggestionsFor(strings.Trim(name, `"`)); len(s) > 0 {
			hint = fmt.Sprintf(" (did you mean %q?)", s[0])
		}
		return usageError("unknown command %s%s: the commands are %s (see 'probesim --help')", name, hint, strings.Join(commandNames(root), ", "))
	}
	return err
}

// commandNames are root's visible commands.
func commandNames(root *cobra.Command) []string {
	var out []string
	for _, c := range root.Commands() {
		if c.IsAvailableCommand() {
			out = append(out, c.Name())
		}
	}
	return out
}
