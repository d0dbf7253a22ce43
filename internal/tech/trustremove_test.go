package tech

import (
	"strings"
	"testing"

	"github.com/tether-support/tether/internal/trust"
)

func TestFindAdminKey(t *testing.T) {
	var admins []*trust.PublicKey
	for range 3 {
		k, err := trust.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		admins = append(admins, k.Public())
	}
	id1 := admins[1].ID().String()
	tests := []struct {
		name, id string
		want     int
		err      string
	}{
		{"full ID", id1, 1, ""},
		{"upper case with spaces", " " + strings.ToUpper(id1) + " ", 1, ""},
		{"prefix", id1[:minKeyIDPrefix], 1, ""},
		{"odd-length prefix", id1[:minKeyIDPrefix+1], 1, ""},
		{"too short", id1[:minKeyIDPrefix-1], 0, "at least 8 digits"},
		{"not hex", "zz" + id1[2:], 0, "want the hex key ID"},
		{"unknown", strings.Repeat("0", 64), 0, "not an administrator key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := findAdminKey(admins, tc.id)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("findAdminKey(%q) = %d, %v; want an error saying %q", tc.id, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("findAdminKey(%q) = %d, %v; want %d", tc.id, got, err, tc.want)
			}
		})
	}
}
