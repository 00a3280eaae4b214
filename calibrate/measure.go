package calibrate

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Options control a calibration run.
type Options struct {
	// CPUs is how many CPUs the multi-CPU measurements use (the first
	// ones of the process's affinity mask; 0 = all of them).
	CPUs int
	// Repeat is how many times every measurement runs (0 = 5).
	Repeat int
	// Scale multiplies every measurement's operation count (0 = 1); tests
	// use a small scale. Fewer operations mean more noise, not other
	// results.
	Scale float64
	// Progress, if not nil, gets one line per measurement.
	Progress io.Writer

	env env
}

// env is what the host offers; Run fills the zero value from the host,
// tests inject conditions.
type env struct {
	euid        int
	pmuTypePath string
	uprober     uprober
	// stage, if not nil, is called when a measurement starts, with its
	// name (tests interrupt a run there).
	stage func(name string)
	set   bool
}

// Measurements are what one calibration run measured: per repeat, every
// value by name (times in nanoseconds per operation, frequencies in Hz).
type Measurements struct {
	Host    string // CPU model and kernel release
	CPUs    []int  // the CPUs used
	Repeats []map[string]float64
	// Skipped lists the parts not measured, each with a one-line reason.
	Skipped []string
}

// measurement is one helper run.
type measurement struct {
	name string
	args func(cpus []int, scale float64) []string
	// minCPUs is the CPUs it needs; with fewer it is skipped.
	minCPUs int
}

func count(n float64, scale float64) string {
	return strconv.Itoa(max(1, int(n*scale)))
}

func cpuArgs(cpus []int) []string {
	out := make([]string, len(cpus))
	for i, c := range cpus {
		out[i] = strconv.Itoa(c)
	}
	return out
}

// plan is the helper's measurements, in the order they run (helper/calib.c
// says what each measures).
var plan = []measurement{
	{"clock", func([]int, float64) []string { return []string{"clock"} }, 1},
	{"syscall", func(_ []int, s float64) []string { return []string{"syscall", count(1e6, s)} }, 1},
	{"pipe", func(_ []int, s float64) []string { return []string{"pipe", count(2e5, s)} }, 1},
	{"pagefault", func(_ []int, s float64) []string { return []string{"pagefault", count(2e4, s)} }, 1},
	{"cow", func(_ []int, s float64) []string { return []string{"cow", count(5e3, s)} }, 1},
	{"mprotect", func(c []int, s float64) []string { return []string{"mprotect", count(2e3, s), strconv.Itoa(c[0])} }, 1},
	{"shootdown", func(c []int, s float64) []string { return append([]string{"mprotect", count(2e3, s)}, cpuArgs(c)...) }, 2},
	{"ctxsw", func(c []int, s float64) []string { return []string{"ctxsw", count(2e4, s), strconv.Itoa(c[0])} }, 1},
	{"int3", func(_ []int, s float64) []string { return []string{"int3", count(1e5, s)} }, 1},
	{"step", func(_ []int, s float64) []string { return []string{"step", count(2e4, s)} }, 1},
	{"iret", func(_ []int, s float64) []string { return []string{"iret", count(1e6, s)} }, 1},
	{"cpuid", func(_ []int, s float64) []string { return []string{"cpuid", count(2e4, s)} }, 1},
	{"xmc", func(c []int, s float64) []string {
		return []string{"xmc", count(1e3, s), strconv.Itoa(c[0]), strconv.Itoa(c[1])}
	}, 2},
}

// Run measures the host. It returns an error only when a measurement
// fails or ctx ends; parts the host cannot do are skipped and listed. It
// leaves nothing behind: every helper process is killed and reaped and
// every uprobe closed before it returns, whether it succeeds, fails or is
// interrupted.
func Run(ctx context.Context, opt Options) (*Measurements, error) {
	if opt.Repeat == 0 {
		opt.Repeat = 5
	}
	if opt.Scale == 0 {
		opt.Scale = 1
	}
	if opt.Repeat < 0 || opt.Scale < 0 {
		return nil, errors.New("calibrate: repeat and scale must be positive")
	}
	if !opt.env.set {
		opt.env = hostEnv()
	}
	cpus, err := pickCPUs(opt.CPUs)
	if err != nil {
		return nil, err
	}
	h, err := openHelper()
	if err != nil {
		return nil, fmt.Errorf("calibrate: %w", err)
	}
	defer h.Close()
	ms := &Measurements{Host: hostName(), CPUs: cpus}
	skip := func(reason string) { ms.Skipped = append(ms.Skipped, reason) }
	for _, m := range plan {
		if len(cpus) < m.minCPUs {
			skip(fmt.Sprintf("%s skipped: needs %d CPUs, have %d", m.name, m.minCPUs, len(cpus)))
		}
	}
	why := uprobePreflight(opt.env.euid, opt.env.pmuTypePath)
	if why != "" {
		skip(why)
	}
	for r := 0; r < opt.Repeat; r++ {
		vals := map[string]float64{}
		for _, m := range plan {
			if len(cpus) < m.minCPUs {
				continue
			}
			opt.stageStart(m.name, r)
			res, err := h.run(ctx, m.args(cpus, opt.Scale)...)
			if err != nil {
				return nil, stageError(ctx, m.name, err)
			}
			for k, v := range res {
				if m.name == "shootdown" {
					// The same helper mode as "mprotect", with spinners.
					k = "shootdown_" + strings.TrimPrefix(k, "mprotect_")
				}
				vals[k] = v
			}
		}
		if why == "" {
			opt.stageStart("uprobe", r)
			if err := measureUprobes(ctx, h, opt.env.uprober, cpus[0], opt.Scale, vals); err != nil {
				return nil, stageError(ctx, "uprobe", err)
			}
		}
		opt.stageStart("ptrace", r)
		if err := measurePtrace(ctx, h, cpus[0], opt.Scale, vals); err != nil {
			return nil, stageError(ctx, "ptrace", err)
		}
		ms.Repeats = append(ms.Repeats, vals)
	}
	return ms, nil
}

