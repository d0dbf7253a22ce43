package api

import (
	"os"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// protocolSpec is the written specification whose section 3 must match
// Routes and the body types.
const protocolSpec = "../protocol/PROTOCOL.md"

// specRow is one row of a route table of PROTOCOL.md section 3.
type specRow struct {
	method    string // GET, POST, DELETE
	webSocket bool   // the method column says GET→WS
	paths     []string
	request   string // the request column
	response  string // the 200 response column
}

// readSpec parses the route tables of PROTOCOL.md section 3. A leading "…"
// in a path stands for the row's first path without its last element; a
// backquoted "[?query]" is not a path.
func readSpec(t *testing.T) []specRow {
	t.Helper()
	b, err := os.ReadFile(protocolSpec)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start, end := strings.Index(doc, "\n## 3. HTTP API"), strings.Index(doc, "\n## 4. ")
	if start < 0 || end < start {
		t.Fatalf("%s: section 3 (HTTP API) not found", protocolSpec)
	}
	method := regexp.MustCompile(`^(GET|POST|DELETE|PUT|PATCH)(→WS)?$`)
	code := regexp.MustCompile("`([^`]+)`")
	var rows []specRow
	for _, line := range strings.Split(doc[start:end], "\n") {
		// An escaped pipe (a backslash before it) inside a cell does not end it.
		cells := strings.Split(strings.ReplaceAll(line, `\|`, "\x00"), " | ")
		if len(cells) < 6 || !strings.HasPrefix(cells[0], "| ") {
			continue
		}
		m := method.FindStringSubmatch(strings.TrimPrefix(cells[0], "| "))
		if m == nil {
			continue
		}
		r := specRow{method: m[1], webSocket: m[2] != "",
			request: strings.ReplaceAll(cells[3], "\x00", "|"), response: strings.ReplaceAll(cells[4], "\x00", "|")}
		for _, c := range code.FindAllStringSubmatch(cells[1], -1) {
			p := c[1]
			switch {
			case strings.HasPrefix(p, "["):
				continue
			case strings.HasPrefix(p, "…") && len(r.paths) > 0:
				p = path.Dir(r.paths[0]) + strings.TrimPrefix(p, "…")
			}
			r.paths = append(r.paths, p)
		}
		rows = append(rows, r)
	}
	if len(rows) < 20 {
		t.Fatalf("parsed only %d rows from %s; has the table format changed?", len(rows), protocolSpec)
	}
	return rows
}

// TestSpecRoutes checks that PROTOCOL.md section 3 lists exactly the routes
// of Routes, in its order, with the same WebSocket routes.
func TestSpecRoutes(t *testing.T) {
	var documented []string
	ws := map[string]bool{}
	for _, r := range readSpec(t) {
		for _, p := range r.paths {
			documented = append(documented, r.method+" "+p)
			ws[r.method+" "+p] = r.webSocket
		}
	}
	var listed []string
	for _, r := range Routes() {
		listed = append(listed, r.Pattern())
		if d, ok := ws[r.Pattern()]; ok && d != r.WebSocket {
			t.Errorf("%s: WebSocket is %v in Routes, %v in %s", r.Pattern(), r.WebSocket, d, protocolSpec)
		}
	}
	for _, d := range documented {
		if !slices.Contains(listed, d) {
			t.Errorf("%s documents %q, which api.Routes does not list", protocolSpec, d)
		}
	}
	for _, l := range listed {
		if !slices.Contains(documented, l) {
			t.Errorf("api.Routes lists %q, which %s section 3 does not document", l, protocolSpec)
		}
	}
}

// TestSpecBodies checks, for every route whose request or 200 response
// PROTOCOL.md spells as a JSON object (or a list of one), that the object's
// keys are the JSON fields of the type in Routes, and that a key marked
// optional ("name"?) is one the type omits when empty, and no other.
func TestSpecBodies(t *testing.T) {
	checked := 0
	for _, row := range readSpec(t) {
		for _, p := range row.paths {
			rt, ok := Find(row.method + " " + p)
			if !ok {
				continue // TestSpecRoutes reports it
			}
			for _, c := range []struct {
				what string
				cell string
				typ  reflect.Type
			}{{"request", row.request, rt.Request}, {"response", row.response, rt.Response}} {
				doc, ok := docKeys(c.cell)
				if !ok || (c.what == "response" && rt.Download) {
					continue
				}
				checked++
				if c.typ == nil {
					t.Errorf("%s %s: %s documents a %s body %v; api.Routes has none", row.method, p, protocolSpec, c.what, doc)
					continue
				}
				if c.typ.Kind() == reflect.Slice {
					c.typ = c.typ.Elem()
				}
				if got := jsonFields(c.typ); !reflect.DeepEqual(got, doc) {
					t.Errorf("%s %s %s: %s documents keys (true: optional)\n  %v\nbut api.%s has\n  %v",
						row.method, p, c.what, protocolSpec, doc, c.typ.Name(), got)
				}
			}
		}
	}
	if checked < 40 {
		t.Errorf("checked only %d bodies; has the table format changed?", checked)
	}
}

// docKeys returns the top-level keys of the first backquoted JSON object
// (or list of objects) in a table cell, each true if marked optional with
// "?"; ok is false if the cell spells no object.
func docKeys(cell string) (keys map[string]bool, ok bool) {
	m := regexp.MustCompile("`(\\[?\\{\"[^`]*)`").FindStringSubmatch(cell)
	if m == nil {
		return nil, false
	}
	s := strings.TrimPrefix(m[1], "[")
	keys = map[string]bool{}
	depth, key := 0, true
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
		case depth == 1 && c == ',':
			key = true
		case depth == 1 && c == ':':
			key = false
		case depth == 1 && c == '"':
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				return nil, false
			}
			if key {
				keys[s[i+1:i+1+j]] = strings.HasPrefix(s[i+2+j:], "?")
			}
			i += j + 1
		}
	}
	return keys, true
}

