package main

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// mcaRow is one instruction of llvm-mca's instruction-table output.
type mcaRow struct {
	uops, latency     int
	rthroughput       float64
	load, store, side bool
	text              string
	pressure          map[string]float64 // resource name (SKLPort0, SKLDivider, ...) -> cycles
}

// parseMCA reads the "Resources", "Instruction Info" and "Resource pressure by instruction"
// sections of `llvm-mca --instruction-tables` output.
func parseMCA(out string) ([]mcaRow, error) {
	lines := strings.Split(out, "\n")
	resources := map[int]string{}
	var rows []mcaRow
	for i := 0; i < len(lines); i++ {
		switch strings.TrimSpace(lines[i]) {
		case "Resources:":
			for i++; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i++ {
				var idx int
				var name string
				if _, err := fmt.Sscanf(lines[i], "[%d] - %s", &idx, &name); err != nil {
					return nil, fmt.Errorf("resource line %q: %v", lines[i], err)
				}
				resources[idx] = name
			}
		case "Instruction Info:":
			for i++; i < len(lines) && !isTableHeader(lines[i]); i++ {
			}
			if i == len(lines) {
				return nil, fmt.Errorf("no instruction info header")
			}
			header := lines[i]
			flagCols := []int{strings.Index(header, "[4]"), strings.Index(header, "[5]"), strings.Index(header, "[6]")}
			for _, c := range flagCols {
				if c < 0 {
					return nil, fmt.Errorf("instruction info header %q lacks flag columns", header)
				}
			}
			textCol := strings.Index(header, "Instructions:")
			for i++; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i++ {
				r, err := parseInfoRow(lines[i], flagCols, textCol)
				if err != nil {
					return nil, err
				}
				rows = append(rows, r)
			}
		case "Resource pressure by instruction:":
			i++
			if i == len(lines) || !isTableHeader(lines[i]) {
				return nil, fmt.Errorf("no resource pressure header")
			}
			ncols := strings.Count(lines[i], "[")
			n := 0
			for i++; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i++ {
				if n >= len(rows) {
					return nil, fmt.Errorf("more pressure rows than instruction rows")
				}
				f := strings.Fields(lines[i])
				if len(f) < ncols {
					return nil, fmt.Errorf("pressure row %q has fewer than %d columns", lines[i], ncols)
				}
				rows[n].pressure = map[string]float64{}
				for c := 0; c < ncols; c++ {
					if f[c] == "-" {
						continue
					}
					v, err := strconv.ParseFloat(f[c], 64)
					if err != nil {
						return nil, fmt.Errorf("pressure row %q: %v", lines[i], err)
					}
					name, ok := resources[c]
					if !ok {
						return nil, fmt.Errorf("pressure column %d has no resource name", c)
					}
					rows[n].pressure[name] = v
				}
				n++
			}
			if n != len(rows) {
				return nil, fmt.Errorf("%d pressure rows for %d instructions", n, len(rows))
			}
		}
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("no instruction rows in llvm-mca output")
	}
	return rows, nil
}

func isTableHeader(l string) bool {
	return strings.HasPrefix(strings.TrimSpace(l), "[") && strings.Contains(l, "Instructions:")
}

func parseInfoRow(l string, flagCols []int, textCol int) (mcaRow, error) {
	var r mcaRow
	f := strings.Fields(l)
	if len(f) < 4 || textCol < 0 || len(l) < textCol {
		return r, fmt.Errorf("instruction row %q is too short", l)
	}
	var err error
	if r.uops, err = strconv.Atoi(f[0]); err != nil {
		return r, fmt.Errorf("instruction row %q: uops: %v", l, err)
	}
	if r.latency, err = strconv.Atoi(f[1]); err != nil {
		return r, fmt.Errorf("instruction row %q: latency: %v", l, err)
	}
	if r.rthroughput, err = strconv.ParseFloat(f[2], 64); err != nil {
		return r, fmt.Errorf("instruction row %q: throughput: %v", l, err)
	}
	flag := func(col int) bool { return strings.ContainsAny(l[col:min(col+3, len(l))], "*U") }
	r.load, r.store, r.side = flag(flagCols[0]), flag(flagCols[1]), flag(flagCols[2])
	r.text = strings.Join(strings.Fields(l[textCol:]), " ")
	return r, nil
}

