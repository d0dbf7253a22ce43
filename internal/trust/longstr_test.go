package trust

import (
	"strings"
	"testing"
	"time"
)

// TestPolicyLongRecipients: recording recipients' keys (thousands of
// bytes) round-trip, and the long-string limits hold both ways.
func TestPolicyLongRecipients(t *testing.T) {
	t.Parallel()
	long := "tether-rec1" + strings.Repeat("x", 2100)
	tests := []struct {
		name       string
		recipients []string
		wantErr    string
	}{
		{"one long key", []string{long}, ""},
		{"two sorted", []string{long, long + "y"}, ""},
		{"unsorted", []string{long + "y", long}, "repeated or out of order"},
		{"too long", []string{strings.Repeat("k", MaxLongString+1)}, "1 to 8192 bytes"},
		{"empty", []string{""}, "1 to 8192 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := &PolicyBody{Recipients: tc.recipients, IdleSeconds: 60, AbsoluteSeconds: 600}
			d, err := NewDocument(body, 1, time.Unix(1000, 0), time.Unix(2000, 0))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v; want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			back, err := Decode(d.Encode())
			if err != nil {
				t.Fatal(err)
			}
			p, err := BodyOf[*PolicyBody](back)
			if err != nil || strings.Join(p.Recipients, ",") != strings.Join(tc.recipients, ",") {
				t.Fatalf("round trip: %v, %v", p, err)
			}
		})
	}
}
