package totp

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/hotp"
)

// code returns the code for secret at t.
func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := hotp.GenerateCode(secret, uint64(Step(at)))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewSecret(t *testing.T) {
	u, secret, err := NewSecret("alice@clinic.example")
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	q := parsed.Query()
	if parsed.Scheme != "otpauth" || parsed.Host != "totp" || q.Get("issuer") != Issuer || q.Get("secret") != secret {
		t.Errorf("got URL %q, want otpauth://totp with issuer %s and the secret", u, Issuer)
	}
	if !strings.Contains(parsed.Path, "alice@clinic.example") {
		t.Errorf("got path %q, want the account name", parsed.Path)
	}
	if len(secret) != 32 {
		t.Errorf("got secret length %d, want 32 (160 bits base32)", len(secret))
	}
	if _, s2, _ := NewSecret("alice@clinic.example"); s2 == secret {
		t.Error("two secrets are equal")
	}
	if _, _, err := NewSecret(""); !errors.Is(err, ErrNoAccount) {
		t.Errorf("NewSecret(\"\") = %v, want ErrNoAccount", err)
	}
}

// RFC 6238 appendix B, SHA-1, truncated to 6 digits.
func TestValidateKnownAnswers(t *testing.T) {
	const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" // "12345678901234567890"
	tests := []struct {
		unix int64
		want string
	}{
		{59, "287082"},
		{1111111109, "081804"},
		{1111111111, "050471"},
		{1234567890, "005924"},
		{2000000000, "279037"},
	}
	for _, tt := range tests {
		now := time.Unix(tt.unix, 0)
		step, err := Validate(secret, tt.want, now, -1)
		if err != nil || step != tt.unix/30 {
			t.Errorf("Validate(%s at %d) = %d, %v; want step %d", tt.want, tt.unix, step, err, tt.unix/30)
		}
	}
}

func TestValidateSkew(t *testing.T) {
	_, secret, err := NewSecret("bob")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_015, 0) // mid-step
	tests := []struct {
		offset time.Duration
		want   error
	}{
		{0, nil},
		{-30 * time.Second, nil},
		{30 * time.Second, nil},
		{-90 * time.Second, ErrInvalidCode},
		{90 * time.Second, ErrInvalidCode},
	}
	for _, tt := range tests {
		c := code(t, secret, now.Add(tt.offset))
		step, err := Validate(secret, c, now, -1)
		if !errors.Is(err, tt.want) {
			t.Errorf("code from now%+v: got %v, want %v", tt.offset, err, tt.want)
		}
		if err == nil && step != Step(now.Add(tt.offset)) {
			t.Errorf("code from now%+v: got step %d, want %d", tt.offset, step, Step(now.Add(tt.offset)))
		}
	}
}

func TestValidateReplay(t *testing.T) {
	_, secret, err := NewSecret("carol")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	c := code(t, secret, now)
	step, err := Validate(secret, c, now, -1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Validate(secret, c, now, step); !errors.Is(err, ErrReplayed) {
		t.Errorf("same code again: got %v, want ErrReplayed", err)
	}
	older := code(t, secret, now.Add(-30*time.Second))
	if _, err := Validate(secret, older, now, step); !errors.Is(err, ErrReplayed) {
		t.Errorf("older code after newer: got %v, want ErrReplayed", err)
	}
	next := code(t, secret, now.Add(30*time.Second))
	if got, err := Validate(secret, next, now.Add(30*time.Second), step); err != nil || got != step+1 {
		t.Errorf("next step: got %d, %v; want %d", got, err, step+1)
	}
}

func TestValidateMalformed(t *testing.T) {
	_, secret, _ := NewSecret("dave")
	now := time.Unix(1_800_000_000, 0)
	for _, c := range []string{"", "12345", "1234567", "12a456", "１２３４５６", "-12345"} {
		if _, err := Validate(secret, c, now, -1); !errors.Is(err, ErrMalformedCode) {
			t.Errorf("Validate(%q) = %v, want ErrMalformedCode", c, err)
		}
	}
	spaced := code(t, secret, now)
	spaced = spaced[:3] + " " + spaced[3:]
	if _, err := Validate(secret, spaced, now, -1); err != nil {
		t.Errorf("Validate(%q) = %v, want nil", spaced, err)
	}
	if _, err := Validate("not base32!", "123456", now, -1); !errors.Is(err, ErrInvalidSecret) {
		t.Errorf("bad secret: got %v, want ErrInvalidSecret", err)
	}
}
