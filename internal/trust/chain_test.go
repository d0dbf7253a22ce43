package trust

import (
	"errors"
	"testing"
)

// change is a root change from prev to next, version v, signed by signers.
func change(t *testing.T, prev *RootBody, next *RootBody, v uint64, signers ...*PrivateKey) []byte {
	t.Helper()
	fp, err := prev.Fingerprint()
	if err != nil {
		t.Fatal(err)
	}
	return signedDoc(t, &RootChangeBody{Previous: fp, New: next}, v, tExpiry, signers...).Encode()
}

func TestFollow(t *testing.T) {
	a, b, c, m := testKey(1), testKey(2), testKey(3), testKey(9)
	r1 := mustRoot(t, "Org", 1, a)
	r2 := mustRoot(t, "Org", 2, a, b)
	r3 := mustRoot(t, "Org", 2, a, b, c)
	root1 := signedDoc(t, r1, 1, tExpiry, a).Encode()
	toR2 := change(t, r1, r2, 2, a)
	toR3 := change(t, r2, r3, 3, a, b)
	fp := func(rb *RootBody) Fingerprint { f, _ := rb.Fingerprint(); return f }
	mallory := mustRoot(t, "Mallory", 1, m)
	tests := []struct {
		name    string
		docs    [][]byte
		pin     Fingerprint
		want    Fingerprint
		wantErr error
	}{
		{"the root alone", [][]byte{root1}, fp(r1), fp(r1), nil},
		{"two changes from the first root", [][]byte{root1, toR2, toR3}, fp(r1), fp(r3), nil},
		{"pinned in the middle", [][]byte{root1, toR2, toR3}, fp(r2), fp(r3), nil},
		{"a foreign root", [][]byte{signedDoc(t, mallory, 1, tExpiry, m).Encode()}, fp(r1), Fingerprint{}, ErrNotInChain},
		{"the pin is later than the chain", [][]byte{root1}, fp(r2), Fingerprint{}, ErrNotInChain},
		{"a change below threshold", [][]byte{root1, toR2, change(t, r2, r3, 3, a)}, fp(r1), Fingerprint{}, ErrBelowThreshold},
		{"a change signed by a stranger", [][]byte{root1, change(t, r1, r2, 2, m)}, fp(r1), Fingerprint{}, ErrBelowThreshold},
		{"a root not signed by itself", [][]byte{signedDoc(t, r2, 1, tExpiry, a).Encode()}, fp(r2), Fingerprint{}, ErrBelowThreshold},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Follow(tt.docs, tt.pin, tNow)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Fingerprint != tt.want {
				t.Errorf("newest root %s, want %s", got.Fingerprint, tt.want)
			}
		})
	}
	if _, err := VerifyChain(nil, tNow); err == nil {
		t.Error("an empty chain verified")
	}
}
