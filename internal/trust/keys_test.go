package trust

import (
	"errors"
	"testing"
)

func TestHybridSignature(t *testing.T) {
	t.Parallel()
	k := testKey(0)
	msg := []byte("transcript")
	sig, err := k.Sign("handshake", msg)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(b []byte) []byte { c := append([]byte(nil), b...); c[len(c)/2] ^= 1; return c }
	tests := []struct {
		name  string
		key   *PublicKey
		label string
		msg   []byte
		sig   Signature
		want  error
	}{
		{"valid", k.Public(), "handshake", msg, sig, nil},
		{"ed25519 half broken", k.Public(), "handshake", msg, Signature{flip(sig.Ed25519), sig.MLDSA}, ErrBadEd25519},
		{"ml-dsa half broken", k.Public(), "handshake", msg, Signature{sig.Ed25519, flip(sig.MLDSA)}, ErrBadMLDSA},
		{"ed25519 half missing", k.Public(), "handshake", msg, Signature{nil, sig.MLDSA}, ErrBadEd25519},
		{"ml-dsa half missing", k.Public(), "handshake", msg, Signature{sig.Ed25519, nil}, ErrBadMLDSA},
		{"other label", k.Public(), "policy", msg, sig, ErrBadEd25519},
		{"other message", k.Public(), "handshake", []byte("transcripT"), sig, ErrBadEd25519},
		{"other key", testKey(1).Public(), "handshake", msg, sig, ErrBadEd25519},
	}
	for _, tc := range tests {
		if err := tc.key.Verify(tc.label, tc.msg, tc.sig); !errors.Is(err, tc.want) {
			t.Errorf("%s: Verify = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestSignatureIsDeterministic(t *testing.T) {
	t.Parallel()
	a, _ := testKey(0).Sign("x", []byte("m"))
	b, _ := testKey(0).Sign("x", []byte("m"))
	if string(a.Ed25519) != string(b.Ed25519) || string(a.MLDSA) != string(b.MLDSA) {
		t.Fatal("two signatures of the same message differ")
	}
}

func TestBadLabels(t *testing.T) {
	t.Parallel()
	for _, label := range []string{"", "a\x00b", "a b", "é", string(make([]byte, 250))} {
		if _, err := testKey(0).Sign(label, nil); err == nil {
			t.Errorf("Sign with label %q succeeded", label)
		}
	}
}

func TestParsePublicKey(t *testing.T) {
	t.Parallel()
	good := testKey(2).Public().Bytes()
	p, err := ParsePublicKey(good)
	if err != nil || !p.Equal(testKey(2).Public()) {
		t.Fatalf("round trip: %v", err)
	}
	badAlg := append([]byte(nil), good...)
	badAlg[0] = 2
	for name, b := range map[string][]byte{"short": good[:100], "long": append(good, 0), "suite": badAlg} {
		if _, err := ParsePublicKey(b); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}
