package main

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/api"
)

// TestReportCSVIsInert checks that every cell a device, a technician or the
// relay controls is inert in a spreadsheet, and that the CSV parses back
// with one row per session.
func TestReportCSVIsInert(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ss := []api.SessionReport{
		{ID: "0123456789abcdef0123456789abcdef", TechUser: "=HYPERLINK(\"http://x\")", DeviceName: "+pc\x1b[2J",
			Mode: "attended", Reason: "@SUM(A1)", CreatedAt: t0, StartedAt: t0, EndedAt: t0.Add(90 * time.Second),
			DurationSeconds: 90, Granted: []string{"shell", "files"}, EndReason: "-2+3\r\nforged row",
			Files: []api.FileTransfer{
				{Direction: "=cmd", Path: "=evil.csv", Size: 3, SHA256: strings.Repeat("ab", 32)},
				{Direction: "download", Path: "a\nb.txt", Size: 5, SHA256: strings.Repeat("cd", 32)},
			}},
		{ID: "fedcba9876543210fedcba9876543210", TechUser: "bob", DeviceName: "pc-2", Mode: "unattended", CreatedAt: t0},
	}
	var b bytes.Buffer
	if err := printReportCSV(&b, ss); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse: %v\n%s", err, b.String())
	}
	if len(rows) != 3 || len(rows[0]) != len(reportCSVHeader) {
		t.Fatalf("got %d rows of %d cells, want 3 of %d", len(rows), len(rows[0]), len(reportCSVHeader))
	}
	for _, row := range rows[1:] {
		for i, c := range row {
			if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				t.Errorf("column %s starts with a formula character: %q", reportCSVHeader[i], c)
			}
			if strings.ContainsAny(c, "\x1b\r") || (reportCSVHeader[i] != "files" && strings.Contains(c, "\n")) {
				t.Errorf("column %s holds a control character: %q", reportCSVHeader[i], c)
			}
		}
	}
	col := func(name string) int {
		for i, h := range reportCSVHeader {
			if h == name {
				return i
			}
		}
		t.Fatalf("no column %s", name)
		return -1
	}
	files := strings.Split(rows[1][col("files")], "\n")
	if len(files) != 2 || !strings.Contains(files[0], strings.Repeat("ab", 32)) || !strings.Contains(files[1], `a\nb.txt`) {
		t.Errorf("files cell: %q", files)
	}
	if got := rows[1][col("duration_seconds")]; got != "90" {
		t.Errorf("duration_seconds = %q", got)
	}
	if got := rows[2][col("started_at")]; got != "" {
		t.Errorf("a session that never started has start %q", got)
	}
}
