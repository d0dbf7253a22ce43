package relay

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseHostAnswer(t *testing.T) {
	for _, tc := range []struct {
		line string
		n    int64
		err  string
	}{
		{"ok 32768\n", 32768, ""},
		{"ok 1", 1, ""},
		{"error another backup is running\n", 0, "refused the backup: another backup is running"},
		{"ok 0\n", 0, "not a snapshot"},
		{"ok -5\n", 0, "not a snapshot"},
		{"ok +5\n", 0, "not a snapshot"},
		{"ok 05\n", 0, "not a snapshot"},
		{"ok 2199023255553\n", 0, "not a snapshot"},
		{"ok\n", 0, "not a snapshot"},
		{"HTTP/1.1 400 Bad Request\r\n", 0, "not a snapshot"},
	} {
		n, err := parseHostAnswer(tc.line)
		if n != tc.n || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%q: %d, %v; want %d, %q", tc.line, n, err, tc.n, tc.err)
		}
	}
}

// FuzzParseHostAnswer: an answer line gives a length in 1..maxSnapshot
// or an error, never both, never a panic.
func FuzzParseHostAnswer(f *testing.F) {
	for _, s := range []string{"ok 32768\n", "error busy\n", "ok 0", "ok 99999999999999999999", "ok \x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		n, err := parseHostAnswer(line)
		if (err == nil) != (n > 0 && n <= maxSnapshot) {
			t.Fatalf("%q: %d, %v", line, n, err)
		}
		if err != nil && !utf8.ValidString(err.Error()) && utf8.ValidString(line) {
			t.Fatalf("error text not valid UTF-8: %q", err)
		}
	})
}
