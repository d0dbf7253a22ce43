package relay

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"testing"
)

// TestPackagesImportOneWay keeps the rooms apart: relay calls identity and
// broker, which import neither relay nor each other (the trust-root work
// grows one, the cluster work the other).
func TestPackagesImportOneWay(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		dir       string
		forbidden []string
	}{
		{"../broker", []string{"github.com/tether-support/tether/internal/relay", "github.com/tether-support/tether/internal/identity"}},
		{"../identity", []string{"github.com/tether-support/tether/internal/relay", "github.com/tether-support/tether/internal/broker"}},
	} {
		files, err := filepath.Glob(filepath.Join(tc.dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files (%v)", tc.dir, err)
		}
		for _, f := range files {
			af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range af.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				for _, bad := range tc.forbidden {
					if path == bad {
						t.Errorf("%s imports %s", f, bad)
					}
				}
			}
		}
	}
}
