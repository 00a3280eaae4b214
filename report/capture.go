package report

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"unicode/utf8"
)

// OutputKeep is how much of a stream the report keeps at each end: output
// up to 2*OutputKeep bytes is kept whole; beyond that, the first and the
// last OutputKeep bytes (cut at character boundaries when the output is
// text), and the report counts and hashes all of it.
const OutputKeep = 256 << 10

// Capture is the report's copy of a guest output stream: bounded, so a
// guest that writes gigabytes costs the host a fixed 512 KiB, with every
// byte counted and hashed.
type Capture struct {
	head  []byte
	tail  []byte // ring of the last OutputKeep bytes once head is full
	pos   int    // next write position in tail
	full  bool   // tail has wrapped
	total uint64
	sum   hash.Hash
}

// Write keeps what the report shows of p; it never fails.
func (c *Capture) Write(p []byte) (int, error) {
	if c.sum == nil {
		c.sum = sha256.New()
	}
	c.sum.Write(p)
	c.total += uint64(len(p))
	n := len(p)
	if room := OutputKeep - len(c.head); room > 0 {
		k := min(room, len(p))
		c.head = append(c.head, p[:k]...)
		p = p[k:]
	}
	if len(p) == 0 {
		return n, nil
	}
	if c.tail == nil {
		c.tail = make([]byte, OutputKeep)
	}
	if len(p) >= OutputKeep {
		copy(c.tail, p[len(p)-OutputKeep:])
		c.pos, c.full = 0, true
		return n, nil
	}
	k := copy(c.tail[c.pos:], p)
	if k < len(p) {
		copy(c.tail, p[k:])
		c.full = true
	}
	c.pos = (c.pos + len(p)) % OutputKeep
	if c.pos == 0 && len(p) > 0 {
		c.full = true
	}
	return n, nil
}

// Bytes is the number of bytes written.
func (c *Capture) Bytes() uint64 { return c.total }

// SHA256 is the hex sha256 of everything written.
func (c *Capture) SHA256() string {
	if c.sum == nil {
		c.sum = sha256.New()
	}
	return hex.EncodeToString(c.sum.Sum(nil))
}

// kept returns the head and the tail (the rest, in order). When nothing
// was dropped the tail continues the head exactly and truncated is false.
func (c *Capture) kept() (head, tail []byte, truncated bool) {
	var t []byte
	if c.full {
		t = append(append(t, c.tail[c.pos:]...), c.tail[:c.pos]...)
	} else if c.tail != nil {
		t = append(t, c.tail[:c.pos]...)
	}
	return c.head, t, c.total > uint64(len(c.head)+len(t))
}

// Truncated describes output the report kept only the ends of.
type Truncated struct {
	// Bytes is the size of the whole output; SHA256 its hash.
	Bytes  uint64 `json:"bytes"`
	SHA256 string `json:"sha256"`
	// Omitted is how many bytes between the kept head (stdout or stderr)
	// and Tail the report does not show.
	Omitted    uint64 `json:"omitted"`
	Tail       string `json:"tail"`
	TailBase64 []byte `json:"tail_base64,omitempty"`
}

// output returns what the report records of a stream: the text (or the
// bytes) of all of it, or of its head plus the summary of the rest.
func (c *Capture) output() (text string, raw []byte, trunc *Truncated) {
	head, tail, truncated := c.kept()
	if !truncated {
		text, raw = textOrBytes(append(append([]byte(nil), head...), tail...))
		return text, raw, nil
	}
	head, tail = trimRunes(head, tail)
	text, raw = textOrBytes(head)
	tr := &Truncated{Bytes: c.total, SHA256: c.SHA256(), Omitted: c.total - uint64(len(head)+len(tail))}
	tr.Tail, tr.TailBase64 = textOrBytes(tail)
	return text, raw, tr
}

// trimRunes cuts a partial UTF-8 character off the end of head and the
// start of tail, so that text output stays text.
func trimRunes(head, tail []byte) ([]byte, []byte) {
	if !utf8.Valid(head) {
		for k := 1; k < utf8.UTFMax && k <= len(head); k++ {
			if utf8.Valid(head[:len(head)-k]) {
				head = head[:len(head)-k]
				break
			}
		}
	}
	if !utf8.Valid(tail) {
		for k := 1; k < utf8.UTFMax && k <= len(tail); k++ {
			if utf8.Valid(tail[k:]) {
				tail = tail[k:]
				break
			}
		}
	}
	return head, tail
}
