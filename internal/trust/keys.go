package trust

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
)

// Sizes of the canonical encodings (FORMAT.md §2).
const (
	// AlgHybrid1 names the only algorithm suite: Ed25519 + ML-DSA-65.
	AlgHybrid1 = 0x01
	// PublicKeySize is the encoded public key: suite byte, Ed25519, ML-DSA-65.
	PublicKeySize = 1 + ed25519.PublicKeySize + mldsa65.PublicKeySize
	// SeedSize is the private key's seed: 32 bytes per algorithm.
	SeedSize = ed25519.SeedSize + mldsa65.SeedSize
	// KeyIDSize is the length of a key ID, a SHA-256 digest.
	KeyIDSize = sha256.Size
)

// KeyID names a public key: SHA-256 over its canonical encoding.
type KeyID [KeyIDSize]byte

// String is the key ID in lower-case hex.
func (id KeyID) String() string { return hex.EncodeToString(id[:]) }

// PublicKey is a hybrid public key; a signature verifies only when both
// halves do.
type PublicKey struct {
	ed ed25519.PublicKey
	ml *mldsa65.PublicKey
	id KeyID
}

// newPublicKey assembles a public key and computes its ID once.
func newPublicKey(ed ed25519.PublicKey, ml *mldsa65.PublicKey) *PublicKey {
	p := &PublicKey{ed: ed, ml: ml}
	p.id = sha256.Sum256(p.Bytes())
	return p
}

// PrivateKey is a hybrid private key, kept as the two algorithms' seeds.
type PrivateKey struct {
	seed [SeedSize]byte
	ed   ed25519.PrivateKey
	ml   *mldsa65.PrivateKey
	pub  *PublicKey
}

// GenerateKey makes a new hybrid key pair from rand (crypto/rand when nil).
func GenerateKey(rnd io.Reader) (*PrivateKey, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	var seed [SeedSize]byte
	if _, err := io.ReadFull(rnd, seed[:]); err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	return NewKeyFromSeed(seed), nil
}

// NewKeyFromSeed derives the key pair deterministically: the first 32
// bytes are the Ed25519 seed, the last 32 the ML-DSA-65 seed ξ.
func NewKeyFromSeed(seed [SeedSize]byte) *PrivateKey {
	edPriv := ed25519.NewKeyFromSeed(seed[:ed25519.SeedSize])
	var mlSeed [mldsa65.SeedSize]byte
	copy(mlSeed[:], seed[ed25519.SeedSize:])
	mlPub, mlPriv := mldsa65.NewKeyFromSeed(&mlSeed)
	return &PrivateKey{
		seed: seed,
		ed:   edPriv,
		ml:   mlPriv,
		pub:  newPublicKey(edPriv.Public().(ed25519.PublicKey), mlPub),
	}
}

// Public is the key pair's public half.
func (k *PrivateKey) Public() *PublicKey { return k.pub }

// Seed is a copy of the 64-byte seed the key pair derives from; it is the
// whole secret.
func (k *PrivateKey) Seed() [SeedSize]byte { return k.seed }

// Bytes is the canonical encoding: AlgHybrid1, then the 32-byte Ed25519
// key, then the 1952-byte ML-DSA-65 key.
func (p *PublicKey) Bytes() []byte {
	b := make([]byte, 0, PublicKeySize)
	b = append(b, AlgHybrid1)
	b = append(b, p.ed...)
	return append(b, p.ml.Bytes()...)
}

// ID is SHA-256 over Bytes.
func (p *PublicKey) ID() KeyID { return p.id }

// Equal reports whether p and q are the same key.
func (p *PublicKey) Equal(q *PublicKey) bool { return q != nil && p.ID() == q.ID() }

// ParsePublicKey decodes a canonical public key encoding.
func ParsePublicKey(b []byte) (*PublicKey, error) {
	if len(b) != PublicKeySize {
		return nil, fmt.Errorf("public key: %d bytes, want %d", len(b), PublicKeySize)
	}
	if b[0] != AlgHybrid1 {
		return nil, fmt.Errorf("public key: unknown algorithm suite %#x", b[0])
	}
	ml := new(mldsa65.PublicKey)
	if err := ml.UnmarshalBinary(b[1+ed25519.PublicKeySize:]); err != nil {
		return nil, fmt.Errorf("public key: ML-DSA-65 half: %w", err)
	}
	p := newPublicKey(ed25519.PublicKey(append([]byte(nil), b[1:1+ed25519.PublicKeySize]...)), ml)
	if !equalBytes(p.Bytes(), b) {
		return nil, fmt.Errorf("public key: ML-DSA-65 half is not canonically encoded")
	}
	return p, nil
}

func equalBytes(a, b []byte) bool { return string(a) == string(b) }
