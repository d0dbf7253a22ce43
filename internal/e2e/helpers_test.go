package e2e

import (
	"crypto/ed25519"
	"crypto/mlkem"
	"crypto/mlkem/mlkemtest"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
)

// detReader returns a deterministic randomness source for reproducible
// transcripts. It is for tests only.
func detReader(seed uint64) io.Reader {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	return rand.NewChaCha8(s)
}

// detDeviceKey returns a fixed device key derived from seed.
func detDeviceKey(seed byte) ed25519.PrivateKey {
	var s [ed25519.SeedSize]byte
	for i := range s {
		s[i] = seed + byte(i)
	}
	return ed25519.NewKeyFromSeed(s[:])
}

// testParams returns Params for the device key.
func testParams(key ed25519.PrivateKey) Params {
	return Params{
		SessionID: [16]byte{0: 0x5e, 15: 0x55},
		TechID:    "user-0001",
		TechUser:  "alice",
		DeviceKey: key.Public().(ed25519.PublicKey),
	}
}

// newDetInitiator is a reproducible NewInitiator.
func newDetInitiator(tb testing.TB, p Params, seed uint64) (*Initiator, []byte) {
	tb.Helper()
	i, hello, err := newInitiator(p, detReader(seed))
	if err != nil {
		tb.Fatalf("newInitiator: %v", err)
	}
	return i, hello
}

// newDetResponder is a reproducible NewResponder: both its X25519 key and
// its ML-KEM encapsulation randomness come from seed.
func newDetResponder(p Params, key ed25519.PrivateKey, seed uint64) *Responder {
	random := detReader(seed)
	encaps := func(ek *mlkem.EncapsulationKey768) ([]byte, []byte, error) {
		var m [32]byte
		if _, err := io.ReadFull(random, m[:]); err != nil {
			return nil, nil, err
		}
		return mlkemtest.Encapsulate768(ek, m[:])
	}
	return newResponder(p, key, random, encaps)
}

// transcript holds the three messages of one handshake.
type transcript struct {
	clientHello, serverHello, clientFinish []byte
}

// tamper edits handshake messages in flight; nil fields leave them alone.
type tamper struct {
	clientHello, serverHello, clientFinish func([]byte) []byte
}

func apply(f func([]byte) []byte, msg []byte) []byte {
	if f == nil {
		return msg
	}
	return f(append([]byte(nil), msg...))
}

// runHandshake runs i and r against each other through t and returns both
// sessions, the messages as sent, and the first error.
func runHandshake(i *Initiator, hello []byte, r *Responder, t tamper) (is, rs *Session, tr transcript, err error) {
	tr.clientHello = hello
	sh, err := r.Respond(apply(t.clientHello, hello))
	if err != nil {
		return nil, nil, tr, fmt.Errorf("Respond: %w", err)
	}
	tr.serverHello = sh
	cf, is, err := i.Finish(apply(t.serverHello, sh))
	if err != nil {
		return nil, nil, tr, fmt.Errorf("Initiator.Finish: %w", err)
	}
	tr.clientFinish = cf
	rs, err = r.Finish(apply(t.clientFinish, cf))
	if err != nil {
		return nil, nil, tr, fmt.Errorf("Responder.Finish: %w", err)
	}
	return is, rs, tr, nil
}

// handshake runs a clean random handshake and fails the test on error.
func handshake(tb testing.TB) (initiator, responder *Session) {
	tb.Helper()
	key := detDeviceKey(1)
	p := testParams(key)
	i, hello, err := NewInitiator(p)
	if err != nil {
		tb.Fatalf("NewInitiator: %v", err)
	}
	is, rs, _, err := runHandshake(i, hello, NewResponder(p, key), tamper{})
	if err != nil {
		tb.Fatalf("handshake: %v", err)
	}
	return is, rs
}

// isProtocolError reports whether err wraps one of the package's handshake
// sentinels.
func isProtocolError(err error) bool {
	for _, target := range []error{ErrMalformed, ErrVersion, ErrSignature, ErrCommitment, ErrState, ErrParams} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// flip returns a tamper function that flips one bit at byte pos.
func flip(pos int) func([]byte) []byte {
	return func(b []byte) []byte {
		b[pos] ^= 0x01
		return b
	}
}
