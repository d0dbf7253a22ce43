package tech

import (
	"strings"
	"testing"

	"tether/internal/trust"
)

func TestAdminKeyText(t *testing.T) {
	k, err := trust.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	s := FormatAdminKey(k.Public())
	got, err := ParseAdminKey(s + "\n")
	if err != nil || !got.Equal(k.Public()) {
		t.Fatalf("round trip: %v", err)
	}
	for _, bad := range []string{"", "tether-rec1-abc", adminPubPrefix + "!!", adminPubPrefix + "AAAA", strings.TrimPrefix(s, adminPubPrefix)} {
		if _, err := ParseAdminKey(bad); err == nil {
			t.Errorf("ParseAdminKey(%.30q) accepted", bad)
		}
	}
}