// jsonFields returns the JSON names of t's fields, each true if the field
// is omitted when empty (omitempty or omitzero).
func jsonFields(t reflect.Type) map[string]bool {
	out := map[string]bool{}
	for i := range t.NumField() {
		name, opts, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = t.Field(i).Name
		}
		out[name] = strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero")
	}
	return out
}

// TestDocKeys pins docKeys on the cell shapes the tables use.
func TestDocKeys(t *testing.T) {
	for _, c := range []struct {
		cell string
		want map[string]bool
	}{
		{"`{\"username\",\"password\",\"totp\"?}`", map[string]bool{"username": false, "password": false, "totp": true}},
		{"`{\"status\":\"ok\"}`", map[string]bool{"status": false}},
		{"the new `{\"key\",\"key_id\"}` and `{\"x\"}`", map[string]bool{"key": false, "key_id": false}},
		{"`[{\"id\",\"last_seen\"?}]`, sorted", map[string]bool{"id": false, "last_seen": true}},
		{"`{\"org\",\"policy\":{…},\"your_orgs\":[],\"effective\":{…}}`", map[string]bool{"org": false, "policy": false, "your_orgs": false, "effective": false}},
		{"`{\"policy\":\"consent\"|\"unattended\"}`", map[string]bool{"policy": false}},
		{"`{\"org\"?, \"min_length\"?}` (durations)", map[string]bool{"org": true, "min_length": true}},
	} {
		got, ok := docKeys(c.cell)
		if !ok || !reflect.DeepEqual(got, c.want) {
			t.Errorf("docKeys(%s) = %v, %v; want %v", c.cell, got, ok, c.want)
		}
	}
	for _, cell := range []string{"none", "–", "session view", "`[session view]`", "frames", "– (`{id}` is the key ID)"} {
		if got, ok := docKeys(cell); ok {
			t.Errorf("docKeys(%q) = %v, want none", cell, got)
		}
	}
}
