package corpus

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/probesim/probesim"
	"github.com/probesim/probesim/demo"
	"github.com/probesim/probesim/fixtures"
	"github.com/probesim/probesim/sweep"
)

var update = flag.Bool("update", false, "re-record testdata/reports.jsonl.gz")

const corpusFile = "testdata/reports.jsonl.gz"

// scenario is one recorded run.
type scenario struct {
	name string
	cfg  probesim.Config
	// fixture is the fixture binary whose bytes the run used ("" for the
	// demo's embedded workload).
	arch, fixture string
}

// entry is one line of the corpus file.
type entry struct {
	Name string `json:"name"`
	// ProgramSHA256 is the fixture binary's hash: a different build of a
	// fixture is reported as such, not as a model change.
	ProgramSHA256 string          `json:"program_sha256"`
	Report        json.RawMessage `json:"report"`
	EventsSHA256  string          `json:"events_sha256"`
	Events        int             `json:"events"`
}

// guestPath is where every fixture runs in the guest's view.
func guestPath(arch, name string) string { return "/probesim/fixtures/" + arch + "/" + name }

var arches = []string{fixtures.ArchI386, fixtures.ArchAMD64}

// scenarios lists the corpus in a fixed order.
func scenarios(t *testing.T) []scenario {
	var out []scenario
	add := func(name, arch, fixture string, cfg probesim.Config) {
		cfg.Program = guestPath(arch, fixture)
		out = append(out, scenario{name: name, cfg: cfg, arch: arch, fixture: fixture})
	}
	// Every fixture as the comparison tests run it, on one vCPU, and the
	// multi-threaded ones on 4 and in lockstep.
	for _, f := range fixtures.All() {
		for _, arch := range f.Arches {
			for _, seed := range []uint64{1, 2} {
				add(fmt.Sprintf("plain/%s/%s/seed%d", arch, f.Name, seed), arch, f.Name,
					probesim.Config{Args: f.Args, Env: f.Env, Seed: seed})
			}
			if !f.SingleThreaded {
				add(fmt.Sprintf("plain/%s/%s/4cpu", arch, f.Name), arch, f.Name,
					probesim.Config{Args: f.Args, Env: f.Env, Seed: 1, CPUs: 4})
				add(fmt.Sprintf("lockstep/%s/%s/3cpu", arch, f.Name), arch, f.Name,
					probesim.Config{Args: f.Args, Env: f.Env, Seed: 1, CPUs: 3, Lockstep: true})
			}
		}
	}
	// Budgets and limits.
	for _, arch := range arches {
		add("budget/"+arch+"/loop", arch, "loop", probesim.Config{Args: []string{"1000000"}, MaxCycles: 500_000, Seed: 1})
		add("stacklimit/"+arch+"/stackgrow", arch, "stackgrow", probesim.Config{Args: []string{"4096"}, StackLimit: 1 << 20, Seed: 1})
	}
	// The threads workload probed with every strategy.
	for _, arch := range arches {
		for _, s := range probesim.Strategies {
			for _, cpus := range []int{1, 2, 4, 8} {
				for _, seed := range []uint64{1, 2} {
					add(fmt.Sprintf("probe/%s/threads/%s/%dcpu/seed%d", arch, s, cpus, seed), arch, "threads",
						probesim.Config{Args: []string{"4", "200", "1000"}, Seed: seed, CPUs: cpus,
							Probes: []string{"probed"}, Strategy: s})
				}
			}
			add(fmt.Sprintf("probe/%s/threads/%s/4cpu/lockstep", arch, s), arch, "threads",
				probesim.Config{Args: []string{"4", "100"}, Seed: 3, CPUs: 4, Lockstep: true,
					Probes: []string{"probed"}, Strategy: s})
			add(fmt.Sprintf("probe/%s/threads/%s/4cpu/nojitter", arch, s), arch, "threads",
				probesim.Config{Args: []string{"4", "200"}, Seed: 1, CPUs: 4, Params: []string{"kernel_jitter_percent=0"},
					Probes: []string{"probed"}, Strategy: s})
		}
	}
	// Every fixup class, out of line and inline, one probe at a time, and
	// all of them at once on two vCPUs.
	for _, arch := range arches {
		labels := fixupLabels(t, arch)
		for _, s := range probesim.Strategies {
			for _, l := range labels {
				add(fmt.Sprintf("fixups/%s/%s/%s", arch, s, l), arch, "fixups",
					probesim.Config{Seed: 1, Probes: []string{l}, Strategy: s})
			}
			add(fmt.Sprintf("fixups/%s/%s/all/2cpu", arch, s), arch, "fixups",
				probesim.Config{Seed: 1, CPUs: 2, Probes: labels, Strategy: s})
		}
	}
	// The example sweeps' points, run under the fixed guest path.
	for _, file := range []string{"threads-sweep.yaml", "ci-check.yaml"} {
		c, err := sweep.Load(filepath.Join("..", "..", "docs", "examples", file))
		require.NoError(t, err)
		for i := 0; i < c.Len(); i++ {
			cfg := c.RunConfig(c.Point(i))
			cfg.GuestPath = "" // add gives the fixture's own guest path
			add(fmt.Sprintf("sweep/%s/%d", file, i), fixtures.ArchAMD64, "threads", cfg)
		}
	}
	return out
}