// group is an amount of uops (fixed point, x256) that may each issue on any port of mask
// (bit i = port i). The amount is fractional for the few instructions (cpuid, ...) whose
// llvm-mca pressure does not split into whole uops.
type group struct {
	mask   uint8
	uopsFP int
}

// cost is one generated table row, mirroring timing.insnCost.
type cost struct {
	uops, latency, rthroughputFP int
	load, store, side            bool
	groups                       []group
	dividerFP, fpDividerFP       int
}

func (c cost) equal(o cost) bool {
	if c.uops != o.uops || c.latency != o.latency || c.rthroughputFP != o.rthroughputFP ||
		c.load != o.load || c.store != o.store || c.side != o.side ||
		c.dividerFP != o.dividerFP || c.fpDividerFP != o.fpDividerFP || len(c.groups) != len(o.groups) {
		return false
	}
	for i := range c.groups {
		if c.groups[i] != o.groups[i] {
			return false
		}
	}
	return true
}

func costOf(r mcaRow) (cost, error) {
	c := cost{
		uops: r.uops, latency: r.latency, rthroughputFP: fp(r.rthroughput),
		load: r.load, store: r.store, side: r.side,
		dividerFP: fp(r.pressure["SKLDivider"]), fpDividerFP: fp(r.pressure["SKLFPDivider"]),
	}
	var ports [8]float64
	for p := range ports {
		ports[p] = r.pressure[fmt.Sprintf("SKLPort%d", p)]
	}
	for name := range r.pressure {
		if !strings.HasPrefix(name, "SKLPort") && name != "SKLDivider" && name != "SKLFPDivider" {
			return c, fmt.Errorf("unexpected resource %s", name)
		}
	}
	var err error
	c.groups, err = decompose(ports)
	return c, err
}

func fp(v float64) int { return int(math.Round(v * 256)) }

// skylakeGroups are the port groups of LLVM's Skylake model (X86SchedSkylakeClient.td:
// SKLPort0 ... SKLPort0156), widest first so that decompose prefers the most flexible
// explanation of a pressure vector.
var skylakeGroups = []uint8{
	ports(0, 1, 5, 6),
	ports(0, 1, 5), ports(0, 5, 6), ports(2, 3, 7),
	ports(0, 1), ports(0, 5), ports(0, 6), ports(1, 5), ports(1, 6), ports(5, 6), ports(2, 3),
	ports(0), ports(1), ports(2), ports(3), ports(4), ports(5), ports(6), ports(7),
}

func ports(ps ...int) uint8 {
	var m uint8
	for _, p := range ps {
		m |= 1 << p
	}
	return m
}

// decompose explains a per-port pressure vector as uops on port groups. llvm-mca charges a
// uop of group G 1/|G| cycle on each port of G, so the vector is a sum of such terms. Greedy,
// widest group first: each group takes as much as all its ports still show. The explanation
// is not unique (one uop each on p0, p1, p5 looks like three uops on p015), and the widest one
// slightly understates port pressure. llvm-mca prints two decimals, so amounts are snapped to
// twelfths of a uop (groups have 1 to 4 ports) before conversion to fixed point.
func decompose(v [8]float64) ([]group, error) {
	const eps = 0.02
	var out []group
	for _, g := range skylakeGroups {
		n := float64(bits.OnesCount8(g))
		lo := math.Inf(1)
		for p := 0; p < 8; p++ {
			if g&(1<<p) != 0 {
				lo = math.Min(lo, v[p])
			}
		}
		uops := math.Round(lo*n*12) / 12
		if uops < eps {
			continue
		}
		for p := 0; p < 8; p++ {
			if g&(1<<p) != 0 {
				v[p] -= uops / n
			}
		}
		out = append(out, group{g, fp(uops)})
	}
	for p, x := range v {
		if math.Abs(x) > eps {
			return nil, fmt.Errorf("port %d pressure %.2f left after decomposition", p, x)
		}
	}
	return out, nil
}
