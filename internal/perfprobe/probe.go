package perfprobe

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"time"
)

// Preflight says in one line why this host cannot place perf probes, or
// "": they need root (perf probe writes the kernel's uprobe_events), perf
// on PATH and the uprobe PMU, whose type file is at pmuTypePath. The
// parameters let tests inject each condition.
func Preflight(euid int, lookPath func(string) (string, error), pmuTypePath string) string {
	if euid != 0 {
		return "needs root: perf probe writes the kernel's uprobe_events"
	}
	if _, err := lookPath("perf"); err != nil {
		return "no perf on PATH (Debian: apt-get install linux-perf)"
	}
	if _, err := os.Stat(pmuTypePath); err != nil {
		return "no uprobe PMU (" + pmuTypePath + " does not exist): the kernel lacks CONFIG_UPROBE_EVENTS"
	}
	return ""
}

// Group is the uprobes one run creates with perf probe, all in one group
// of its own, so that deleting the group removes exactly them.
type Group struct {
	name string
	made int
}

// NewGroup returns an empty group; name must be a C identifier, unique to
// the run.
func NewGroup(name string) *Group { return &Group{name: name} }

// Name is the group's name, the part of every event name before ':'.
func (g *Group) Name() string { return g.name }

// AddAt creates GROUP:event on the instruction at file offset off of the
// ELF file path and returns the event's full name. what names the place in
// errors (a symbol, say).
func (g *Group) AddAt(ctx context.Context, path string, off uint64, event, what string) (string, error) {
	name := g.name + ":" + event
	at := fmt.Sprintf("%s=0x%x", name, off)
	g.made++ // before the command: a failure halfway still gets cleaned up
	out, err := exec.CommandContext(ctx, "perf", "probe", "-q", "-x", path, "-a", at).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("perf probe -x %s -a %s (%s): %v: %s", path, at, what, err, FirstLine(out))
	}
	return name, nil
}

// DeleteAll deletes the group's probes, with a context of its own: it also
// runs after an interrupt ended the run's.
func (g *Group) DeleteAll() error {
	if g.made == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "perf", "probe", "-q", "-d", g.name+":*").CombinedOutput()
	if err != nil {
		return fmt.Errorf("perf probe -d %s:*: %v: %s (delete them by hand)", g.name, err, FirstLine(out))
	}
	g.made = 0
	return nil
}
