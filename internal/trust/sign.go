package trust

import (
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
)

// SignatureSize is the encoded hybrid signature: Ed25519 then ML-DSA-65.
const SignatureSize = ed25519.SignatureSize + mldsa65.SignatureSize

// labelPrefix starts every domain-separation label.
const labelPrefix = "tether-trust-v1/"

// Signature is one hybrid signature: both halves must verify.
type Signature struct {
	// Ed25519 is the 64-byte Ed25519 signature.
	Ed25519 []byte
	// MLDSA is the 3309-byte ML-DSA-65 signature.
	MLDSA []byte
}

// Errors a verifier can tell apart.
var (
	// ErrBadEd25519 means the Ed25519 half of a signature does not verify.
	ErrBadEd25519 = errors.New("Ed25519 signature does not verify")
	// ErrBadMLDSA means the ML-DSA-65 half of a signature does not verify.
	ErrBadMLDSA = errors.New("ML-DSA-65 signature does not verify")
)

// Sign signs msg under label (FORMAT.md §3). Ed25519 signs
// "tether-trust-v1/" || label || 0x00 || msg; ML-DSA-65 signs msg with the
// context string "tether-trust-v1/" || label, deterministically.
func (k *PrivateKey) Sign(label string, msg []byte) (Signature, error) {
	ctx, err := labelContext(label)
	if err != nil {
		return Signature{}, err
	}
	ml := make([]byte, mldsa65.SignatureSize)
	if err := mldsa65.SignTo(k.ml, msg, ctx, false, ml); err != nil {
		return Signature{}, fmt.Errorf("ML-DSA-65 sign: %w", err)
	}
	return Signature{Ed25519: ed25519.Sign(k.ed, edMessage(ctx, msg)), MLDSA: ml}, nil
}

// Verify checks sig over msg under label; both halves must verify.
func (p *PublicKey) Verify(label string, msg []byte, sig Signature) error {
	ctx, err := labelContext(label)
	if err != nil {
		return err
	}
	if len(sig.Ed25519) != ed25519.SignatureSize || !ed25519.Verify(p.ed, edMessage(ctx, msg), sig.Ed25519) {
		return ErrBadEd25519
	}
	if len(sig.MLDSA) != mldsa65.SignatureSize || !mldsa65.Verify(p.ml, msg, ctx, sig.MLDSA) {
		return ErrBadMLDSA
	}
	return nil
}

// labelContext is the full context string for label.
func labelContext(label string) ([]byte, error) {
	if label == "" || len(labelPrefix)+len(label) > 255 {
		return nil, fmt.Errorf("signature label %q: must be 1 to %d bytes", label, 255-len(labelPrefix))
	}
	for i := 0; i < len(label); i++ {
		if label[i] < 0x21 || label[i] > 0x7e {
			return nil, fmt.Errorf("signature label %q: only printable ASCII without spaces", label)
		}
	}
	return []byte(labelPrefix + label), nil
}

// edMessage is what the Ed25519 half signs: ctx || 0x00 || msg.
func edMessage(ctx, msg []byte) []byte {
	b := make([]byte, 0, len(ctx)+1+len(msg))
	b = append(b, ctx...)
	b = append(b, 0)
	return append(b, msg...)
}