// stageError is the error of a failed stage. Once the run is cancelled,
// the cancellation is the cause: the measurement failed because its
// processes were killed (a ptrace call then sees ESRCH, say).
func stageError(ctx context.Context, stage string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("calibrate: %s: %w", stage, cerr)
	}
	return fmt.Errorf("calibrate: %s: %w", stage, err)
}

func (opt *Options) stageStart(name string, repeat int) {
	if opt.Progress != nil {
		fmt.Fprintf(opt.Progress, "calibrate: repeat %d/%d: %s\n", repeat+1, opt.Repeat, name)
	}
	if opt.env.stage != nil {
		opt.env.stage(name)
	}
}

func hostEnv() env {
	e := env{euid: os.Geteuid(), pmuTypePath: UprobePMUTypePath, set: true}
	if t, err := readPMUType(UprobePMUTypePath); err == nil {
		e.uprober = pmuUprober{pmuType: t}
	}
	return e
}

// pickCPUs returns the first n CPUs of the affinity mask (all if n is 0).
func pickCPUs(n int) ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, fmt.Errorf("calibrate: sched_getaffinity: %w", err)
	}
	var cpus []int
	for c := 0; c < 1024 && (n == 0 || len(cpus) < n); c++ {
		if set.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	if n < 0 || (n > 0 && len(cpus) < n) {
		return nil, fmt.Errorf("calibrate: --cpus %d: this process may run on %d CPUs", n, set.Count())
	}
	return cpus, nil
}

// hostName is "MODEL, Linux RELEASE" from /proc/cpuinfo and uname.
func hostName() string {
	model := "unknown CPU"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	var u unix.Utsname
	rel := "unknown"
	if unix.Uname(&u) == nil {
		rel = unix.ByteSliceToString(u.Release[:])
	}
	return fmt.Sprintf("%s, %d CPUs online, Linux %s", model, runtime.NumCPU(), rel)
}

// measureUprobes runs the helper's probe rounds: without probes, with one
// counting uprobe on each probe point, and with two (the second consumer
// of a point adds one handler run per hit, which gives the handler's
// cost). Each probe must count exactly one hit per call.
func measureUprobes(ctx context.Context, h *helper, up uprober, cpu int, scale float64, vals map[string]float64) (err error) {
	if up == nil {
		return errors.New("no uprobe PMU")
	}
	n := max(1, int(2e4*scale))
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cmd := h.command(ctx, "probe", strconv.Itoa(n))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	var counters []uprobeCounter
	defer func() {
		for _, c := range counters {
			c.Close()
		}
		stdin.Close()
		if werr := cmd.Wait(); err == nil && werr != nil && ctx.Err() == nil {
			err = werr
		}
		if ctx.Err() != nil {
			err = ctx.Err()
		}
	}()
	defer func() {
		if err != nil {
			_ = cmd.Process.Kill()
		}
	}()
	var set unix.CPUSet
	set.Set(cpu)
	if err := unix.SchedSetaffinity(cmd.Process.Pid, &set); err != nil {
		return fmt.Errorf("pin helper: %w", err)
	}
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "ready" {
		return errors.New("helper did not start its probe rounds")
	}
	round := func() (nop, step float64, err error) {
		if _, err := stdin.Write([]byte{1}); err != nil {
			return 0, 0, err
		}
		var text strings.Builder
		for range 2 {
			if !lines.Scan() {
				return 0, 0, fmt.Errorf("helper stopped in a probe round: %v", lines.Err())
			}
			text.WriteString(lines.Text() + "\n")
		}
		res, err := parseResults(strings.NewReader(text.String()))
		if err != nil {
			return 0, 0, err
		}
		return res["probe_nop_ns"], res["probe_step_ns"], nil
	}
	attach := func() error {
		for _, off := range []uint64{h.nopOff, h.stepOff} {
			c, err := up.open(h.path, off, cmd.Process.Pid)
			if err != nil {
				return err
			}
			counters = append(counters, c)
		}
		return nil
	}
	nop0, step0, err := round()
	if err != nil {
		return err
	}
	if err := attach(); err != nil {
		return err
	}
	nop1, step1, err := round()
	if err != nil {
		return err
	}
	if err := attach(); err != nil {
		return err
	}
	nop2, step2, err := round()
	if err != nil {
		return err
	}
	// The first pair saw two rounds, the second one.
	for i, c := range counters {
		got, err := c.count()
		if err != nil {
			return err
		}
		want := uint64(n)
		if i < 2 {
			want = 2 * uint64(n)
		}
		if got != want {
			return fmt.Errorf("a uprobe counted %d hits for %d calls", got, want)
		}
	}
	vals["uprobe_nop_ns"] = nop1 - nop0
	vals["uprobe_step_ns"] = step1 - step0
	vals["uprobe_handler_ns"] = ((nop2 - nop1) + (step2 - step1)) / 2
	return nil
}
