package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/probesim/probesim/sweep"
)

func newMergeCmd() *cobra.Command {
	var partial, quiet bool
	c := &cobra.Command{
		Use:   "merge OUT.csv|OUT.json SHARD_FILE...",
		Short: "Join the results files of a sharded sweep",
		Long: `Join the results files written by 'probesim sweep --shard I/N' (CSV or JSON,
in any mix) into OUT, one row per configuration in configuration order, as
an unsharded sweep would have written it.

The shards must come from one sweep: the same program, args, probes, env,
budget and number of configurations. A configuration found in several files
is kept once if the rows are identical (runs are deterministic, so a re-run
shard repeats itself); rows that differ are a conflict. A configuration no
file has is an error unless --partial, which writes the rows there are:
'probesim sweep CONFIG --out OUT' then runs the missing ones.

Exit status: 0 on success; 125 for unreadable files, rows of different
sweeps, conflicts, or missing configurations without --partial.`,
		Example: `  probesim merge results.csv shard-1.csv shard-2.csv shard-3.csv
  probesim merge results.json shard-*.csv
  probesim merge --partial results.csv shard-*.csv && probesim sweep sweep.yaml --out results.csv`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			out := args[0]
			if _, err := sweep.FormatOf(out); err != nil {
				return usageError("merge: OUT: %v", err)
			}
			var inputs []sweep.Input
			for _, name := range args[1:] {
				rows, err := sweep.ReadFile(name)
				if err != nil {
					return usageError("merge: %v", err)
				}
				inputs = append(inputs, sweep.Input{Name: name, Rows: rows})
			}
			rows, st, err := sweep.Merge(inputs)
			if err != nil {
				return usageError("merge: %v", err)
			}
			if len(st.Missing) > 0 && !partial {
				return usageError("merge: %d of the %d configurations are in no file (indexes %s): is a shard missing? --partial writes the rows there are",
					len(st.Missing), st.Configs, indexList(st.Missing))
			}
			if err := sweep.WriteFile(out, rows); err != nil {
				if werr := writeError("merge: OUT", err); werr != nil {
					return werr
				}
				return usageError("merge: %v", err)
			}
			if !quiet {
				fmt.Fprintf(c.ErrOrStderr(), "merge: %s: %d of %d configurations from %d files (%d identical repeats dropped, %d missing)\n",
					out, st.Rows, st.Configs, st.Files, st.Duplicates, len(st.Missing))
			}
			return nil
		},
	}
	c.Flags().BoolVar(&partial, "partial", false, "write the rows even if some configurations are in no file")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "print nothing but errors (no summary line)")
	return c
}

// indexList spells the first few indexes of a list.
func indexList(l []int) string {
	const shown = 8
	var parts []string
	for i, n := range l {
		if i == shown {
			parts = append(parts, "...")
			break
		}
		parts = append(parts, fmt.Sprint(n))
	}
	return strings.Join(parts, ", ")
}
