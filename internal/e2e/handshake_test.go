package e2e

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"regexp"
	"testing"
)

var codeRE = regexp.MustCompile(`^[0-9]{4}-[0-9]{4}$`)

func TestMessageSizes(t *testing.T) {
	tests := []struct {
		name      string
		got, want int
	}{
		{"ClientHelloSize", ClientHelloSize, 1250},
		{"ServerHelloSize", ServerHelloSize, 1186},
		{"ClientFinishSize", ClientFinishSize, 34},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, tt.got, tt.want)
		}
	}
}

func TestHandshakeRoundTrip(t *testing.T) {
	key := detDeviceKey(1)
	p := testParams(key)
	i, hello, err := NewInitiator(p)
	if err != nil {
		t.Fatalf("NewInitiator: %v", err)
	}
	is, rs, tr, err := runHandshake(i, hello, NewResponder(p, key), tamper{})
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	for _, m := range []struct {
		name string
		msg  []byte
		size int
	}{
		{"ClientHello", tr.clientHello, ClientHelloSize},
		{"ServerHello", tr.serverHello, ServerHelloSize},
		{"ClientFinish", tr.clientFinish, ClientFinishSize},
	} {
		if len(m.msg) != m.size {
			t.Errorf("%s: got %d bytes, want %d", m.name, len(m.msg), m.size)
		}
		if v := binary.BigEndian.Uint16(m.msg); v != Version {
			t.Errorf("%s: got version %d, want %d", m.name, v, Version)
		}
	}
	if is.SecurityCode != rs.SecurityCode {
		t.Fatalf("security codes differ: initiator %q, responder %q", is.SecurityCode, rs.SecurityCode)
	}
	if !codeRE.MatchString(is.SecurityCode) {
		t.Errorf("security code %q does not match %s", is.SecurityCode, codeRE)
	}
	exchange(t, is, rs, 300)
}

// exchange sends n frames each way and checks they arrive intact.
func exchange(t *testing.T, a, b *Session, n int) {
	t.Helper()
	for k := range n {
		msg := bytes.Repeat([]byte{byte(k)}, k%97)
		aad := []byte{byte(k % 3)}
		for _, dir := range []struct {
			name string
			from *Sealer
			to   *Opener
		}{{"a->b", a.Send, b.Recv}, {"b->a", b.Send, a.Recv}} {
			frame, err := dir.from.Seal(nil, aad, msg)
			if err != nil {
				t.Fatalf("%s frame %d: Seal: %v", dir.name, k, err)
			}
			if got := binary.BigEndian.Uint64(frame); got != uint64(k) {
				t.Fatalf("%s frame %d: got seq %d, want %d", dir.name, k, got, k)
			}
			got, err := dir.to.Open(nil, aad, frame)
			if err != nil {
				t.Fatalf("%s frame %d: Open: %v", dir.name, k, err)
			}
			if !bytes.Equal(got, msg) {
				t.Fatalf("%s frame %d: got %x, want %x", dir.name, k, got, msg)
			}
		}
	}
}

func TestHandshakeDeterministic(t *testing.T) {
	key := detDeviceKey(1)
	p := testParams(key)
	run := func(iseed, rseed uint64) (transcript, string) {
		i, hello := newDetInitiator(t, p, iseed)
		is, rs, tr, err := runHandshake(i, hello, newDetResponder(p, key, rseed), tamper{})
		if err != nil {
			t.Fatalf("handshake(%d, %d): %v", iseed, rseed, err)
		}
		if is.SecurityCode != rs.SecurityCode {
			t.Fatalf("handshake(%d, %d): codes %q and %q differ", iseed, rseed, is.SecurityCode, rs.SecurityCode)
		}
		return tr, is.SecurityCode
	}
	tr1, code1 := run(1, 2)
	tr2, code2 := run(1, 2)
	if !bytes.Equal(tr1.clientHello, tr2.clientHello) || !bytes.Equal(tr1.serverHello, tr2.serverHello) ||
		!bytes.Equal(tr1.clientFinish, tr2.clientFinish) || code1 != code2 {
		t.Errorf("same seeds gave different transcripts (codes %q, %q)", code1, code2)
	}
	for _, seeds := range [][2]uint64{{3, 2}, {1, 4}} {
		_, code := run(seeds[0], seeds[1])
		if code == code1 {
			t.Errorf("seeds %v: got code %q, same as seeds [1 2]", seeds, code)
		}
	}
}

