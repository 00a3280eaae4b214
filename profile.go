package probesim

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/probesim/probesim/timing"
)

// BuiltinProfiles are the names of the timing profiles compiled into
// probesim, in the order completions list them.
var BuiltinProfiles = []string{"skylake"}

// LoadProfile returns the built-in profile called name (BuiltinProfiles),
// or else reads the profile JSON file at that path (docs/timing.md). A
// built-in name wins over a file of that name in the current directory;
// write ./skylake for the file.
func LoadProfile(name string) (*timing.Profile, error) {
	if slices.Contains(BuiltinProfiles, name) {
		return timing.Default(), nil
	}
	if _, err := os.Stat(name); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: neither a built-in profile (%s) nor a file", name, strings.Join(BuiltinProfiles, ", "))
	}
	return timing.LoadProfile(name)
}
