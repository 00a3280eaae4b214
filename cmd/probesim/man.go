package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Manual pages, generated from the commands themselves (their Short,
// Long, Example and flags), so they say what --help says: probesim(1) and
// probesim-COMMAND(1) for each command. make install writes them with the
// hidden command 'probesim man DIR'. The pages carry no date, so the same
// probesim writes the same bytes.

func newManCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "man DIR",
		Short:  "Write probesim's manual pages (roff, section 1) into DIR",
		Hidden: true,
		Args:   exactArgs(1, "DIR"),
		RunE: func(c *cobra.Command, args []string) error {
			n, err := writeManPages(c.Root(), args[0])
			if err != nil {
				return usageError("man: %v", err)
			}
			fmt.Fprintf(c.ErrOrStderr(), "man: %s: %d pages\n", args[0], n)
			return nil
		},
	}
}

// writeManPages writes a page for root and each visible command into dir.
func writeManPages(root *cobra.Command, dir string) (int, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	cmds := []*cobra.Command{root}
	for _, c := range root.Commands() {
		if c.IsAvailableCommand() {
			cmds = append(cmds, c)
		}
	}
	for _, c := range cmds {
		path := filepath.Join(dir, manName(c)+".1")
		if err := os.WriteFile(path, manPage(c), 0o644); err != nil {
			return 0, err
		}
	}
	return len(cmds), nil
}

// manName is a command's page name: probesim, probesim-run, ...
func manName(c *cobra.Command) string { return strings.ReplaceAll(c.CommandPath(), " ", "-") }

// manPage renders one command's page.
func manPage(c *cobra.Command) []byte {
	var b bytes.Buffer
	name := manName(c)
	fmt.Fprintf(&b, ".TH %s 1 \"\" \"probesim %s\" \"probesim manual\"\n", strings.ToUpper(name), roff(buildVersion()))
	fmt.Fprintf(&b, ".SH NAME\n%s \\- %s\n", roff(name), roff(c.Short))
	b.WriteString(".SH SYNOPSIS\n")
	if c.HasParent() {
		fmt.Fprintf(&b, ".B %s\n", roff(c.UseLine()))
	} else {
		b.WriteString(".B probesim\n.I COMMAND\n[flags]\n")
	}
	b.WriteString(".SH DESCRIPTION\n")
	b.WriteString(paragraphs(c.Long))
	if !c.HasParent() {
		b.WriteString(".SH COMMANDS\n")
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				fmt.Fprintf(&b, ".TP\n.B %s\n%s\n", roff(sub.Name()), roff(sub.Short))
			}
		}
	}
	if opts := flagItems(c.NonInheritedFlags()); opts != "" {
		b.WriteString(".SH OPTIONS\n" + opts)
	}
	if c.Example != "" {
		b.WriteString(".SH EXAMPLES\n.nf\n")
		for _, l := range strings.Split(strings.TrimRight(c.Example, "\n"), "\n") {
			b.WriteString(roff(strings.TrimPrefix(l, "  ")) + "\n")
		}
		b.WriteString(".fi\n")
	}
	b.WriteString(".SH SEE ALSO\n")
	var see []string
	if c.HasParent() {
		see = append(see, ".BR probesim (1)")
	} else {
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				see = append(see, ".BR "+roff(manName(sub))+" (1)")
			}
		}
	}
	b.WriteString(strings.Join(see, ",\n") + "\n")
	b.WriteString("The documents under docs/ in probesim's source: README.md, docs/sweep.md, docs/ci.md, docs/demo.md, docs/plot.md, docs/report-schema.md.\n")
	return b.Bytes()
}

// paragraphs renders text: blank lines part paragraphs, and a paragraph
// whose lines are indented is kept as written (lists, commands).
func paragraphs(text string) string {
	var b strings.Builder
	for _, p := range strings.Split(strings.TrimSpace(text), "\n\n") {
		lines := strings.Split(p, "\n")
		if strings.HasPrefix(lines[0], " ") {
			b.WriteString(".PP\n.nf\n")
			for _, l := range lines {
				b.WriteString(roff(l) + "\n")
			}
			b.WriteString(".fi\n")
			continue
		}
		b.WriteString(".PP\n")
		for _, l := range lines {
			b.WriteString(roff(l) + "\n")
		}
	}
	return b.String()
}

// flagItems renders flags as tagged paragraphs, in name order.
func flagItems(fs *pflag.FlagSet) string {
	var flags []*pflag.Flag
	fs.VisitAll(func(f *pflag.Flag) {
		if !f.Hidden {
			flags = append(flags, f)
		}
	})
	sort.Slice(flags, func(i, j int) bool { return flags[i].Name < flags[j].Name })
	var b strings.Builder
	for _, f := range flags {
		varname, usage := pflag.UnquoteUsage(f)
		tag := "\\-\\-" + roff(f.Name)
		if f.Shorthand != "" {
			tag = "\\-" + roff(f.Shorthand) + ", " + tag
		}
		if varname != "" {
			tag += " " + roff(varname)
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "[]" && f.DefValue != "0" {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(&b, ".TP\n.B %s\n%s\n", tag, roff(usage))
	}
	return b.String()
}

// roff escapes text for a roff line: backslashes, and a leading dot or
// quote that would make the line a request.
func roff(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}