func TestResponderDerivesDeviceKey(t *testing.T) {
	key := detDeviceKey(1)
	p := testParams(key)
	i, hello := newDetInitiator(t, p, 1)
	rp := p
	rp.DeviceKey = nil
	if _, _, _, err := runHandshake(i, hello, newDetResponder(rp, key, 2), tamper{}); err != nil {
		t.Fatalf("handshake with nil responder DeviceKey: got %v, want success", err)
	}
}

// TestParamsBound checks that every Params field is bound into the
// transcript: any disagreement fails the signature check.
func TestParamsBound(t *testing.T) {
	key := detDeviceKey(1)
	tests := []struct {
		name   string
		change func(*Params)
	}{
		{"session ID", func(p *Params) { p.SessionID[3] ^= 1 }},
		{"tech ID", func(p *Params) { p.TechID = "user-0002" }},
		{"tech user", func(p *Params) { p.TechUser = "mallory" }},
		{"field boundary", func(p *Params) { p.TechID, p.TechUser = p.TechID+"a", p.TechUser[1:] }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ip := testParams(key)
			rp := ip
			tt.change(&rp)
			i, hello := newDetInitiator(t, ip, 1)
			_, _, _, err := runHandshake(i, hello, newDetResponder(rp, key, 2), tamper{})
			if !errors.Is(err, ErrSignature) {
				t.Errorf("got %v, want %v", err, ErrSignature)
			}
		})
	}
}

func TestWrongDeviceKey(t *testing.T) {
	key, other := detDeviceKey(1), detDeviceKey(2)
	p := testParams(key)
	i, hello := newDetInitiator(t, p, 1)
	rp := p
	rp.DeviceKey = nil // the impostor signs with its own key
	_, _, _, err := runHandshake(i, hello, newDetResponder(rp, other, 2), tamper{})
	if !errors.Is(err, ErrSignature) {
		t.Fatalf("got %v, want %v", err, ErrSignature)
	}
}

func TestBitFlips(t *testing.T) {
	const (
		chKEM    = versionSize + x25519Size
		chCommit = ClientHelloSize - commitSize
		shCT     = versionSize + x25519Size
		shSig    = ServerHelloSize - ed25519.SignatureSize
	)
	sig := []error{ErrSignature}
	tests := []struct {
		name string
		tamp tamper
		want []error // any of these
	}{
		{"ClientHello version", tamper{clientHello: flip(1)}, []error{ErrVersion}},
		{"ClientHello x25519 first", tamper{clientHello: flip(versionSize)}, sig},
		{"ClientHello x25519 last", tamper{clientHello: flip(chKEM - 1)}, sig},
		{"ClientHello mlkem first", tamper{clientHello: flip(chKEM)}, []error{ErrSignature, ErrMalformed}},
		{"ClientHello mlkem middle", tamper{clientHello: flip(chKEM + 600)}, []error{ErrSignature, ErrMalformed}},
		{"ClientHello mlkem last", tamper{clientHello: flip(chCommit - 1)}, []error{ErrSignature, ErrMalformed}},
		{"ClientHello commit first", tamper{clientHello: flip(chCommit)}, sig},
		{"ClientHello commit last", tamper{clientHello: flip(ClientHelloSize - 1)}, sig},
		{"ServerHello version", tamper{serverHello: flip(0)}, []error{ErrVersion}},
		{"ServerHello x25519", tamper{serverHello: flip(versionSize + 5)}, sig},
		{"ServerHello ciphertext first", tamper{serverHello: flip(shCT)}, sig},
		{"ServerHello ciphertext last", tamper{serverHello: flip(shSig - 1)}, sig},
		{"ServerHello signature R", tamper{serverHello: flip(shSig)}, sig},
		{"ServerHello signature S", tamper{serverHello: flip(ServerHelloSize - 1)}, sig},
		{"ClientFinish version", tamper{clientFinish: flip(1)}, []error{ErrVersion}},
		{"ClientFinish nonce first", tamper{clientFinish: flip(versionSize)}, []error{ErrCommitment}},
		{"ClientFinish nonce last", tamper{clientFinish: flip(ClientFinishSize - 1)}, []error{ErrCommitment}},
	}
	key := detDeviceKey(1)
	p := testParams(key)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i, hello := newDetInitiator(t, p, 1)
			_, _, _, err := runHandshake(i, hello, newDetResponder(p, key, 2), tt.tamp)
			if !isAny(err, tt.want) {
				t.Errorf("got %v, want one of %v", err, tt.want)
			}
		})
	}
}

