package relay

import (
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/trust"
)

// TestCheckRevocations: the stored revocation list must have been
// published and signed, without the administrator keys it revokes, by the
// threshold of a root of the stored chain.
func TestCheckRevocations(t *testing.T) {
	a, _ := trust.GenerateKey(nil)
	b, _ := trust.GenerateKey(nil)
	stranger, _ := trust.GenerateKey(nil)
	_, rdoc := rootDoc(t, 1, []*trust.PrivateKey{a, b}, a)
	chain := [][]byte{rdoc}
	published := time.Now().Add(time.Minute)
	good := revocationDoc(t, 1, nil, a)
	tampered := append([]byte(nil), good...)
	tampered[len(tampered)-1] ^= 1
	tests := []struct {
		name      string
		chain     [][]byte
		doc       []byte
		published time.Time
		want      string // "" for no finding
	}{
		{"valid", chain, good, published, ""},
		{"signed by the other admin", chain, revocationDoc(t, 2, nil, b), published, ""},
		{"never published", chain, good, time.Time{}, "never accepted"},
		{"no chain", nil, good, published, "no trust root chain"},
		{"signed by a stranger", chain, revocationDoc(t, 1, nil, stranger), published, "not validly signed"},
		{"signed only by the key it revokes", chain, revocationDoc(t, 1, []trust.KeyID{a.Public().ID()}, a), published, "not validly signed"},
		{"tampered", chain, tampered, published, "not validly signed"},
		{"not a revocation list", chain, rdoc, published, "not validly signed"},
	}
	for _, tt := range tests {
		got := checkRevocations(tt.chain, tt.doc, tt.published)
		if (got == "") != (tt.want == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestVerifyStoredRevocationsNone: without a stored list there is nothing
// to check, and the audit log is not opened.
func TestVerifyStoredRevocationsNone(t *testing.T) {
	got, err := VerifyStoredRevocations(t.TempDir())
	if err != nil || got != "" {
		t.Fatalf("VerifyStoredRevocations: %q, %v", got, err)
	}
}
