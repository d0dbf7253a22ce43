package audit

import (
	"errors"
	"fmt"
	"time"

	"github.com/tether-support/tether/internal/trust"
)

// countersignLabel is the internal/trust signature label of an
// administrator's countersignature of a signed head.
const countersignLabel = "audit-checkpoint"

// maxCountersignedJSON bounds the JSON of one countersigned checkpoint (two
// ML-DSA-65 sized fields in base64 and small ones).
const maxCountersignedJSON = 16 << 10

// Countersigned is a head of the chain countersigned by an administrator's
// hybrid key (internal/trust): whoever holds the relay's data cannot make
// one. Seq, Hash and Time are the relay's signed head; AdminKey is the
// administrator's public key (trust.PublicKey.Bytes); Ed25519 and MLDSA
// are the two halves of the hybrid signature, label "audit-checkpoint",
// over the same message as the relay's head signature.
type Countersigned struct {
	Seq      uint64    `json:"seq"`
	Hash     []byte    `json:"hash"`
	Time     time.Time `json:"time"`
	AdminKey []byte    `json:"admin_key"`
	Ed25519  []byte    `json:"ed25519"`
	MLDSA    []byte    `json:"mldsa"`
}

// Countersign signs head with an administrator's key. The caller must have
// verified the log up to head first: a countersignature vouches for it.
func Countersign(head *SignedHead, k *trust.PrivateKey) (*Countersigned, error) {
	if err := head.check(); err != nil {
		return nil, err
	}
	sig, err := k.Sign(countersignLabel, head.message(headContext))
	if err != nil {
		return nil, fmt.Errorf("audit: countersign: %w", err)
	}
	return &Countersigned{Seq: head.Seq, Hash: head.Hash, Time: head.Time.UTC(),
		AdminKey: k.Public().Bytes(), Ed25519: sig.Ed25519, MLDSA: sig.MLDSA}, nil
}

// Head returns the point c vouches for, without the relay's signature.
func (c *Countersigned) Head() *SignedHead {
	return &SignedHead{Seq: c.Seq, Hash: c.Hash, Time: c.Time}
}

// Verify checks c's hybrid signature under its own AdminKey and returns
// that key; the caller decides whether it trusts the key.
func (c *Countersigned) Verify() (*trust.PublicKey, error) {
	pub, err := trust.ParsePublicKey(c.AdminKey)
	if err != nil {
		return nil, fmt.Errorf("audit: checkpoint at entry %d: admin key: %w", c.Seq, err)
	}
	sig := trust.Signature{Ed25519: c.Ed25519, MLDSA: c.MLDSA}
	if err := pub.Verify(countersignLabel, c.Head().message(headContext), sig); err != nil {
		return nil, fmt.Errorf("audit: checkpoint at entry %d: %w", c.Seq, err)
	}
	return pub, nil
}

// DecodeCountersigned decodes the JSON of a countersigned checkpoint
// strictly (no unknown fields, no trailing data, a non-zero seq and a
// 32-byte hash). It does not check the signature.
func DecodeCountersigned(b []byte) (*Countersigned, error) {
	if len(b) > maxCountersignedJSON {
		return nil, errors.New("audit: checkpoint: too long")
	}
	var c Countersigned
	if err := decodeStrict(b, &c); err != nil {
		return nil, fmt.Errorf("audit: checkpoint: %w", err)
	}
	if c.Seq == 0 || len(c.Hash) != 32 {
		return nil, errors.New("audit: checkpoint: seq is 0 or hash is not 32 bytes")
	}
	return &c, nil
}