func isAny(err error, targets []error) bool {
	for _, target := range targets {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

func TestMessageSizeAndVersion(t *testing.T) {
	resize := func(n int) func([]byte) []byte {
		return func(b []byte) []byte {
			if n <= len(b) {
				return b[:n]
			}
			return append(b, make([]byte, n-len(b))...)
		}
	}
	version := func(v uint16) func([]byte) []byte {
		return func(b []byte) []byte {
			binary.BigEndian.PutUint16(b, v)
			return b
		}
	}
	tests := []struct {
		name string
		tamp tamper
		want error
	}{
		{"ClientHello empty", tamper{clientHello: resize(0)}, ErrMalformed},
		{"ClientHello one byte", tamper{clientHello: resize(1)}, ErrMalformed},
		{"ClientHello truncated", tamper{clientHello: resize(ClientHelloSize - 1)}, ErrMalformed},
		{"ClientHello oversized", tamper{clientHello: resize(ClientHelloSize + 1)}, ErrMalformed},
		{"ClientHello version 0", tamper{clientHello: version(0)}, ErrVersion},
		{"ClientHello version 2", tamper{clientHello: version(2)}, ErrVersion},
		{"ServerHello empty", tamper{serverHello: resize(0)}, ErrMalformed},
		{"ServerHello truncated", tamper{serverHello: resize(ServerHelloSize - 1)}, ErrMalformed},
		{"ServerHello oversized", tamper{serverHello: resize(ServerHelloSize + 64)}, ErrMalformed},
		{"ServerHello version 2", tamper{serverHello: version(2)}, ErrVersion},
		{"ClientFinish empty", tamper{clientFinish: resize(0)}, ErrMalformed},
		{"ClientFinish truncated", tamper{clientFinish: resize(ClientFinishSize - 1)}, ErrMalformed},
		{"ClientFinish oversized", tamper{clientFinish: resize(ClientFinishSize + 1)}, ErrMalformed},
		{"ClientFinish version 0xffff", tamper{clientFinish: version(0xffff)}, ErrVersion},
	}
	key := detDeviceKey(1)
	p := testParams(key)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i, hello := newDetInitiator(t, p, 1)
			_, _, _, err := runHandshake(i, hello, newDetResponder(p, key, 2), tt.tamp)
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestCommitmentMismatch(t *testing.T) {
	key := detDeviceKey(1)
	p := testParams(key)
	i, hello := newDetInitiator(t, p, 1)
	// A ClientFinish from a different initiator is well formed but reveals
	// the wrong nonce.
	i2, _ := newDetInitiator(t, p, 9)
	wrong := binary.BigEndian.AppendUint16(nil, Version)
	wrong = append(wrong, i2.nt[:]...)
	_, _, _, err := runHandshake(i, hello, newDetResponder(p, key, 2),
		tamper{clientFinish: func([]byte) []byte { return wrong }})
	if !errors.Is(err, ErrCommitment) {
		t.Fatalf("got %v, want %v", err, ErrCommitment)
	}
}

func TestLowOrderX25519(t *testing.T) {
	key := detDeviceKey(1)
	p := testParams(key)
	t.Run("ClientHello", func(t *testing.T) {
		_, hello := newDetInitiator(t, p, 1)
		clear(hello[versionSize : versionSize+x25519Size])
		_, err := newDetResponder(p, key, 2).Respond(hello)
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("got %v, want %v", err, ErrMalformed)
		}
	})
	t.Run("ServerHello", func(t *testing.T) {
		// Even a correctly signed ServerHello with a low-order share is
		// rejected.
		i, hello := newDetInitiator(t, p, 1)
		sh, err := newDetResponder(p, key, 2).Respond(hello)
		if err != nil {
			t.Fatal(err)
		}
		body := sh[:ServerHelloSize-ed25519.SignatureSize]
		clear(body[versionSize : versionSize+x25519Size])
		sig := ed25519.Sign(key, signedMessage(transcript1(&i.params, hello, body)))
		_, _, err = i.Finish(append(body, sig...))
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("got %v, want %v", err, ErrMalformed)
		}
	})
}

func TestMalformedMLKEMKey(t *testing.T) {
	key := detDeviceKey(1)
	p := testParams(key)
	_, hello := newDetInitiator(t, p, 1)
	for k := versionSize + x25519Size; k < ClientHelloSize-commitSize; k++ {
		hello[k] = 0xff // coefficients >= q are not a valid encoding
	}
	_, err := newDetResponder(p, key, 2).Respond(hello)
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("got %v, want %v", err, ErrMalformed)
	}
}

