package demo

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRenderTimeline(t *testing.T) {
	d := syntheticDemo()
	// Axis from 800 at 25 cycles a column: the hit at 1,000 is column 8,
	// the followed miss at 1,200 column 16, the #DB at 1,800 column 40;
	// the window opened at 2,100 closes after the axis ends (no ▪).
	want := `cycle           1,000     1,250     1,500     1,750     2,000     2,250
                |         |         |         |         |         |
probed  ────────░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░───────────░░░░░░░░
cpu0    ────────────────X────────────x──────────────────────●═══════ 2 missed
                        ╰ miss at 1,200 (TID 10): ran probed() without a trap
                        hit at 2,100 (TID 10): int3 is back ╯
cpu1    ────────●═══════════════════════════════▪───────────────────
                ╰ hit at 1,000 (TID 11): original byte put back
               #DB at 1,800: int3 written again ╯
cpu2    ────────────────────────────x─────────────────────────────── 1 missed
        1 column = 25 cycles
`
	require.Equal(t, want, renderTimeline(d.Story, palette{}))
}

// The window's length is written into it when it is wide enough.
func TestRenderTimelineCaption(t *testing.T) {
	d := syntheticDemo()
	d.Story.Window.Close.Cycle = 2000 // 1,000 cycles: columns 8 to 48
	d.Story.Windows = d.Story.Windows[:1]
	d.Story.Windows[0] = d.Story.Window
	got := renderTimeline(d.Story, palette{})
	require.Contains(t, got, "probed  ────────░░░ original byte back: 1,000 cycles ░░░░───────────\n")
}

func TestRenderTimelineColor(t *testing.T) {
	d := syntheticDemo()
	got := renderTimeline(d.Story, palette{on: true})
	require.Contains(t, got, "\x1b[1;31mX\x1b[0m")            // the followed miss
	require.Contains(t, got, "\x1b[32m●\x1b[0m")              // a hit
	require.Contains(t, got, "\x1b[33m░░░░░░░░░░░░░░░░░░░░░") // the window
	// Without the escapes it is the plain timeline.
	require.Equal(t, renderTimeline(d.Story, palette{}), stripANSI(got))
}

func TestNewAxis(t *testing.T) {
	for _, tc := range []struct {
		from, to, t0, scale uint64
	}{
		{900, 2200, 800, 25},
		{17718, 28625, 17000, 200},
		{0, 10, 0, 1},
		{5, 5, 0, 1},
		{1_000_000, 1_000_600, 999_700, 20},
	} {
		a := newAxis(tc.from, tc.to, timelineCols)
		require.Equal(t, axis{t0: tc.t0, scale: tc.scale, cols: timelineCols}, a, "%d..%d", tc.from, tc.to)
		require.True(t, a.covers(tc.from) && a.covers(tc.to))
	}
}

func TestPlaceLabels(t *testing.T) {
	lines := placeLabels([]label{{col: 2, text: "abc"}, {col: 4, text: "de"}, {col: 18, text: "far right"}}, 20)
	var got []string
	for _, l := range lines {
		got = append(got, renderPlaced(l, palette{}))
	}
	// "╰ abc" takes columns 2 to 6; "de" touches it either way, so it
	// goes to a second line; "far right" does not fit right of column 18
	// in 20 columns, so it ends there, a column clear of "╰ abc".
	require.Equal(t, []string{"  ╰ abc far right ╯", "    ╰ de"}, got)
	// Too long for either side: it runs over, on a line of its own.
	lines = placeLabels([]label{{col: 1, text: "x"}, {col: 3, text: "a long label"}}, 8)
	require.Len(t, lines, 2)
	require.Equal(t, "   ╰ a long label", renderPlaced(lines[1], palette{}))
}

func TestRenderTable(t *testing.T) {
	d := syntheticDemo()
	d.Trials[2].Report.Stdout = "calls=5\n" // the program disagrees
	want := `         strategy    executions  hits     misses  cycles/hit  run cycles  ✓
1 vCPU   inline               6     6   0 (0.0%)         300       5,000  ✓
         ssol-stack           6     6   0 (0.0%)       1,200       8,000  ✓
3 vCPUs  inline               6     3  3 (50.0%)         350       3,000  ✗
         ssol-stack           6     6   0 (0.0%)         900       9,000  ✓
`
	require.Equal(t, want, renderTable(d.columns(), palette{}))
	colored := renderTable(d.columns(), palette{on: true})
	require.Contains(t, colored, "\x1b[31m3 (50.0%)\x1b[0m") // misses
	require.Contains(t, colored, "\x1b[31m✗\x1b[0m")
	require.Contains(t, colored, "\x1b[32m✓\x1b[0m")
	require.Equal(t, want, stripANSI(colored))
}