// fixupLabels are the fixups fixture's global fx_* labels, sorted.
func fixupLabels(t *testing.T, arch string) []string {
	path, err := fixtures.Path(arch, "fixups")
	require.NoError(t, err)
	f, err := elf.Open(path)
	require.NoError(t, err)
	defer f.Close()
	syms, err := f.Symbols()
	require.NoError(t, err)
	var labels []string
	for _, s := range syms {
		if strings.HasPrefix(s.Name, "fx_") && elf.ST_BIND(s.Info) == elf.STB_GLOBAL {
			labels = append(labels, s.Name)
		}
	}
	slices.Sort(labels)
	require.NotEmpty(t, labels, "no fx_ labels in %s", path)
	return labels
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// record runs one scenario and returns its corpus entry.
func record(t *testing.T, sc scenario, images map[string][]byte) entry {
	cfg := sc.cfg
	key := sc.arch + "/" + sc.fixture
	img, ok := images[key]
	if !ok {
		path, err := fixtures.Path(sc.arch, sc.fixture)
		require.NoError(t, err)
		img, err = os.ReadFile(path)
		require.NoError(t, err)
		images[key] = img
	}
	cfg.Image = img
	res, err := probesim.Run(t.Context(), cfg)
	require.NoError(t, err, sc.name)
	res.Report.Host = nil
	rep, err := json.Marshal(res.Report)
	require.NoError(t, err)
	ev, err := json.Marshal(res.Events)
	require.NoError(t, err)
	return entry{Name: sc.name, ProgramSHA256: sha(img), Report: rep, EventsSHA256: sha(ev), Events: len(res.Events)}
}

// demoEntry records the demo's text (no colour) as its report.
func demoEntry(t *testing.T) entry {
	d, err := demo.Run(t.Context(), demo.DefaultOptions())
	if err != nil {
		// Recorded as the report, so the comparison names it.
		txt, _ := json.Marshal("demo failed: " + err.Error())
		return entry{Name: "demo/text", ProgramSHA256: sha(demo.ELF()), Report: txt}
	}
	var buf bytes.Buffer
	require.NoError(t, d.WriteText(&buf, false))
	txt, err := json.Marshal(buf.String())
	require.NoError(t, err)
	var ev bytes.Buffer
	for _, tr := range d.Trials {
		b, err := json.Marshal(tr.Events)
		require.NoError(t, err)
		ev.Write(b)
	}
	return entry{Name: "demo/text", ProgramSHA256: sha(demo.ELF()), Report: txt, EventsSHA256: sha(ev.Bytes())}
}

func readCorpus(t *testing.T) []entry {
	f, err := os.Open(corpusFile)
	require.NoError(t, err, "the corpus is recorded with -update")
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	var out []entry
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var e entry
		require.NoError(t, json.Unmarshal(sc.Bytes(), &e))
		out = append(out, e)
	}
	require.NoError(t, sc.Err())
	return out
}

func writeCorpus(t *testing.T, entries []entry) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	require.NoError(t, err)
	for _, e := range entries {
		b, err := json.Marshal(e)
		require.NoError(t, err)
		zw.Write(append(b, '\n'))
	}
	require.NoError(t, zw.Close())
	require.NoError(t, os.WriteFile(corpusFile, buf.Bytes(), 0o644))
}

// firstDifference names the first report field (as an indented JSON line)
// where two reports differ.
func firstDifference(want, got []byte) string {
	var w, g bytes.Buffer
	json.Indent(&w, want, "", " ")
	json.Indent(&g, got, "", " ")
	wl, gl := strings.Split(w.String(), "\n"), strings.Split(g.String(), "\n")
	for i := 0; i < min(len(wl), len(gl)); i++ {
		if wl[i] != gl[i] {
			return "line " + strconv.Itoa(i+1) + ": recorded " + strings.TrimSpace(wl[i]) + ", now " + strings.TrimSpace(gl[i])
		}
	}
	return fmt.Sprintf("recorded %d lines, now %d", len(wl), len(gl))
}

// TestReportCorpus reruns every scenario and compares it with the recorded
// corpus, byte for byte.
func TestReportCorpus(t *testing.T) {
	images := map[string][]byte{}
	var got []entry
	for _, sc := range scenarios(t) {
		got = append(got, record(t, sc, images))
	}
	got = append(got, demoEntry(t))
	if *update {
		writeCorpus(t, got)
		t.Logf("recorded %d scenarios in %s", len(got), corpusFile)
		return
	}
	want := readCorpus(t)
	byName := map[string]entry{}
	for _, e := range want {
		byName[e.Name] = e
	}
	bad := 0
	// Counted by name, so that a changed scenario list names what changed
	// instead of printing both lists.
	gotNames := map[string]bool{}
	for _, g := range got {
		gotNames[g.Name] = true
	}
	for _, w := range want {
		if !gotNames[w.Name] {
			t.Errorf("%s: in the corpus but no longer a scenario (re-record with -update)", w.Name)
			bad++
		}
	}
	for _, g := range got {
		w, ok := byName[g.Name]
		if !ok {
			t.Errorf("%s: not in the corpus (re-record with -update after adding scenarios)", g.Name)
			bad++
			continue
		}
		if w.ProgramSHA256 != g.ProgramSHA256 {
			t.Errorf("%s: the program's bytes changed (a fixture rebuilt differently), not the model: re-record", g.Name)
			bad++
			continue
		}
		if !bytes.Equal(w.Report, g.Report) {
			t.Errorf("%s: report differs: %s", g.Name, firstDifference(w.Report, g.Report))
			bad++
		} else if w.EventsSHA256 != g.EventsSHA256 || w.Events != g.Events {
			t.Errorf("%s: probe event log differs (%d events recorded, %d now)", g.Name, w.Events, g.Events)
			bad++
		}
		if bad > 20 {
			t.Fatal("more than 20 scenarios differ")
		}
	}
}