func TestOutOfOrderCalls(t *testing.T) {
	key := detDeviceKey(1)
	p := testParams(key)
	i, hello := newDetInitiator(t, p, 1)
	r := newDetResponder(p, key, 2)
	if _, err := r.Finish(make([]byte, ClientFinishSize)); !errors.Is(err, ErrState) {
		t.Errorf("Responder.Finish before Respond: got %v, want %v", err, ErrState)
	}
	// The failed call above spent r; use a fresh one.
	r = newDetResponder(p, key, 2)
	sh, err := r.Respond(hello)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Respond(hello); !errors.Is(err, ErrState) {
		t.Errorf("second Respond: got %v, want %v", err, ErrState)
	}
	cf, _, err := i.Finish(sh)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := i.Finish(sh); !errors.Is(err, ErrState) {
		t.Errorf("second Initiator.Finish: got %v, want %v", err, ErrState)
	}
	if _, err := r.Finish(cf); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Finish(cf); !errors.Is(err, ErrState) {
		t.Errorf("second Responder.Finish: got %v, want %v", err, ErrState)
	}
}

func TestFailedHandshakeIsSpent(t *testing.T) {
	key := detDeviceKey(1)
	p := testParams(key)
	i, hello := newDetInitiator(t, p, 1)
	r := newDetResponder(p, key, 2)
	sh, err := r.Respond(hello)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := i.Finish(sh[:10]); !errors.Is(err, ErrMalformed) {
		t.Fatalf("Finish(truncated): got %v, want %v", err, ErrMalformed)
	}
	if _, _, err := i.Finish(sh); !errors.Is(err, ErrState) {
		t.Errorf("Finish after failure: got %v, want %v", err, ErrState)
	}
	if _, err := r.Finish(nil); !errors.Is(err, ErrMalformed) {
		t.Fatalf("Responder.Finish(nil): got %v, want %v", err, ErrMalformed)
	}
	if _, err := r.Finish(make([]byte, ClientFinishSize)); !errors.Is(err, ErrState) {
		t.Errorf("Responder.Finish after failure: got %v, want %v", err, ErrState)
	}
}

