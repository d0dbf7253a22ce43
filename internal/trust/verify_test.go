package trust

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRootVerifyThreshold(t *testing.T) {
	t.Parallel()
	a, b, c, outsider := testKey(0), testKey(1), testKey(2), testKey(9)
	one := verifiedRoot(t, 1, a, b)
	two := verifiedRoot(t, 2, a, b, c)
	breakHalf := func(ed bool) func(d *Document) {
		return func(d *Document) {
			s := &d.Signatures[0]
			if ed {
				s.Ed25519 = append([]byte(nil), s.Ed25519...)
				s.Ed25519[0] ^= 1
			} else {
				s.MLDSA = append([]byte(nil), s.MLDSA...)
				s.MLDSA[0] ^= 1
			}
		}
	}
	tests := []struct {
		name    string
		root    *Root
		signers []*PrivateKey
		tamper  func(d *Document)
		now     time.Time
		want    error
		wantMsg string
	}{
		{"threshold 1, one signature", one, []*PrivateKey{a}, nil, tNow, nil, ""},
		{"threshold 1, no signature", one, nil, nil, tNow, ErrBelowThreshold, "0 valid of 1 required"},
		{"threshold 1, outsider only", one, []*PrivateKey{outsider}, nil, tNow, ErrBelowThreshold, "0 valid of 1"},
		{"threshold 1, ed25519 half broken", one, []*PrivateKey{a}, breakHalf(true), tNow, ErrBelowThreshold, "Ed25519 signature does not verify"},
		{"threshold 1, ml-dsa half broken", one, []*PrivateKey{a}, breakHalf(false), tNow, ErrBelowThreshold, "ML-DSA-65 signature does not verify"},
		{"threshold 2, one signature refused", two, []*PrivateKey{a}, nil, tNow, ErrBelowThreshold, "1 valid of 2 required"},
		{"threshold 2, two signatures accepted", two, []*PrivateKey{a, c}, nil, tNow, nil, ""},
		{"threshold 2, one admin plus outsider", two, []*PrivateKey{b, outsider}, nil, tNow, ErrBelowThreshold, "1 valid of 2"},
		{"threshold 2, same key twice counts once", two, []*PrivateKey{a}, func(d *Document) {
			d.Signatures = append(d.Signatures, d.Signatures[0])
		}, tNow, ErrBelowThreshold, "1 valid of 2"},
		{"threshold 2, one of two broken", two, []*PrivateKey{a, b}, breakHalf(false), tNow, ErrBelowThreshold, "1 valid of 2"},
		{"expired", one, []*PrivateKey{a}, nil, tExpiry, ErrExpired, "policy version 4 expired"},
		{"body changed after signing", one, []*PrivateKey{a}, func(d *Document) { d.Version++ }, tNow, ErrBelowThreshold, "0 valid"},
	}
	for _, tc := range tests {
		d := signedDoc(t, testPolicy(), 4, tExpiry, tc.signers...)
		if tc.tamper != nil {
			tc.tamper(d)
		}
		err := tc.root.Verify(d, tc.now)
		if !errors.Is(err, tc.want) || (tc.want != nil && !strings.Contains(err.Error(), tc.wantMsg)) {
			t.Errorf("%s: Verify = %v, want %v saying %q", tc.name, err, tc.want, tc.wantMsg)
		}
	}
}

func TestVerifyRoot(t *testing.T) {
	t.Parallel()
	a, b := testKey(0), testKey(1)
	rb := mustRoot(t, "Example Hospital", 2, a, b)
	tests := []struct {
		name    string
		raw     []byte
		wantErr string
	}{
		{"self-signed by threshold", signedDoc(t, rb, 1, time.Time{}, a, b).Encode(), ""},
		{"below its own threshold", signedDoc(t, rb, 1, time.Time{}, a).Encode(), "1 valid of 2"},
		{"expired root", signedDoc(t, rb, 1, tNow, a, b).Encode(), "expired"},
		{"wrong kind", signedDoc(t, testPolicy(), 1, tExpiry, a, b).Encode(), "wrong document kind: got policy, want root"},
	}
	for _, tc := range tests {
		r, err := VerifyRoot(tc.raw, tNow)
		if tc.wantErr == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			} else if fp, _ := rb.Fingerprint(); r.Fingerprint != fp {
				t.Errorf("%s: fingerprint %v, want %v", tc.name, r.Fingerprint, fp)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: err = %v, want it to say %q", tc.name, err, tc.wantErr)
		}
	}
}

