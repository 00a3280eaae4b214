// Command probesim runs x86 Linux programs on emulated vCPUs and measures
// how user-space probes behave on them. See `probesim --help`.
package main

import (
	"errors"
	"fmt"
	"os"
)

// Exit statuses of probesim itself, following env(1) and timeout(1).
const (
	exitUsage     = 125 // probesim's own error: bad flags, unreadable config
	exitCannotRun = 126 // the program exists but cannot be run here
	exitNotFound  = 127 // the program does not exist
)

// exitError carries the status probesim should exit with.
type exitError struct {
	status int
	err    error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func main() {
	os.Exit(run(os.Args[1:]))
}

// run executes the command line and returns the process exit status.
func run(args []string) int {
	cmd := newRootCmd()
	cmd.SetArgs(args)
	err := cmd.Execute()
	if err == nil {
		return 0
	}
	err = commandError(cmd, err)
	var st *guestStatus
	if errors.As(err, &st) {
		return st.status
	}
	fmt.Fprintf(os.Stderr, "probesim: %v\n", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.status
	}
	return exitUsage
}

// guestStatus is not an error of probesim's: it carries the guest's exit
// status out of the command so that probesim exits with it.
type guestStatus struct{ status int }

func (g *guestStatus) Error() string { return fmt.Sprintf("guest exited with status %d", g.status) }
