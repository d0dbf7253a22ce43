// Package password hashes and verifies user passwords with argon2id,
// encoded as PHC strings, and bounds how many hashes run at once so that a
// flood of login attempts cannot exhaust memory.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"runtime"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// MaxLength is the longest password accepted, in bytes. Longer passwords are
// rejected by Check before any hashing.
const MaxLength = 1024

// Errors returned by Check.
var (
	// ErrTooLong means the password is longer than MaxLength bytes.
	ErrTooLong = errors.New("password: too long")
	// ErrEmpty means the password is empty.
	ErrEmpty = errors.New("password: empty")
	// ErrNUL means the password contains a NUL byte.
	ErrNUL = errors.New("password: contains a NUL byte")
	// ErrInvalidUTF8 means the password is not valid UTF-8.
	ErrInvalidUTF8 = errors.New("password: not valid UTF-8")
)

// Check rejects passwords that are empty, longer than MaxLength bytes,
// contain a NUL byte or are not valid UTF-8. It is cheap and meant to run
// before any hashing.
func Check(password []byte) error {
	switch {
	case len(password) == 0:
		return ErrEmpty
	case len(password) > MaxLength:
		return fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLong, len(password), MaxLength)
	}
	for _, b := range password {
		if b == 0 {
			return ErrNUL
		}
	}
	if !utf8.Valid(password) {
		return ErrInvalidUTF8
	}
	return nil
}

// Params are the argon2id cost parameters.
type Params struct {
	// Memory is the memory cost in KiB.
	Memory uint32
	// Time is the number of passes over memory.
	Time uint32
	// Threads is the degree of parallelism.
	Threads uint8
	// SaltLen is the salt length in bytes.
	SaltLen uint32
	// KeyLen is the derived key length in bytes.
	KeyLen uint32
}

// DefaultParams are the OWASP minimum for argon2id: 19 MiB, 2 passes,
// 1 thread, a 16-byte salt and a 32-byte key.
var DefaultParams = Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Hasher hashes and verifies passwords, running at most a fixed number of
// argon2id computations at once. It is safe for concurrent use.
type Hasher struct {
	params Params
	sem    chan struct{}
	dummy  string // a hash of a random password, verified for unknown users
}

// NewHasher returns a Hasher that hashes with p and runs at most
// concurrency hashes at once; concurrency <= 0 means 2*GOMAXPROCS.
func NewHasher(p Params, concurrency int) *Hasher {
	if concurrency <= 0 {
		concurrency = 2 * runtime.GOMAXPROCS(0)
	}
	salt := make([]byte, p.SaltLen)
	rand.Read(salt)
	// The dummy stores a random key: DummyVerify never succeeds.
	key := make([]byte, p.KeyLen)
	rand.Read(key)
	return &Hasher{
		params: p,
		sem:    make(chan struct{}, concurrency),
		dummy:  encode(p, salt, key),
	}
}

// acquire waits for a hashing slot or for ctx to be done.
func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("password: waiting for a hashing slot: %w", ctx.Err())
	}
}

func (h *Hasher) release() { <-h.sem }

// Hash returns the PHC encoding of password hashed with a fresh random salt,
// such as "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>". It waits for a
// hashing slot until ctx is done. It runs Check first and returns its error.
func (h *Hasher) Hash(ctx context.Context, password []byte) (string, error) {
	if err := Check(password); err != nil {
		return "", err
	}
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: read salt: %w", err)
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	key := derive(h.params, salt, password)
	return encode(h.params, salt, key), nil
}

// Verify reports whether password matches the PHC-encoded hash. The cost
// parameters come from encoded; absurd ones are rejected with an error. The
// comparison is constant time. It waits for a hashing slot until ctx is done.
// A password longer than MaxLength is rejected with ErrTooLong, unhashed.
func (h *Hasher) Verify(ctx context.Context, encoded string, password []byte) (bool, error) {
	if len(password) > MaxLength {
		return false, ErrTooLong
	}
	p, salt, want, err := Parse(encoded)
	if err != nil {
		return false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	got := derive(p, salt, password)
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// DummyVerify does the same work as Verify against a hash that never
// matches. Call it for unknown users so that timing does not reveal whether
// an account exists.
func (h *Hasher) DummyVerify(ctx context.Context, password []byte) {
	_, _ = h.Verify(ctx, h.dummy, password)
}

func derive(p Params, salt, password []byte) []byte {
	return argon2.IDKey(password, salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}
