package totp

import (
	"bytes"
	"errors"
	"testing"
)

var testKey = bytes.Repeat([]byte{7}, KeySize)

func TestSealOpen(t *testing.T) {
	const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	sealed, err := Seal(testKey, "user-1", secret)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte(secret)) {
		t.Fatal("sealed output contains the secret")
	}
	got, err := Open(testKey, "user-1", sealed)
	if err != nil || got != secret {
		t.Fatalf("Open = %q, %v; want %q", got, err, secret)
	}
	again, _ := Seal(testKey, "user-1", secret)
	if bytes.Equal(again, sealed) {
		t.Error("two seals are equal: nonce reused")
	}
}

func TestOpenTampered(t *testing.T) {
	sealed, err := Seal(testKey, "user-1", "JBSWY3DPEHPK3PXP")
	if err != nil {
		t.Fatal(err)
	}
	otherKey := bytes.Repeat([]byte{8}, KeySize)
	flip := func(i int) []byte { b := bytes.Clone(sealed); b[i] ^= 1; return b }
	tests := []struct {
		name   string
		key    []byte
		user   string
		sealed []byte
		want   error
	}{
		{"wrong user", testKey, "user-2", sealed, ErrOpen},
		{"wrong key", otherKey, "user-1", sealed, ErrOpen},
		{"version", testKey, "user-1", flip(0), ErrOpen},
		{"nonce", testKey, "user-1", flip(1), ErrOpen},
		{"ciphertext", testKey, "user-1", flip(len(sealed) / 2), ErrOpen},
		{"tag", testKey, "user-1", flip(len(sealed) - 1), ErrOpen},
		{"truncated", testKey, "user-1", sealed[:len(sealed)-1], ErrOpen},
		{"trailing", testKey, "user-1", append(bytes.Clone(sealed), 0), ErrOpen},
		{"empty", testKey, "user-1", nil, ErrOpen},
		{"short key", testKey[:16], "user-1", sealed, ErrKeySize},
		{"no user", testKey, "", sealed, ErrNoUserID},
	}
	for _, tt := range tests {
		got, err := Open(tt.key, tt.user, tt.sealed)
		if !errors.Is(err, tt.want) || got != "" {
			t.Errorf("%s: Open = %q, %v; want %v", tt.name, got, err, tt.want)
		}
	}
	if _, err := Seal(testKey[:31], "u", "s"); !errors.Is(err, ErrKeySize) {
		t.Errorf("Seal with 31-byte key: got %v, want ErrKeySize", err)
	}
}

func FuzzOpen(f *testing.F) {
	const secret = "JBSWY3DPEHPK3PXP"
	sealed, err := Seal(testKey, "user-1", secret)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sealed)
	f.Add([]byte{})
	f.Add([]byte{sealVersion})
	f.Fuzz(func(t *testing.T, b []byte) {
		// Only a genuine seal opens; fuzz workers seal with other nonces, so
		// compare the plaintext, not the input.
		got, err := Open(testKey, "user-1", b)
		if err == nil && got != secret {
			t.Fatalf("Open accepted forged input %x as %q", b, got)
		}
		if err != nil && got != "" {
			t.Fatalf("Open returned %q with error %v", got, err)
		}
	})
}
