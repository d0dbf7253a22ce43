package trust

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fastScrypt keeps tests quick; real files use DefaultScrypt.
var fastScrypt = ScryptParams{LogN: 10, R: 8, P: 1}

func TestKeyFileRoundTrip(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "admin.key")
	k := testKey(3)
	if err := WriteKeyFile(path, k, []byte("correct horse"), fastScrypt); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v; want 0600", st.Mode().Perm(), err)
	}
	got, err := ReadKeyFile(path, []byte("correct horse"))
	if err != nil {
		t.Fatal(err)
	}
	if !got.Public().Equal(k.Public()) {
		t.Fatal("read back a different key")
	}
	if err := WriteKeyFile(path, testKey(4), []byte("x"), fastScrypt); err == nil {
		t.Fatal("an existing key file was replaced")
	}
}

func TestKeyFileRefusals(t *testing.T) {
	t.Parallel()
	const pass = "s3cret-passphrase"
	write := func(t *testing.T) string {
		path := filepath.Join(t.TempDir(), "k")
		if err := WriteKeyFile(path, testKey(3), []byte(pass), fastScrypt); err != nil {
			t.Fatal(err)
		}
		return path
	}
	damage := func(off int) func(t *testing.T, path string) {
		return func(t *testing.T, path string) {
			b, _ := os.ReadFile(path)
			b[off] ^= 1
			os.WriteFile(path, b, 0o600)
		}
	}
	set := func(off int, v byte) func(t *testing.T, path string) {
		return func(t *testing.T, path string) {
			b := mustRead(t, path)
			b[off] = v
			os.WriteFile(path, b, 0o600)
		}
	}
	tests := []struct {
		name   string
		pass   string
		change func(t *testing.T, path string)
		want   string
	}{
		{"wrong passphrase", "wrong", nil, "wrong passphrase (or the key file is damaged)"},
		{"group readable", pass, func(t *testing.T, p string) { os.Chmod(p, 0o640) }, "readable by others"},
		{"world readable", pass, func(t *testing.T, p string) { os.Chmod(p, 0o604) }, "readable by others"},
		{"ciphertext damaged", pass, func(t *testing.T, p string) { damage(len(mustRead(t, p))-1)(t, p) }, "wrong passphrase (or the key file is damaged)"},
		{"salt damaged", pass, damage(15), "wrong passphrase (or the key file is damaged)"},
		{"cost changed", pass, damage(5), "wrong passphrase (or the key file is damaged)"},
		{"cost raised past bounds", pass, set(5, 30), "out of bounds"},
		{"unknown cipher", pass, set(4+1+1+4+4+16, 9), "unknown key derivation"},
		{"bad magic", pass, damage(0), "not a Tether key file"},
		{"truncated", pass, func(t *testing.T, p string) { os.WriteFile(p, mustRead(t, p)[:20], 0o600) }, "truncated"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := write(t)
			if tc.change != nil {
				tc.change(t, path)
			}
			_, err := ReadKeyFile(path, []byte(tc.pass))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to say %q", err, tc.want)
			}
			if strings.Contains(err.Error(), pass) {
				t.Fatalf("error %q reveals the passphrase", err)
			}
		})
	}
	if _, err := ReadKeyFile(write(t), []byte("nope")); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("err = %v, want ErrWrongPassphrase", err)
	}
	if err := WriteKeyFile(filepath.Join(t.TempDir(), "e"), testKey(3), nil, fastScrypt); err == nil {
		t.Fatal("an empty passphrase was accepted")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
