package e2e

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/mlkem"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"math"
	"sync"

	"github.com/tether-support/tether/internal/ids"
)

// Version is the protocol version carried in the first two bytes of every
// handshake message.
const Version = 1

const (
	versionSize = 2
	x25519Size  = 32
	commitSize  = sha256.Size
	ntSize      = 32
)

// Handshake message sizes in bytes. Every message has exactly this size.
const (
	// ClientHelloSize is the size of the initiator's first message:
	// version | X25519 share | ML-KEM-768 encapsulation key | commitment.
	ClientHelloSize = versionSize + x25519Size + mlkem.EncapsulationKeySize768 + commitSize
	// ServerHelloSize is the size of the responder's message:
	// version | X25519 share | ML-KEM-768 ciphertext | Ed25519 signature.
	ServerHelloSize = versionSize + x25519Size + mlkem.CiphertextSize768 + ed25519.SignatureSize
	// ClientFinishSize is the size of the initiator's last message:
	// version | Nt.
	ClientFinishSize = versionSize + ntSize
)

// Domain-separation labels. Each is used for exactly one purpose.
const (
	labelCommit     = "tether-e2e-v1 commit"
	labelTranscript = "tether-e2e-v1 transcript"
	labelSignature  = "tether-e2e-v1 server signature"
	labelI2R        = "tether-e2e-v1 initiator->responder"
	labelR2I        = "tether-e2e-v1 responder->initiator"
	labelCode       = "tether-e2e-v1 security code"
	labelExporter   = "tether-e2e-v1 exporter"
)

// Handshake errors. Errors returned by the handshake wrap exactly one of
// these; test with errors.Is.
var (
	// ErrMalformed means a handshake message had the wrong size or carried an
	// invalid key share.
	ErrMalformed = errors.New("e2e: malformed handshake message")
	// ErrVersion means a handshake message carried a protocol version other
	// than Version.
	ErrVersion = errors.New("e2e: unsupported protocol version")
	// ErrSignature means the responder's signature did not verify under the
	// expected device key: the peer is not the enrolled device, or the relay
	// tampered with the handshake.
	ErrSignature = errors.New("e2e: device signature verification failed")
	// ErrCommitment means the revealed initiator nonce did not match the
	// commitment sent in the ClientHello.
	ErrCommitment = errors.New("e2e: commitment mismatch")
	// ErrState means a method was called out of order, twice, after a
	// failure, or on a zero value.
	ErrState = errors.New("e2e: call out of order")
	// ErrParams means the caller supplied unusable Params or keys.
	ErrParams = errors.New("e2e: invalid parameters")
)

// Params are the session facts both sides know before the handshake. They
// are bound into the transcript, so the two sides must agree on every field
// byte for byte or the handshake fails.
type Params struct {
	// SessionID is the 128-bit session ID assigned by the relay.
	SessionID [16]byte
	// TechID is the technician's immutable user ID as asserted by the relay.
	TechID ids.UserID
	// TechUser is the technician's username.
	TechUser string
	// DeviceKey is the agent's enrolled Ed25519 device public key. The
	// responder may leave it nil; it is then taken from its private key.
	DeviceKey ed25519.PublicKey
}

// validate checks p and returns a copy that does not alias the caller's key.
func (p Params) validate() (Params, error) {
	if len(p.DeviceKey) != ed25519.PublicKeySize {
		return Params{}, fmt.Errorf("%w: device public key is %d bytes, want %d",
			ErrParams, len(p.DeviceKey), ed25519.PublicKeySize)
	}
	if uint64(len(p.TechID)) > math.MaxUint32 || uint64(len(p.TechUser)) > math.MaxUint32 {
		return Params{}, fmt.Errorf("%w: technician identity too long", ErrParams)
	}
	p.DeviceKey = append(ed25519.PublicKey(nil), p.DeviceKey...)
	return p, nil
}

// Session is the result of a successful handshake. Send and Recv are not
// safe for concurrent use individually, but one goroutine may use Send while
// another uses Recv.
type Session struct {
	// SecurityCode is the 8-digit code ("1234-5678") both users compare out
	// of band. Equal codes mean no one substituted key shares.
	SecurityCode string
	// Send seals frames for the peer.
	Send *Sealer
	// Recv opens frames from the peer.
	Recv *Opener
	// Exporter is a 32-byte secret both sides share and nobody else knows,
	// for proofs bound to this session (such as reusing its consent in
	// another session) and for the keys of further streams (Derive). It is
	// never used as a key of this channel.
	Exporter []byte

	initiator bool     // which side of the handshake this is
	sessionID [16]byte // bound into every derived stream's frames
	dmu       sync.Mutex
	derived   map[string]bool // labels already derived (Derive)
}

