package tech

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
)

// TestAuditCopyNeutralisesAHostileRelay feeds tech's audit export copy
// what a relay that does not neutralise its export would send.
func TestAuditCopyNeutralisesAHostileRelay(t *testing.T) {
	csvIn := "seq,action,target\r\n" +
		"1,\"=HYPERLINK(\"\"http://evil\"\")\",\"pc\x1b]52;c;Y3VybA==\a\"\r\n" +
		"2,+cmd,\"a\u202Eb\r\nnext\"\r\n" +
		"3,-1+2,@SUM(A1)\x9b6n\r\n"
	var out bytes.Buffer
	if err := copyCSV(&out, strings.NewReader(csvIn)); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"seq", "action", "target"},
		{"1", `'=HYPERLINK("http://evil")`, `pc\x1b]52;c;Y3VybA==\x07`},
		{"2", "'+cmd", `a<U+202E>b\nnext`},
		{"3", "'-1+2", "'@SUM(A1)\uFFFD6n"},
	}
	for i := range want {
		if strings.Join(rows[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d: got %q, want %q", i, rows[i], want[i])
		}
	}
	if err := copyCSV(&bytes.Buffer{}, strings.NewReader("a,\"b\n")); err == nil {
		t.Errorf("malformed CSV: got nil, want an error")
	}

	jsonlIn := "{\"target\":\"pc\x1b]52;c;QQ==\a\"}\n{\"target\":\"a\u202Eb\u009b6n\"}\r{\"x\":1}\n"
	out.Reset()
	if err := copyJSONL(&out, strings.NewReader(jsonlIn)); err != nil {
		t.Fatal(err)
	}
	wantJSONL := `{"target":"pc\u001b]52;c;QQ==\u0007"}` + "\n" + `{"target":"a\u202eb\u009b6n"}\u000d{"x":1}` + "\n"
	if out.String() != wantJSONL {
		t.Errorf("jsonl: got %q, want %q", out.String(), wantJSONL)
	}
	long := strings.Repeat("x", maxAuditLine+1)
	if err := copyJSONL(&bytes.Buffer{}, strings.NewReader(long)); err == nil || !strings.Contains(err.Error(), "over") {
		t.Errorf("over-long line: got %v, want an error", err)
	}
}
