package trust

import (
	"errors"
	"testing"
)

// TestVerifyRevocation: a revocation list needs the root's threshold, and
// the administrator keys it revokes do not count toward it.
func TestVerifyRevocation(t *testing.T) {
	k0, k1, k2 := testKey(0), testKey(1), testKey(2)
	root := verifiedRoot(t, 2, k0, k1, k2)
	id0 := k0.Public().ID()
	cases := []struct {
		name    string
		body    *RevocationBody
		signers []*PrivateKey
		wantErr error
	}{
		{"threshold signs", NewRevocationBody(nil, nil, nil), []*PrivateKey{k0, k1}, nil},
		{"below threshold", NewRevocationBody(nil, nil, nil), []*PrivateKey{k0}, ErrBelowThreshold},
		{"revoked admin signs its own revocation", NewRevocationBody(nil, nil, []KeyID{id0}), []*PrivateKey{k0, k1}, ErrBelowThreshold},
		{"the others sign it", NewRevocationBody(nil, nil, []KeyID{id0}), []*PrivateKey{k1, k2}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := signedDoc(t, c.body, 1, tExpiry, c.signers...)
			rv, _, err := VerifyRevocation(root, d.Encode(), tNow)
			if !errors.Is(err, c.wantErr) || (err == nil) != (c.wantErr == nil) {
				t.Fatalf("err %v, want %v", err, c.wantErr)
			}
			if err == nil && len(rv.AdminKeys) != len(c.body.AdminKeys) {
				t.Errorf("admin keys %v", rv.AdminKeys)
			}
		})
	}
}

// TestRootRevoke: a revoked administrator's signature no longer counts,
// and Revoke leaves the original root alone.
func TestRootRevoke(t *testing.T) {
	k0, k1 := testKey(0), testKey(1)
	root := verifiedRoot(t, 1, k0, k1)
	d := signedDoc(t, testPolicy(), 2, tExpiry, k0)
	if err := root.Verify(d, tNow); err != nil {
		t.Fatal(err)
	}
	revoked := root.Revoke([]KeyID{k0.Public().ID()})
	if err := revoked.Verify(d, tNow); !errors.Is(err, ErrBelowThreshold) {
		t.Errorf("signed by a revoked key: %v, want %v", err, ErrBelowThreshold)
	}
	if err := root.Verify(d, tNow); err != nil || len(root.Revoked) != 0 {
		t.Errorf("Revoke changed the original root: %v %v", err, root.Revoked)
	}
	if err := revoked.Verify(signedDoc(t, testPolicy(), 2, tExpiry, k1), tNow); err != nil {
		t.Errorf("signed by the remaining key: %v", err)
	}
}

// TestNewRevocationBody sorts and de-duplicates, and ReviewerID ignores
// surrounding white space.
func TestNewRevocationBody(t *testing.T) {
	a, b := ReviewerID("tether-rec1-a"), ReviewerID(" tether-rec1-b\n")
	if b != ReviewerID("tether-rec1-b") {
		t.Error("ReviewerID depends on white space")
	}
	rv := NewRevocationBody([]KeyID{b, a, b}, []KeyID{a, a}, nil)
	if len(rv.TechCerts) != 2 || len(rv.ReviewerKeys) != 1 || !rv.RevokesReviewer(a) || !rv.RevokesCert(b) {
		t.Errorf("body %+v", rv)
	}
	if _, err := encodeBody(rv); err != nil {
		t.Error(err)
	}
}
