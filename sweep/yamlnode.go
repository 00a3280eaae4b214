package sweep

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// decoder walks a config's YAML node tree itself, instead of decoding into
// a struct, so that every error is one line naming the file, the line, the
// key and the value at fault (yaml.v3's own type errors are multi-line and
// name Go types).
type decoder struct {
	file string
}

// errAt is an error at node n under key.
func (d *decoder) errAt(n *yaml.Node, key, format string, a ...any) error {
	return fmt.Errorf("%s:%d: %s: %s", d.file, n.Line, key, fmt.Sprintf(format, a...))
}

// resolve follows aliases (*anchor) to the node they stand for.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// describe names a node's kind for "want X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	if isNull(n) {
		return "nothing"
	}
	return strconv.Quote(n.Value)
}

// scalar returns n's text, which must be a scalar.
func (d *decoder) scalar(n *yaml.Node, key, want string) (string, error) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || isNull(n) {
		return "", d.errAt(n, key, "want %s, got %s", want, describe(n))
	}
	return n.Value, nil
}

// items returns the elements of a list; a single scalar stands for a list
// of one when scalarOK. An empty list is an error: a sweep dimension with
// no values would have no configurations.
func (d *decoder) items(n *yaml.Node, key, want string, scalarOK bool) ([]*yaml.Node, error) {
	n = resolve(n)
	switch {
	case n.Kind == yaml.SequenceNode:
		if len(n.Content) == 0 {
			return nil, d.errAt(n, key, "empty list: want %s", want)
		}
		out := make([]*yaml.Node, len(n.Content))
		for i, c := range n.Content {
			out[i] = resolve(c)
		}
		return out, nil
	case scalarOK && n.Kind == yaml.ScalarNode && !isNull(n):
		return []*yaml.Node{n}, nil
	}
	return nil, d.errAt(n, key, "want a list of %s, got %s", want, describe(n))
}

// strings reads a list of scalars as their text; scalars of any type
// count (args: [4, 500] is ["4", "500"]).
func (d *decoder) strings(n *yaml.Node, key, want string, scalarOK bool) ([]string, []*yaml.Node, error) {
	nodes, err := d.items(n, key, want, scalarOK)
	if err != nil {
		return nil, nil, err
	}
	out := make([]string, len(nodes))
	for i, c := range nodes {
		if out[i], err = d.scalar(c, key, want); err != nil {
			return nil, nil, err
		}
	}
	return out, nodes, nil
}

// pair is one key: value entry of a mapping.
type pair struct {
	key   string
	kn    *yaml.Node
	value *yaml.Node
}

// mapping returns a mapping's entries in file order, rejecting duplicate
// and unknown keys.
func (d *decoder) mapping(n *yaml.Node, where string, known []string) ([]pair, error) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		return nil, d.errAt(n, where, "want a mapping, got %s", describe(n))
	}
	seen := map[string]int{}
	var out []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := resolve(n.Content[i]), resolve(n.Content[i+1])
		if kn.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("%s:%d: %s: keys must be names, got %s", d.file, kn.Line, where, describe(kn))
		}
		k := kn.Value
		if line, dup := seen[k]; dup {
			return nil, fmt.Errorf("%s:%d: %s: key %q repeats line %d", d.file, kn.Line, where, k, line)
		}
		seen[k] = kn.Line
		if known != nil && !contains(known, k) {
			return nil, fmt.Errorf("%s:%d: %s: unknown key %q%s", d.file, kn.Line, where, k, suggest(k, known))
		}
		out = append(out, pair{k, kn, vn})
	}
	return out, nil
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// suggest names the known key closest to k, when one is a likely typo.
func suggest(k string, known []string) string {
	best, bestD := "", 100
	lk := strings.ToLower(k)
	for _, c := range known {
		d := editDistance(lk, c)
		// At most two edits, and no more than half the word; or three
		// with a long shared stem (strategy for strategies).
		if d < bestD && (d <= 2 && 2*d <= len(lk) || d == 3 && commonPrefix(lk, c) >= 5) {
			best, bestD = c, d
		}
	}
	if best == "" {
		return " (known: " + strings.Join(known, ", ") + ")"
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// parseCount reads a non-negative decimal integer; underscores may group
// digits (10_000_000). Octal and hex spellings are refused: YAML 1.1 and
// 1.2 disagree on 010, and a sweep value must mean one thing.
func parseCount(s string) (uint64, bool) {
	t := strings.ReplaceAll(s, "_", "")
	if t == "" || strings.HasPrefix(s, "_") || strings.HasSuffix(s, "_") {
		return 0, false
	}
	if len(t) > 1 && t[0] == '0' {
		return 0, false
	}
	v, err := strconv.ParseUint(t, 10, 64)
	return v, err == nil
}

// yamlLine matches the "yaml: line N: " prefix of yaml.v3's syntax errors.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// parserProblems are the yaml.v3 parser's (not scanner's) errors. For
// them yaml.v3 (decode.go, parser.fail) reports the 0-based line of the
// construct being parsed, one less than its line as an editor shows it;
// for scanner errors it reports the 1-based line.
var parserProblems = []string{
	"did not find expected ',' or ']'", "did not find expected ',' or '}'",
	"did not find expected key", "did not find expected '-' indicator",
	"did not find expected node content", "did not find expected <document start>",
}

// syntaxError restates a yaml.v3 parse error as FILE:LINE: message.
func (d *decoder) syntaxError(err error) error {
	msg := strings.SplitN(err.Error(), "\n", 2)[0]
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		problem := msg[len(m[0]):]
		if contains(parserProblems, problem) {
			line++
		}
		return fmt.Errorf("%s:%d: %s", d.file, line, problem)
	}
	return fmt.Errorf("%s: %s", d.file, strings.TrimPrefix(msg, "yaml: "))
}
