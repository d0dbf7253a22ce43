package agent

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/tether-support/tether/internal/safepath"
)

// errOutsideRoot is returned for paths that leave the allowed root.
var errOutsideRoot = errors.New("is outside the folder this device allows (the end user's home)")

// devicePath turns a path from the technician into a clean, slash-separated
// path relative to root (the end user's home): "~/x", "x" and an absolute
// path inside root are accepted; everything safepath refuses (NUL bytes,
// control characters and escape sequences, backslashes, "..", over-long
// names, Windows device names) is refused. os.Root then refuses symlinks
// leading out.
func devicePath(root, p string) (string, error) {
	if err := safepath.Text(p); err != nil {
		return "", err
	}
	p = strings.TrimPrefix(p, "~/")
	if p == "~" {
		p = ""
	}
	if filepath.IsAbs(p) {
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			return "", fmt.Errorf("%q %w", p, errOutsideRoot)
		}
		p = filepath.ToSlash(rel)
	}
	rel, err := safepath.Rel(p)
	if errors.Is(err, safepath.ErrEscapes) {
		return "", fmt.Errorf("%q %w", p, errOutsideRoot)
	}
	return rel, err
}
