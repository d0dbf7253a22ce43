package audit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tether-support/tether/internal/store"
)

// maxPointJSON bounds the JSON of one signed head or checkpoint.
const maxPointJSON = 1 << 10

// SignedHead is a signed (seq, hash, time): the relay's head of the chain
// (Hash is entry Seq's Hash) or its prune checkpoint (Hash is the Prev of
// entry Seq). Sig is the relay's Ed25519 signature over the message
// documented on (*SignedHead).message. Its JSON form is
// {"seq","hash","time","sig"} with hash and sig in standard base64.
type SignedHead struct {
	Seq  uint64    `json:"seq"`
	Hash []byte    `json:"hash"`
	Time time.Time `json:"time"`
	Sig  []byte    `json:"sig"`
}

// VerifyHead checks h's signature as a head of the chain under pub.
func (h *SignedHead) VerifyHead(pub ed25519.PublicKey) error {
	return h.verify(headContext, pub)
}

// VerifyCheckpoint checks h's signature as a prune checkpoint under pub.
func (h *SignedHead) VerifyCheckpoint(pub ed25519.PublicKey) error {
	return h.verify(checkpointContext, pub)
}

func (h *SignedHead) verify(context string, pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, h.message(context), h.Sig) {
		return fmt.Errorf("audit: signature of the signed point at entry %d does not verify", h.Seq)
	}
	return nil
}

// DecodeHead decodes the JSON of a signed head or checkpoint strictly: no
// unknown fields, no trailing data, a non-zero seq, a 32-byte hash and a
// 64-byte signature. It does not check the signature.
func DecodeHead(b []byte) (*SignedHead, error) {
	if len(b) > maxPointJSON {
		return nil, errors.New("audit: signed head: too long")
	}
	var h SignedHead
	if err := decodeStrict(b, &h); err != nil {
		return nil, fmt.Errorf("audit: signed head: %w", err)
	}
	if err := h.check(); err != nil {
		return nil, err
	}
	return &h, nil
}

// check reports whether h's fields have the right shapes.
func (h *SignedHead) check() error {
	switch {
	case h.Seq == 0:
		return errors.New("audit: signed head: seq is 0")
	case len(h.Hash) != sha256.Size:
		return errors.New("audit: signed head: hash is not 32 bytes")
	case len(h.Sig) != ed25519.SignatureSize:
		return errors.New("audit: signed head: signature is not 64 bytes")
	}
	return nil
}

// decodeStrict decodes one JSON value into v, refusing unknown fields and
// trailing data.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("undecodable: %w", err)
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}

// LoadHead returns the signed head stored in db, or nil if there is none.
// It does not check the signature.
func LoadHead(db Store) (*SignedHead, error) { return loadRaw(db, HeadKey) }

// LoadCheckpoint returns the signed prune checkpoint stored in db, or nil
// if the log was never pruned. It does not check the signature.
func LoadCheckpoint(db Store) (*SignedHead, error) { return loadRaw(db, CheckpointKey) }

func loadRaw(db Store, key string) (*SignedHead, error) {
	data, err := db.GetMeta(key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit: load %s: %w", key, err)
	}
	var p SignedHead
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("audit: %s is malformed", key)
	}
	return &p, nil
}

// HeadKey returns the public key that verifies the heads l signs.
func (l *Log) HeadKey() ed25519.PublicKey {
	if len(l.signer) != ed25519.PrivateKeySize {
		return nil
	}
	return l.signer.Public().(ed25519.PublicKey)
}