func TestZeroValues(t *testing.T) {
	var i *Initiator
	if _, _, err := i.Finish(nil); !errors.Is(err, ErrState) {
		t.Errorf("nil Initiator: got %v, want %v", err, ErrState)
	}
	if _, _, err := new(Initiator).Finish(nil); !errors.Is(err, ErrState) {
		t.Errorf("zero Initiator: got %v, want %v", err, ErrState)
	}
	var r *Responder
	if _, err := r.Respond(nil); !errors.Is(err, ErrState) {
		t.Errorf("nil Responder: got %v, want %v", err, ErrState)
	}
	if _, err := new(Responder).Respond(nil); !errors.Is(err, ErrState) {
		t.Errorf("zero Responder Respond: got %v, want %v", err, ErrState)
	}
	if _, err := new(Responder).Finish(nil); !errors.Is(err, ErrState) {
		t.Errorf("zero Responder Finish: got %v, want %v", err, ErrState)
	}
}

func TestInvalidParams(t *testing.T) {
	key := detDeviceKey(1)
	p := testParams(key)
	short := p
	short.DeviceKey = p.DeviceKey[:31]
	if _, _, err := NewInitiator(short); !errors.Is(err, ErrParams) {
		t.Errorf("NewInitiator with 31-byte key: got %v, want %v", err, ErrParams)
	}
	_, hello := newDetInitiator(t, p, 1)
	tests := []struct {
		name string
		p    Params
		key  ed25519.PrivateKey
	}{
		{"short private key", p, key[:40]},
		{"nil private key", p, nil},
		{"mismatched public key", p, detDeviceKey(2)},
		{"short public key", short, key},
	}
	for _, tt := range tests {
		_, err := NewResponder(tt.p, tt.key).Respond(hello)
		if !errors.Is(err, ErrParams) {
			t.Errorf("%s: got %v, want %v", tt.name, err, ErrParams)
		}
	}
}

func TestParamsNotAliased(t *testing.T) {
	key := detDeviceKey(1)
	p := testParams(key)
	p.DeviceKey = append(ed25519.PublicKey(nil), p.DeviceKey...)
	i, hello := newDetInitiator(t, p, 1)
	p.DeviceKey[0] ^= 1 // caller reuses its buffer after starting
	_, _, _, err := runHandshake(i, hello, newDetResponder(testParams(key), key, 2), tamper{})
	if err != nil {
		t.Fatalf("handshake after caller mutated its key buffer: %v", err)
	}
}

func TestFormatCode(t *testing.T) {
	tests := []struct {
		in   uint64
		want string
	}{
		{0, "0000-0000"},
		{12345678, "1234-5678"},
		{99999999, "9999-9999"},
		{100000000, "0000-0000"},
		{100000042, "0000-0042"},
		{^uint64(0), "0955-1615"}, // 18446744073709551615 mod 10^8
	}
	for _, tt := range tests {
		b := binary.BigEndian.AppendUint64(nil, tt.in)
		if got := formatCode(b); got != tt.want {
			t.Errorf("formatCode(%d): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRandomnessFailure(t *testing.T) {
	key := detDeviceKey(1)
	p := testParams(key)
	short := func() *bytes.Reader { return bytes.NewReader(make([]byte, 16)) }
	if i, hello, err := newInitiator(p, short()); err == nil || i != nil || hello != nil {
		t.Errorf("newInitiator with exhausted randomness: got (%v, %d bytes, %v), want an error", i, len(hello), err)
	}
	_, hello := newDetInitiator(t, p, 1)
	r := newResponder(p, key, short(), encapsulate)
	if sh, err := r.Respond(hello); err == nil || sh != nil {
		t.Errorf("Respond with exhausted randomness: got (%d bytes, %v), want an error", len(sh), err)
	}
}
