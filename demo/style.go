package demo

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// palette paints text with ANSI SGR sequences, or not at all when off.
type palette struct{ on bool }

// The roles text can play, and their SGR parameters.
const (
	sgrHit      = "32"   // green: the handler ran
	sgrMiss     = "31"   // red: a call went unseen
	sgrFollowed = "1;31" // bold red: the miss the story follows
	sgrWindow   = "33"   // yellow: the original byte is back
	sgrDim      = "2"    // axis, separators, notes
	sgrBold     = "1"    // headings
)

func (p palette) paint(sgr, s string) string {
	if !p.on || sgr == "" || s == "" {
		return s
	}
	return "\x1b[" + sgr + "m" + s + "\x1b[0m"
}

// width is the number of terminal columns s takes: every glyph the demo
// prints is one column wide.
func width(s string) int { return utf8.RuneCountInString(s) }

// padLeft and padRight pad s with spaces to n columns.
func padLeft(s string, n int) string  { return strings.Repeat(" ", max(0, n-width(s))) + s }
func padRight(s string, n int) string { return s + strings.Repeat(" ", max(0, n-width(s))) }

// num formats n with thousands separators: 2,196,804.
func num(n uint64) string {
	s := strconv.FormatUint(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// percent formats part/whole with one decimal, rounded half up in integer
// arithmetic so that every platform prints the same digits.
func percent(part, whole uint64) string {
	if whole == 0 {
		return "-"
	}
	tenths := (part*2000/whole + 1) / 2
	return strconv.FormatUint(tenths/10, 10) + "." + strconv.FormatUint(tenths%10, 10) + "%"
}

// wrap breaks text into lines of at most n columns at spaces.
func wrap(text string, n int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		switch {
		case line == "":
			line = word
		case width(line)+1+width(word) <= n:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
