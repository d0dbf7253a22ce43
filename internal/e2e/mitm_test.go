package e2e

import (
	"bytes"
	"crypto/mlkem"
	"errors"
	"testing"
)

// TestMITMFakeDeviceKey simulates a relay that terminates both handshakes
// itself, answering the technician with a device key it generated.
func TestMITMFakeDeviceKey(t *testing.T) {
	deviceKey, fakeKey := detDeviceKey(1), detDeviceKey(66)
	p := testParams(deviceKey)

	// Relay <-> agent: the relay plays initiator; this leg succeeds.
	ri, rhello := newDetInitiator(t, p, 10)
	if _, _, _, err := runHandshake(ri, rhello, newDetResponder(p, deviceKey, 11), tamper{}); err != nil {
		t.Fatalf("relay<->agent handshake: %v", err)
	}

	// Technician <-> relay: the relay plays responder with its fake key.
	i, hello := newDetInitiator(t, p, 1)
	fakeParams := p
	fakeParams.DeviceKey = nil
	_, _, _, err := runHandshake(i, hello, newDetResponder(fakeParams, fakeKey, 12), tamper{})
	if !errors.Is(err, ErrSignature) {
		t.Fatalf("technician with fake device key: got %v, want %v", err, ErrSignature)
	}
}

// TestMITMSubstituteShares simulates a relay that forwards the genuine
// device signature but swaps key shares for its own.
func TestMITMSubstituteShares(t *testing.T) {
	deviceKey := detDeviceKey(1)
	p := testParams(deviceKey)
	relay, relayHello := newDetInitiator(t, p, 99) // supplies the relay's shares
	relayX := relayHello[versionSize : versionSize+x25519Size]
	relayEK := relayHello[versionSize+x25519Size : ClientHelloSize-commitSize]
	replace := func(off int, with []byte) func([]byte) []byte {
		return func(b []byte) []byte {
			copy(b[off:], with)
			return b
		}
	}
	tests := []struct {
		name string
		tamp func(clientHello []byte) tamper
	}{
		{"ClientHello x25519", func([]byte) tamper {
			return tamper{clientHello: replace(versionSize, relayX)}
		}},
		{"ClientHello ML-KEM key", func([]byte) tamper {
			return tamper{clientHello: replace(versionSize+x25519Size, relayEK)}
		}},
		{"ServerHello x25519", func([]byte) tamper {
			return tamper{serverHello: replace(versionSize, relay.x25519.PublicKey().Bytes())}
		}},
		// A ciphertext the relay encapsulated to the technician's real
		// key, so the relay would know the ML-KEM secret.
		{"ServerHello ML-KEM ciphertext", func(hello []byte) tamper {
			ek, err := mlkem.NewEncapsulationKey768(hello[versionSize+x25519Size : ClientHelloSize-commitSize])
			if err != nil {
				t.Fatal(err)
			}
			_, ct := ek.Encapsulate()
			return tamper{serverHello: replace(versionSize+x25519Size, ct)}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i, hello := newDetInitiator(t, p, 1)
			_, _, _, err := runHandshake(i, hello, newDetResponder(p, deviceKey, 2), tt.tamp(hello))
			if !errors.Is(err, ErrSignature) {
				t.Errorf("got %v, want %v", err, ErrSignature)
			}
		})
	}
}

// relayWithStolenKey runs a full man-in-the-middle with the device's
// private key: one handshake with the technician (relay as responder) and
// one with the agent (relay as initiator). forwardCommit makes the relay
// reuse the technician's commitment and later forward the technician's Nt.
func relayWithStolenKey(t *testing.T, forwardCommit bool) (tech, techRelay, relayAgent, agent *Session) {
	t.Helper()
	deviceKey := detDeviceKey(1)
	p := testParams(deviceKey)
	i, hello := newDetInitiator(t, p, 1)
	agentSide := newDetResponder(p, deviceKey, 2)
	relayResp := newDetResponder(p, deviceKey, 3) // holds the stolen key
	relayInit, relayHello := newDetInitiator(t, p, 4)
	if forwardCommit {
		// The relay's own initiator code would sign off on the borrowed
		// commitment; model that by updating its transcript too.
		copy(relayHello[ClientHelloSize-commitSize:], hello[ClientHelloSize-commitSize:])
		relayInit.clientHello = relayHello
	}
	relaySH, err := agentSide.Respond(relayHello)
	if err != nil {
		t.Fatalf("agent Respond: %v", err)
	}
	techSH, err := relayResp.Respond(hello)
	if err != nil {
		t.Fatalf("relay Respond: %v", err)
	}
	techCF, tech, err := i.Finish(techSH)
	if err != nil {
		t.Fatalf("technician Finish: %v", err)
	}
	if techRelay, err = relayResp.Finish(techCF); err != nil {
		t.Fatalf("relay Responder.Finish: %v", err)
	}
	if forwardCommit {
		// Now that the technician has revealed Nt, the relay reveals it too.
		copy(relayInit.nt[:], techCF[versionSize:])
	}
	relayCF, relayAgent, err := relayInit.Finish(relaySH)
	if err != nil {
		t.Fatalf("relay Initiator.Finish: %v", err)
	}
	if agent, err = agentSide.Finish(relayCF); err != nil {
		t.Fatalf("agent Finish: %v", err)
	}
	return tech, techRelay, relayAgent, agent
}

// TestMITMStolenDeviceKey shows the last line of defence: even a relay that
// holds the device private key, and so passes the signature check, cannot
// make the two users see the same security code.
func TestMITMStolenDeviceKey(t *testing.T) {
	for _, forward := range []bool{false, true} {
		tech, techRelay, relayAgent, agent := relayWithStolenKey(t, forward)
		if tech.SecurityCode != techRelay.SecurityCode || agent.SecurityCode != relayAgent.SecurityCode {
			t.Fatalf("forward=%v: each leg should agree internally", forward)
		}
		if tech.SecurityCode == agent.SecurityCode {
			t.Errorf("forward=%v: technician and agent both see %q; want different codes",
				forward, tech.SecurityCode)
		}
		// Frames do not cross from one leg to the other either.
		frame, err := tech.Send.Seal(nil, nil, []byte("hello"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := agent.Recv.Open(nil, nil, frame); !errors.Is(err, ErrAuthentication) {
			t.Errorf("forward=%v: agent opened technician's frame: got %v, want %v", forward, err, ErrAuthentication)
		}
	}
}

// TestSignatureCoversServerHello checks that the signature is not
// transferable between transcripts: a genuine ServerHello from another
// session is rejected.
func TestSignatureCoversServerHello(t *testing.T) {
	deviceKey := detDeviceKey(1)
	p := testParams(deviceKey)
	_, otherHello := newDetInitiator(t, p, 5)
	otherSH, err := newDetResponder(p, deviceKey, 6).Respond(otherHello)
	if err != nil {
		t.Fatal(err)
	}
	i, hello := newDetInitiator(t, p, 1)
	if bytes.Equal(hello, otherHello) {
		t.Fatal("different seeds gave the same ClientHello")
	}
	if _, _, err := i.Finish(otherSH); !errors.Is(err, ErrSignature) {
		t.Fatalf("replayed ServerHello: got %v, want %v", err, ErrSignature)
	}
}