func TestProgramCalls(t *testing.T) {
	tr := syntheticTrial("inline", 1, 6, 0, 0, 0, "threads=3 iters=2\ncalls=6\nchecksum=1\n")
	n, ok := tr.ProgramCalls()
	require.True(t, ok)
	require.Equal(t, uint64(6), n)
	require.True(t, tr.OutputAgrees())
	require.Equal(t, "calls=6, exit 0", newTrialCells(&tr).CheckTitle)
	tr.Report.ExitStatus = 1
	require.False(t, tr.OutputAgrees())
	tr.Report.Stdout = "no count\n"
	_, ok = tr.ProgramCalls()
	require.False(t, ok)
	require.Equal(t, "no calls= line, exit 1", newTrialCells(&tr).CheckTitle)
	// Another program is only asked to exit 0.
	tr.builtin, tr.Report.ExitStatus = false, 0
	require.True(t, tr.OutputAgrees())
	require.Equal(t, "exit 0", newTrialCells(&tr).CheckTitle)
}

func TestWriteText(t *testing.T) {
	d := syntheticDemo()
	var plain, colored bytes.Buffer
	require.NoError(t, d.WriteText(&plain, false))
	require.NoError(t, d.WriteText(&colored, true))
	require.NotContains(t, plain.String(), "\x1b")
	require.Contains(t, colored.String(), "\x1b[")
	require.Equal(t, plain.String(), stripANSI(colored.String()))
	text := plain.String()
	for _, want := range []string{
		renderTable(d.columns(), palette{}),
		renderTimeline(d.Story, palette{}),
		"One real miss: inline on 3 vCPUs, cycles 900 to 2,200\n",
		"Each row is one run: inline and\nssol-stack on 1 vCPU and 3 vCPUs, seed 7.",
		// The walkthrough, with the story's numbers.
		"At cycle 1,000, thread 11 on cpu1 ran probed() and trapped on the int3 the\n",
		"The window stayed open from cycle 1,000 to 1,800, 800 cycles, until the step's\n",
		"#DB let the kernel write int3 again. At cycle 1,200, 200 cycles into it,\nthread 10 on cpu0 ran probed()",
		"3 executions on cpu0\nand cpu2 went through this one window unseen.",
		"At cycle 2,100 int3 was back and thread 10 on cpu0 trapped again.",
		"It is the\nonly one of the run's 3 windows that other vCPUs ran through (they lasted 400\ncycles at the median).",
		"inline on 3 vCPUs missed 3 of 6\nexecutions (50.0%) in 3 windows of up to 800 cycles.",
		"(6 NX\nflips on 3 vCPUs)",
		"every execution traps: 6 hits, 0 misses. The price\nis 900 cycles per hit, against 350 for inline.",
	} {
		require.Contains(t, text, want)
	}
	for _, l := range strings.Split(text, "\n") {
		require.LessOrEqual(t, width(l), lineLimit, "line too wide: %q", l)
	}
}

func TestFormatting(t *testing.T) {
	require.Equal(t, "0", num(0))
	require.Equal(t, "999", num(999))
	require.Equal(t, "1,000", num(1000))
	require.Equal(t, "30,339,592", num(30339592))
	require.Equal(t, "73.3%", percent(2932, 4000))
	require.Equal(t, "0.1%", percent(1, 2000)) // 0.05% rounds up
	require.Equal(t, "0.0%", percent(1, 2001)) // 0.0499...% rounds down
	require.Equal(t, "100.0%", percent(7, 7))
	require.Equal(t, "-", percent(0, 0))
	require.Equal(t, []string{"aa bb", "cc", "dddddddd"}, wrap("aa bb cc  dddddddd", 5))
	require.Equal(t, "a, b and c", joinAnd([]string{"a", "b", "c"}))
	require.Equal(t, "a", joinAnd([]string{"a"}))
	require.Equal(t, "no call", plural(0, "call"))
	require.Equal(t, "probed()", callName("probed"))
	require.Equal(t, "probed+4", callName("probed+4"))
	require.Equal(t, "0x401000", callName("0x401000"))
	require.Equal(t, "1,200 calls", plural(1200, "call"))
}

// stripANSI removes SGR sequences.
func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b {
			for i < len(s) && s[i] != 'm' {
				i++
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
