package e2e

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/mlkem"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"io"
)

// Responder is the agent's side of the handshake. Create it with
// NewResponder, call Respond with the ClientHello, then Finish with the
// ClientFinish. The zero value is unusable. A Responder is not safe for
// concurrent use; after any error, or after Finish, it cannot be used again.
type Responder struct {
	params Params
	key    ed25519.PrivateKey
	random io.Reader
	// encapsulate is mlkem's Encapsulate; tests replace it to derandomize.
	encapsulate func(*mlkem.EncapsulationKey768) (shared, ct []byte, err error)

	state  state
	commit [commitSize]byte
	secret []byte
	th1    [sha256.Size]byte
	sig    [ed25519.SignatureSize]byte
}

// NewResponder returns a Responder for p that signs with the device's
// private key. If p.DeviceKey is nil it is taken from deviceKey; otherwise it
// must be deviceKey's public half. Problems with p or deviceKey are reported
// by Respond.
func NewResponder(p Params, deviceKey ed25519.PrivateKey) *Responder {
	return newResponder(p, deviceKey, rand.Reader, encapsulate)
}

func encapsulate(ek *mlkem.EncapsulationKey768) ([]byte, []byte, error) {
	shared, ct := ek.Encapsulate()
	return shared, ct, nil
}

func newResponder(p Params, key ed25519.PrivateKey, random io.Reader,
	encaps func(*mlkem.EncapsulationKey768) ([]byte, []byte, error)) *Responder {
	return &Responder{
		params:      p,
		key:         key,
		random:      random,
		encapsulate: encaps,
		state:       stateAwaitHello,
	}
}

// Respond processes the initiator's ClientHello and returns the ServerHello
// to send back.
func (r *Responder) Respond(clientHello []byte) (serverHello []byte, err error) {
	if r == nil || r.state != stateAwaitHello {
		return nil, fmt.Errorf("%w: Responder.Respond called twice, after a failure, or on a zero Responder", ErrState)
	}
	r.state = stateFailed
	if err := r.checkKey(); err != nil {
		return nil, err
	}
	if err := checkHeader(clientHello, ClientHelloSize, "ClientHello"); err != nil {
		return nil, err
	}
	body, err := r.keyExchange(clientHello)
	if err != nil {
		return nil, err
	}
	copy(r.commit[:], clientHello[ClientHelloSize-commitSize:])
	r.th1 = transcript1(&r.params, clientHello, body)
	copy(r.sig[:], ed25519.Sign(r.key, signedMessage(r.th1)))
	r.state = stateAwaitFinish
	return append(body, r.sig[:]...), nil
}

// checkKey validates the private key and reconciles it with Params.
func (r *Responder) checkKey() error {
	if len(r.key) != ed25519.PrivateKeySize {
		return fmt.Errorf("%w: device private key is %d bytes, want %d",
			ErrParams, len(r.key), ed25519.PrivateKeySize)
	}
	pub := r.key.Public().(ed25519.PublicKey)
	if r.params.DeviceKey == nil {
		r.params.DeviceKey = pub
	} else if !bytes.Equal(r.params.DeviceKey, pub) {
		return fmt.Errorf("%w: Params.DeviceKey does not match the device private key", ErrParams)
	}
	p, err := r.params.validate()
	r.params = p
	return err
}

// keyExchange runs X25519 and ML-KEM against the ClientHello's shares,
// stores the combined secret and returns the unsigned ServerHello.
func (r *Responder) keyExchange(clientHello []byte) ([]byte, error) {
	peerShare := clientHello[versionSize : versionSize+x25519Size]
	ekBytes := clientHello[versionSize+x25519Size : ClientHelloSize-commitSize]
	ek, err := mlkem.NewEncapsulationKey768(ekBytes)
	if err != nil {
		return nil, fmt.Errorf("%w: ml-kem encapsulation key", ErrMalformed)
	}
	var seed [x25519Size]byte
	defer clear(seed[:])
	if _, err := io.ReadFull(r.random, seed[:]); err != nil {
		return nil, fmt.Errorf("e2e: reading randomness: %w", err)
	}
	xk, err := ecdh.X25519().NewPrivateKey(seed[:])
	if err != nil {
		return nil, fmt.Errorf("e2e: generating x25519 key: %w", err)
	}
	xShared, err := x25519Shared(xk, peerShare)
	if err != nil {
		return nil, err
	}
	kemShared, ct, err := r.encapsulate(ek)
	if err != nil {
		return nil, fmt.Errorf("e2e: ml-kem encapsulation: %w", err)
	}
	r.secret = combineSecrets(kemShared, xShared)
	body := make([]byte, 0, ServerHelloSize)
	body = binary.BigEndian.AppendUint16(body, Version)
	body = append(body, xk.PublicKey().Bytes()...)
	return append(body, ct...), nil
}

// Finish checks the initiator's ClientFinish against the commitment in the
// ClientHello and returns the established Session.
func (r *Responder) Finish(clientFinish []byte) (*Session, error) {
	if r == nil || r.state != stateAwaitFinish {
		return nil, fmt.Errorf("%w: Responder.Finish before Respond, twice, or after a failure", ErrState)
	}
	r.state = stateFailed
	secret := r.secret
	r.secret = nil
	defer clear(secret)
	if err := checkHeader(clientFinish, ClientFinishSize, "ClientFinish"); err != nil {
		return nil, err
	}
	got := commitment(clientFinish[versionSize:])
	if subtle.ConstantTimeCompare(got[:], r.commit[:]) != 1 {
		return nil, ErrCommitment
	}
	s, err := deriveSession(secret, transcript2(r.th1, r.sig[:], clientFinish), r.params.SessionID, false)
	if err != nil {
		return nil, err
	}
	r.state = stateDone
	return s, nil
}
