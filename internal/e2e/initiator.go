package e2e

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/mlkem"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
)

// Initiator is the technician's side of the handshake. Create it with
// NewInitiator, then call Finish once with the responder's ServerHello. The
// zero value is unusable. An Initiator is not safe for concurrent use, and
// after Finish returns (successfully or not) it cannot be used again.
type Initiator struct {
	params      Params
	x25519      *ecdh.PrivateKey
	dk          *mlkem.DecapsulationKey768
	nt          [ntSize]byte
	clientHello []byte
	state       state
}

// NewInitiator starts a handshake for p and returns the Initiator together
// with the ClientHello to send to the responder.
func NewInitiator(p Params) (*Initiator, []byte, error) {
	return newInitiator(p, rand.Reader)
}

// newInitiator is NewInitiator with an explicit randomness source, so tests
// can reproduce a transcript.
func newInitiator(p Params, random io.Reader) (*Initiator, []byte, error) {
	p, err := p.validate()
	if err != nil {
		return nil, nil, err
	}
	var buf [x25519Size + mlkem.SeedSize + ntSize]byte
	defer clear(buf[:])
	if _, err := io.ReadFull(random, buf[:]); err != nil {
		return nil, nil, fmt.Errorf("e2e: reading randomness: %w", err)
	}
	xk, err := ecdh.X25519().NewPrivateKey(buf[:x25519Size])
	if err != nil {
		return nil, nil, fmt.Errorf("e2e: generating x25519 key: %w", err)
	}
	dk, err := mlkem.NewDecapsulationKey768(buf[x25519Size : x25519Size+mlkem.SeedSize])
	if err != nil {
		return nil, nil, fmt.Errorf("e2e: generating ml-kem key: %w", err)
	}
	i := &Initiator{params: p, x25519: xk, dk: dk, state: stateAwaitHello}
	copy(i.nt[:], buf[x25519Size+mlkem.SeedSize:])
	i.clientHello = i.marshalClientHello()
	return i, append([]byte(nil), i.clientHello...), nil
}

func (i *Initiator) marshalClientHello() []byte {
	c := commitment(i.nt[:])
	msg := make([]byte, 0, ClientHelloSize)
	msg = binary.BigEndian.AppendUint16(msg, Version)
	msg = append(msg, i.x25519.PublicKey().Bytes()...)
	msg = append(msg, i.dk.EncapsulationKey().Bytes()...)
	return append(msg, c[:]...)
}

// Finish verifies the responder's ServerHello against the device key in
// Params and, on success, returns the ClientFinish to send to the responder
// and the established Session. The Initiator is spent after Finish returns.
func (i *Initiator) Finish(serverHello []byte) (clientFinish []byte, s *Session, err error) {
	if i == nil || i.state != stateAwaitHello {
		return nil, nil, fmt.Errorf("%w: Initiator.Finish on a spent or unstarted initiator", ErrState)
	}
	i.state = stateFailed
	defer i.forget()
	secret, th1, err := i.processServerHello(serverHello)
	if err != nil {
		return nil, nil, err
	}
	clientFinish = binary.BigEndian.AppendUint16(make([]byte, 0, ClientFinishSize), Version)
	clientFinish = append(clientFinish, i.nt[:]...)
	sig := serverHello[ServerHelloSize-ed25519.SignatureSize:]
	s, err = deriveSession(secret, transcript2(th1, sig, clientFinish), i.params.SessionID, true)
	if err != nil {
		return nil, nil, err
	}
	i.state = stateDone
	return clientFinish, s, nil
}

// processServerHello checks the ServerHello and returns the combined shared
// secret and TH1.
func (i *Initiator) processServerHello(msg []byte) ([]byte, [32]byte, error) {
	if err := checkHeader(msg, ServerHelloSize, "ServerHello"); err != nil {
		return nil, [32]byte{}, err
	}
	body := msg[:ServerHelloSize-ed25519.SignatureSize]
	sig := msg[len(body):]
	th1 := transcript1(&i.params, i.clientHello, body)
	if !ed25519.Verify(i.params.DeviceKey, signedMessage(th1), sig) {
		return nil, [32]byte{}, ErrSignature
	}
	share := body[versionSize : versionSize+x25519Size]
	ct := body[versionSize+x25519Size:]
	kemShared, err := i.dk.Decapsulate(ct)
	if err != nil {
		return nil, [32]byte{}, fmt.Errorf("%w: ml-kem ciphertext", ErrMalformed)
	}
	xShared, err := x25519Shared(i.x25519, share)
	if err != nil {
		return nil, [32]byte{}, err
	}
	return combineSecrets(kemShared, xShared), th1, nil
}

// forget drops the ephemeral secrets once the handshake is over.
func (i *Initiator) forget() {
	i.x25519, i.dk = nil, nil
	clear(i.nt[:])
}

// combineSecrets returns kemShared || xShared in a fresh slice and zeroes
// both inputs.
func combineSecrets(kemShared, xShared []byte) []byte {
	secret := make([]byte, 0, len(kemShared)+len(xShared))
	secret = append(append(secret, kemShared...), xShared...)
	clear(kemShared)
	clear(xShared)
	return secret
}

// x25519Shared computes the X25519 shared secret with the peer's share,
// rejecting low-order shares that give an all-zero result.
func x25519Shared(k *ecdh.PrivateKey, share []byte) ([]byte, error) {
	pub, err := ecdh.X25519().NewPublicKey(share)
	if err != nil {
		return nil, fmt.Errorf("%w: x25519 share", ErrMalformed)
	}
	shared, err := k.ECDH(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: low-order x25519 share", ErrMalformed)
	}
	return shared, nil
}