// state is the progress of a handshake party. The zero value is unusable.
type state uint8

const (
	stateUnusable state = iota
	stateAwaitHello
	stateAwaitFinish
	stateDone
	stateFailed
)

// checkHeader verifies the version and size of a handshake message.
func checkHeader(msg []byte, size int, name string) error {
	if len(msg) < versionSize {
		return fmt.Errorf("%w: %s is %d bytes, want %d", ErrMalformed, name, len(msg), size)
	}
	if v := binary.BigEndian.Uint16(msg); v != Version {
		return fmt.Errorf("%w: %s has version %d, want %d", ErrVersion, name, v, Version)
	}
	if len(msg) != size {
		return fmt.Errorf("%w: %s is %d bytes, want %d", ErrMalformed, name, len(msg), size)
	}
	return nil
}

// commitment returns SHA-256(labelCommit || nt).
func commitment(nt []byte) [commitSize]byte {
	h := sha256.New()
	h.Write([]byte(labelCommit))
	h.Write(nt)
	var c [commitSize]byte
	h.Sum(c[:0])
	return c
}

// writeField writes a 4-byte big-endian length followed by b.
func writeField(h hash.Hash, b []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(b)))
	h.Write(n[:])
	h.Write(b)
}

// transcript1 returns TH1 over the params, the ClientHello and the
// ServerHello without its signature.
func transcript1(p *Params, clientHello, serverHelloBody []byte) [sha256.Size]byte {
	h := sha256.New()
	writeField(h, []byte(labelTranscript))
	writeField(h, p.SessionID[:])
	writeField(h, []byte(p.TechID))
	writeField(h, []byte(p.TechUser))
	writeField(h, p.DeviceKey)
	h.Write(clientHello)
	h.Write(serverHelloBody)
	var th [sha256.Size]byte
	h.Sum(th[:0])
	return th
}

// signedMessage is what the device key signs: labelSignature || TH1.
func signedMessage(th1 [sha256.Size]byte) []byte {
	return append([]byte(labelSignature), th1[:]...)
}

// transcript2 returns TH2 = SHA-256(TH1 || signature || ClientFinish).
func transcript2(th1 [sha256.Size]byte, sig, clientFinish []byte) [sha256.Size]byte {
	h := sha256.New()
	h.Write(th1[:])
	h.Write(sig)
	h.Write(clientFinish)
	var th [sha256.Size]byte
	h.Sum(th[:0])
	return th
}

// deriveSession runs the key schedule and builds the channel for one side.
// It zeroes secret.
func deriveSession(secret []byte, th2 [sha256.Size]byte, sessionID [16]byte, initiator bool) (*Session, error) {
	defer clear(secret)
	prk, err := hkdf.Extract(sha256.New, secret, th2[:])
	if err != nil {
		return nil, fmt.Errorf("e2e: key schedule: %w", err)
	}
	defer clear(prk)
	i2r, err1 := hkdf.Expand(sha256.New, prk, labelI2R, 32)
	r2i, err2 := hkdf.Expand(sha256.New, prk, labelR2I, 32)
	code, err3 := hkdf.Expand(sha256.New, prk, labelCode, 8)
	exp, err4 := hkdf.Expand(sha256.New, prk, labelExporter, 32)
	defer clear(i2r)
	defer clear(r2i)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return nil, fmt.Errorf("e2e: key schedule: %w", err)
	}
	sendKey, recvKey := r2i, i2r
	if initiator {
		sendKey, recvKey = i2r, r2i
	}
	send, err := newSealer(sendKey, sessionID)
	if err != nil {
		return nil, err
	}
	recv, err := newOpener(recvKey, sessionID)
	if err != nil {
		return nil, err
	}
	return &Session{SecurityCode: formatCode(code), Send: send, Recv: recv, Exporter: exp,
		initiator: initiator, sessionID: sessionID}, nil
}

// formatCode turns 8 key-schedule bytes into "dddd-dddd". Reducing a 64-bit
// value modulo 10^8 has a bias below 2^-37, which is negligible.
func formatCode(b []byte) string {
	v := binary.BigEndian.Uint64(b) % 100_000_000
	return fmt.Sprintf("%04d-%04d", v/10_000, v%10_000)
}
