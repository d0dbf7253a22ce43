package e2e

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestProtocolSpecLabels checks that the label table of PROTOCOL.md
// section 5.2 lists exactly the domain-separation labels this package uses,
// so the written key schedule cannot drift from the code.
func TestProtocolSpecLabels(t *testing.T) {
	const spec = "../protocol/PROTOCOL.md"
	b, err := os.ReadFile(spec)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "\n### 5.2 Key schedule")
	end := strings.Index(doc, "\n### 5.3 ")
	if start < 0 || end < start {
		t.Fatalf("%s: section 5.2 not found", spec)
	}
	row := regexp.MustCompile("(?m)^\\| `(tether-e2e-v1 [^`]+)` \\|")
	var documented []string
	for _, m := range row.FindAllStringSubmatch(doc[start:end], -1) {
		documented = append(documented, m[1])
	}
	code := []string{labelCommit, labelTranscript, labelSignature, labelI2R, labelR2I, labelCode, labelExporter}
	slices.Sort(documented)
	slices.Sort(code)
	if !slices.Equal(documented, code) {
		t.Fatalf("%s section 5.2 lists labels %q, the code uses %q", spec, documented, code)
	}
}
