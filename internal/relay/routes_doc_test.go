package relay

import (
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tether-support/tether/internal/api"
)

// protocolSpec is the written specification whose route tables must match
// routes().
const protocolSpec = "../protocol/PROTOCOL.md"

// specRoutes parses the route tables of PROTOCOL.md section 3 into
// "METHOD path" patterns, as routes() spells them. A row's first column
// is the method ("GET→WS" is a GET upgrade); its second holds one or more
// paths in backquotes, where a leading "…" stands for the first path
// without its last element and a backquoted "[?query]" is not a path.
func specRoutes(t *testing.T, doc string) []string {
	t.Helper()
	start := strings.Index(doc, "\n## 3. HTTP API")
	end := strings.Index(doc, "\n## 4. ")
	if start < 0 || end < start {
		t.Fatalf("%s: section 3 (HTTP API) not found", protocolSpec)
	}
	row := regexp.MustCompile("^\\| (GET|POST|DELETE|PUT|PATCH|GET→WS) \\| ([^|]+) \\|")
	code := regexp.MustCompile("`([^`]+)`")
	var out []string
	for _, line := range strings.Split(doc[start:end], "\n") {
		// An escaped pipe (a backslash before it) inside a cell does not end it.
		m := row.FindStringSubmatch(strings.ReplaceAll(line, `\|`, "\x00"))
		if m == nil {
			continue
		}
		method := strings.TrimSuffix(m[1], "→WS")
		var first string
		for _, c := range code.FindAllStringSubmatch(m[2], -1) {
			p := c[1]
			switch {
			case strings.HasPrefix(p, "["):
				continue
			case strings.HasPrefix(p, "…"):
				if first == "" {
					t.Errorf("%s: %q abbreviates a path with no full path before it", protocolSpec, line)
					continue
				}
				p = path.Dir(first) + strings.TrimPrefix(p, "…")
			default:
				first = p
			}
			out = append(out, method+" "+p)
		}
	}
	return out
}

// TestProtocolRouteTable checks that PROTOCOL.md's route tables, the API
// package's table (api.Routes) and the relay's registered routes list the
// same endpoints: a route served but not specified, or specified but not
// served, or missing from api.Routes, fails.
func TestProtocolRouteTable(t *testing.T) {
	b, err := os.ReadFile(protocolSpec)
	if err != nil {
		t.Fatal(err)
	}
	documented := specRoutes(t, string(b))
	if len(documented) < 10 {
		t.Fatalf("parsed only %d routes from %s; has the table format changed?", len(documented), protocolSpec)
	}
	var served []string
	for _, r := range (&Server{}).routes() {
		served = append(served, r.pattern)
	}
	for _, d := range documented {
		if !slices.Contains(served, d) {
			t.Errorf("%s documents %q, which the relay does not register (routes() in routes.go)", protocolSpec, d)
		}
	}
	for _, s := range served {
		if !slices.Contains(documented, s) {
			t.Errorf("the relay registers %q, which %s section 3 does not document", s, protocolSpec)
		}
	}
	seen := map[string]bool{}
	for _, d := range documented {
		if seen[d] {
			t.Errorf("%s documents %q twice", protocolSpec, d)
		}
		seen[d] = true
	}
	// api.Routes is the middle term: the document lists its routes (and
	// internal/api checks the bodies), and the relay serves exactly them.
	var listed []string
	for _, r := range api.Routes() {
		listed = append(listed, r.Pattern())
	}
	for _, l := range listed {
		if !slices.Contains(documented, l) {
			t.Errorf("api.Routes lists %q, which %s section 3 does not document", l, protocolSpec)
		}
		if !slices.Contains(served, l) {
			t.Errorf("api.Routes lists %q, which the relay does not register (routes() in routes.go)", l)
		}
	}
	for _, s := range served {
		if !slices.Contains(listed, s) {
			t.Errorf("the relay registers %q, which api.Routes does not list", s)
		}
	}
	for _, d := range documented {
		if !slices.Contains(listed, d) {
			t.Errorf("%s documents %q, which api.Routes does not list", protocolSpec, d)
		}
	}
}

// TestSpecRoutesParser pins the parser on the row shapes the tables use, so
// a parser bug cannot make the comparison above vacuous.
func TestSpecRoutesParser(t *testing.T) {
	doc := "x\n## 3. HTTP API\n" +
		"| method | path | auth |\n| --- | --- | --- |\n" +
		"| GET | `/healthz` | public |\n" +
		"| GET→WS | `/v1/agent/control` | public |\n" +
		"| GET | `/v1/sessions` `[?active=1]` | signed in |\n" +
		"| GET | `/v1/audit/export` `[?format=jsonl\\|csv]` | `audit.export` |\n" +
		"| POST | `/v1/users/{name}/unlock`, `…/disable`, `…/enable` | `user.manage` |\n" +
		"| DELETE | `/v1/roles/{name}` | `role.manage` |\n" +
		"not a row | GET | `/nope` |\n" +
		"## 4. Frames\n| GET | `/after` | x |\n"
	got := specRoutes(t, doc)
	want := []string{"GET /healthz", "GET /v1/agent/control", "GET /v1/sessions", "GET /v1/audit/export",
		"POST /v1/users/{name}/unlock", "POST /v1/users/{name}/disable", "POST /v1/users/{name}/enable",
		"DELETE /v1/roles/{name}"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}
