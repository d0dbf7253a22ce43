package tech

import (
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/trust"
)

// TestOpenPolicy: the signed policy verifies under the root less the
// administrator keys the revocation list revokes, and not when it lists a
// recording recipient whose reviewer key the list revokes.
func TestOpenPolicy(t *testing.T) {
	a, _ := trust.GenerateKey(nil)
	b, _ := trust.GenerateKey(nil)
	now := time.Now()
	rb, err := trust.NewRootBody("Example Hospital", 1, a.Public(), b.Public())
	if err != nil {
		t.Fatal(err)
	}
	rd, err := trust.NewDocument(rb, 1, now.Add(-time.Hour), time.Time{})
	if err != nil || rd.Sign(a) != nil {
		t.Fatal(err)
	}
	root, err := trust.VerifyRoot(rd.Encode(), now)
	if err != nil {
		t.Fatal(err)
	}
	const reviewer = "tether-rec1reviewer"
	policy := func(signer *trust.PrivateKey, recipients ...string) []byte {
		body, err := PolicyBodyOf(api.PolicyDraft{Recipients: recipients, IdleSeconds: 60, AbsoluteSeconds: 600})
		if err != nil {
			t.Fatal(err)
		}
		d, err := trust.NewDocument(body, 4, now.Add(-time.Minute), now.Add(time.Hour))
		if err != nil || d.Sign(signer) != nil {
			t.Fatal(err)
		}
		return d.Encode()
	}
	revokeA := &currentList{body: trust.NewRevocationBody(nil, nil, []trust.KeyID{a.Public().ID()}), version: 2}
	revokeReviewer := &currentList{body: trust.NewRevocationBody(nil, []trust.KeyID{trust.ReviewerID(reviewer)}, nil), version: 3}
	tests := []struct {
		name    string
		rv      *currentList
		raw     []byte
		wantErr string
	}{
		{"no revocation list", nil, policy(a), ""},
		{"signed by a key not revoked", revokeA, policy(b), ""},
		{"signed only by a revoked admin key", revokeA, policy(a), "does not verify"},
		{"lists a revoked reviewer", revokeReviewer, policy(a, reviewer), "revocation list version 3 revokes"},
		{"lists another reviewer", revokeReviewer, policy(a, "tether-rec1other"), ""},
	}
	for _, tt := range tests {
		_, d, err := openPolicy(root, tt.rv, tt.raw, now)
		if tt.wantErr == "" {
			if err != nil || d.Version != 4 {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}
