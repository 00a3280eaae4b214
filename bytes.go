package probesim

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseBytes reads a byte count as the command line and sweep configs spell
// limits: a decimal count, optionally with a K, M or G suffix (binary
// multiples, either case): "8388608", "512K", "8M".
func ParseBytes(s string) (uint64, error) {
	mult := uint64(1)
	t := strings.TrimSpace(s)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'k', 'K':
			mult, t = 1<<10, t[:n-1]
		case 'm', 'M':
			mult, t = 1<<20, t[:n-1]
		case 'g', 'G':
			mult, t = 1<<30, t[:n-1]
		}
	}
	v, err := strconv.ParseUint(t, 10, 64)
	if err != nil || v > ^uint64(0)/mult {
		return 0, fmt.Errorf("%q is not a byte count such as 8388608, 512K or 8M", s)
	}
	return v * mult, nil
}
