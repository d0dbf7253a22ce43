package password

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		pw   []byte
		want error
	}{
		{"ok", []byte("correct horse battery staple"), nil},
		{"unicode", []byte("pässwörd🔑"), nil},
		{"max", bytes.Repeat([]byte("a"), MaxLength), nil},
		{"empty", nil, ErrEmpty},
		{"too long", bytes.Repeat([]byte("a"), MaxLength+1), ErrTooLong},
		{"1MB", bytes.Repeat([]byte("a"), 1<<20), ErrTooLong},
		{"nul", []byte("ab\x00cd"), ErrNUL},
		{"bad utf8", []byte("ab\xffcd"), ErrInvalidUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Check(tt.pw)
			if !errors.Is(got, tt.want) || (tt.want == nil && got != nil) {
				t.Errorf("Check: got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	h := NewHasher(DefaultParams, 2)
	ctx := context.Background()
	enc, err := h.Hash(ctx, []byte("s3cret!"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("got encoding %q, want prefix $argon2id$v=19$m=19456,t=2,p=1$", enc)
	}
	p, salt, key, err := Parse(enc)
	if err != nil {
		t.Fatal(err)
	}
	if p != DefaultParams || len(salt) != 16 || len(key) != 32 {
		t.Errorf("Parse: got %+v, salt %d, key %d; want %+v, 16, 32", p, len(salt), len(key), DefaultParams)
	}
	for _, tc := range []struct {
		pw   string
		want bool
	}{{"s3cret!", true}, {"s3cret", false}, {"S3cret!", false}} {
		ok, err := h.Verify(ctx, enc, []byte(tc.pw))
		if err != nil || ok != tc.want {
			t.Errorf("Verify(%q): got %v, %v; want %v, nil", tc.pw, ok, err, tc.want)
		}
	}
	h.DummyVerify(ctx, []byte("s3cret!"))
}

func TestHashRejectsBadPassword(t *testing.T) {
	h := NewHasher(DefaultParams, 1)
	big := bytes.Repeat([]byte("a"), 1<<20)
	if _, err := h.Hash(context.Background(), big); !errors.Is(err, ErrTooLong) {
		t.Errorf("Hash(1 MB): got %v, want ErrTooLong", err)
	}
	if ok, err := h.Verify(context.Background(), h.dummy, big); ok || !errors.Is(err, ErrTooLong) {
		t.Errorf("Verify(1 MB): got %v, %v; want false, ErrTooLong", ok, err)
	}
	if _, err := h.Hash(context.Background(), []byte("a\x00b")); !errors.Is(err, ErrNUL) {
		t.Errorf("Hash(NUL): got %v, want ErrNUL", err)
	}
}

func TestSaltsDiffer(t *testing.T) {
	h := NewHasher(testParams, 1)
	a, _ := h.Hash(context.Background(), []byte("x"))
	b, _ := h.Hash(context.Background(), []byte("x"))
	if a == b {
		t.Errorf("two hashes of the same password are equal: %q", a)
	}
}

// testParams are cheap parameters for tests that do not need the real cost.
var testParams = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestTampered(t *testing.T) {
	h := NewHasher(testParams, 1)
	ctx := context.Background()
	enc, err := h.Hash(ctx, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(enc, "$")
	flip := func(s string) string {
		b := []byte(s)
		if b[0] == 'A' {
			b[0] = 'B'
		} else {
			b[0] = 'A'
		}
		return string(b)
	}
	tests := []struct{ name, enc string }{
		{"salt", strings.Join([]string{"", parts[1], parts[2], parts[3], flip(parts[4]), parts[5]}, "$")},
		{"hash", strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], flip(parts[5])}, "$")},
		{"time", strings.Replace(enc, "t=1", "t=2", 1)},
		{"memory", strings.Replace(enc, "m=64", "m=65", 1)},
	}
	for _, tt := range tests {
		ok, err := h.Verify(ctx, tt.enc, []byte("pw"))
		if err != nil || ok {
			t.Errorf("%s: Verify(tampered) got %v, %v; want false, nil", tt.name, ok, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	const salt, key = "c2FsdHNhbHRzYWx0c2FsdA", "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U"
	ok := "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key
	if _, _, _, err := Parse(ok); err != nil {
		t.Fatalf("Parse(valid): got %v, want nil", err)
	}
	bad := []struct{ name, enc string }{
		{"empty", ""},
		{"argon2i", "$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key},
		{"version", "$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key},
		{"memory 2GiB", "$argon2id$v=19$m=2097152,t=2,p=1$" + salt + "$" + key},
		{"time 11", "$argon2id$v=19$m=19456,t=11,p=1$" + salt + "$" + key},
		{"time 0", "$argon2id$v=19$m=19456,t=0,p=1$" + salt + "$" + key},
		{"threads 17", "$argon2id$v=19$m=19456,t=2,p=17$" + salt + "$" + key},
		{"order", "$argon2id$v=19$t=2,m=19456,p=1$" + salt + "$" + key},
		{"leading zero", "$argon2id$v=19$m=019456,t=2,p=1$" + salt + "$" + key},
		{"sign", "$argon2id$v=19$m=+19456,t=2,p=1$" + salt + "$" + key},
		{"short salt", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$" + key},
		{"short key", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$a2V5"},
		{"padded", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "==$" + key},
		{"not b64", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$!!!!" + key},
		{"extra field", ok + "$x"},
		{"no leading $", ok[1:]},
	}
	for _, tt := range bad {
		if _, _, _, err := Parse(tt.enc); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Parse got %v, want ErrMalformed", tt.name, err)
		}
		h := NewHasher(testParams, 1)
		if ok, err := h.Verify(context.Background(), tt.enc, []byte("pw")); ok || err == nil {
			t.Errorf("%s: Verify got %v, %v; want false, error", tt.name, ok, err)
		}
	}
}

func TestConcurrencyLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := NewHasher(testParams, 1)
		h.sem <- struct{}{} // occupy the only slot, as a running hash would
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := h.Hash(ctx, []byte("pw"))
			done <- err
		}()
		synctest.Wait()
		select {
		case err := <-done:
			t.Fatalf("Hash returned %v while the only slot was taken, want it to block", err)
		default:
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Hash after cancel: got %v, want context.Canceled", err)
		}
		if _, err := h.Verify(ctx, h.dummy, []byte("pw")); !errors.Is(err, context.Canceled) {
			t.Errorf("Verify with cancelled ctx and no slot: got %v, want context.Canceled", err)
		}
		h.release()
		if _, err := h.Hash(context.Background(), []byte("pw")); err != nil {
			t.Errorf("Hash after release: got %v, want nil", err)
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U")
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := Parse(s)
		if err != nil {
			return
		}
		if p.Memory > maxMemory || p.Time > maxTime || p.Threads > maxThreads {
			t.Fatalf("Parse(%q) accepted absurd params %+v", s, p)
		}
		if got := encode(p, salt, key); got != s {
			t.Fatalf("re-encode: got %q, want %q", got, s)
		}
	})
}
