package transport

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tether-support/tether/internal/protocol"
)

// TestProtocolSpecFeatures checks that the feature table of PROTOCOL.md
// section 5.5 lists exactly the features this build announces, and the
// inner-message table of section 8 every inner type up to InPathAck, so
// the written protocol cannot drift from the code.
func TestProtocolSpecFeatures(t *testing.T) {
	const spec = "../protocol/PROTOCOL.md"
	b, err := os.ReadFile(spec)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	section := func(from, to string) string {
		start, end := strings.Index(doc, "\n"+from), strings.Index(doc, "\n"+to)
		if start < 0 || end < start {
			t.Fatalf("%s: section %q not found", spec, from)
		}
		return doc[start:end]
	}
	var documented []string
	row := regexp.MustCompile("(?m)^\\| `([a-z0-9.-]+)` \\|")
	for _, m := range row.FindAllStringSubmatch(section("### 5.5 Feature negotiation", "## 6. "), -1) {
		documented = append(documented, m[1])
	}
	if code := Supported().Names(); !slices.Equal(documented, code) {
		t.Errorf("%s section 5.5 lists features %q, this build announces %q", spec, documented, code)
	}
	inner := section("## 8. ", "### 8.1 ")
	for typ := protocol.InConsent; typ <= protocol.InPathAck; typ++ {
		if !strings.Contains(inner, fmt.Sprintf("\n| `0x%02x` |", byte(typ))) {
			t.Errorf("%s section 8 has no row for inner type 0x%02x", spec, byte(typ))
		}
	}
	if _, _, err := protocol.ParseInner([]byte{byte(protocol.InPathAck) + 1}); err == nil {
		t.Errorf("inner type 0x%02x is accepted: extend this check and section 8", byte(protocol.InPathAck)+1)
	}
}