func TestOpenRefusesWrongKind(t *testing.T) {
	t.Parallel()
	a := testKey(0)
	r := verifiedRoot(t, 1, a)
	raw := signedDoc(t, testPolicy(), 3, tExpiry, a).Encode()
	if _, _, err := Open[*RevocationBody](r, raw, tNow); err == nil || !strings.Contains(err.Error(), "wrong document kind") {
		t.Fatalf("err = %v", err)
	}
	p, d, err := Open[*PolicyBody](r, raw, tNow)
	if err != nil || p.IdleSeconds != 900 || d.Version != 3 {
		t.Fatalf("Open = %+v, %v", p, err)
	}
	// A signature made for one kind does not verify when the kind byte changes.
	d.Kind = KindRevocation
	if err := r.Verify(d, tNow); !errors.Is(err, ErrBelowThreshold) {
		t.Fatalf("relabelled document: err = %v", err)
	}
}

func TestApplyChange(t *testing.T) {
	t.Parallel()
	a, b, c := testKey(0), testKey(1), testKey(2)
	cur := verifiedRoot(t, 2, a, b)
	next := mustRoot(t, "Example Hospital", 2, a, b, c)
	change := func(prev Fingerprint, version uint64, signers ...*PrivateKey) []byte {
		return signedDoc(t, &RootChangeBody{Previous: prev, New: next}, version, time.Time{}, signers...).Encode()
	}
	tests := []struct {
		name    string
		raw     []byte
		wantErr string
	}{
		{"signed by the current threshold", change(cur.Fingerprint, 2, a, b), ""},
		{"below the current threshold", change(cur.Fingerprint, 2, a), "1 valid of 2"},
		{"signed only by the new key", change(cur.Fingerprint, 2, c), "0 valid of 2"},
		{"names another root", change(Fingerprint{1}, 2, a, b), "not the pinned"},
		{"version not above", change(cur.Fingerprint, 1, a, b), "not above"},
		{"not a root change", signedDoc(t, next, 2, time.Time{}, a, b).Encode(), "wrong document kind"},
	}
	for _, tc := range tests {
		got, err := cur.ApplyChange(tc.raw, tNow)
		if tc.wantErr == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			} else if len(got.Body.Admins) != 3 || got.Version != 2 {
				t.Errorf("%s: new root %+v", tc.name, got)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: err = %v, want it to say %q", tc.name, err, tc.wantErr)
		}
	}
}

func TestPinnedRefusesRollback(t *testing.T) {
	t.Parallel()
	p := Pinned{Kind: KindPolicy}
	steps := []struct {
		v       uint64
		ok      bool
		highest uint64
	}{{3, true, 3}, {3, true, 3}, {2, false, 3}, {10, true, 10}, {0, false, 10}}
	for _, s := range steps {
		next, err := p.Accept(s.v)
		if (err == nil) != s.ok || next.Highest != s.highest {
			t.Fatalf("Accept(%d) from %d = %d, %v", s.v, p.Highest, next.Highest, err)
		}
		if err != nil && !errors.Is(err, ErrRollback) {
			t.Fatalf("err = %v, want ErrRollback", err)
		}
		p = next
	}
}

func TestRevocationLookups(t *testing.T) {
	t.Parallel()
	rv := &RevocationBody{TechCerts: []KeyID{{1}}, ReviewerKeys: []KeyID{{2}}, AdminKeys: []KeyID{{3}}}
	if !rv.RevokesCert(KeyID{1}) || rv.RevokesCert(KeyID{2}) || !rv.RevokesReviewer(KeyID{2}) ||
		rv.RevokesReviewer(KeyID{3}) || !rv.RevokesAdmin(KeyID{3}) || rv.RevokesAdmin(KeyID{1}) {
		t.Fatal("revocation lookups disagree with the lists")
	}
}
