package broker

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/protocol"
)

// signedConsent is a consent message as an agent holding key sends it.
func signedConsent(t *testing.T, key ed25519.PrivateKey, r protocol.ConsentReceipt) *protocol.Control {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return &protocol.Control{Type: protocol.CtlConsent, Granted: r.Granted, Caps: r.Caps, Receipt: b,
		ReceiptSig: ed25519.Sign(key, protocol.ReceiptMessage(b))}
}

// TestReceiptStatus runs sequences of consent messages through one
// session's check: only the device's own receipts for this session, device
// and technician, matching the answer and not replayed, are "verified".
func TestReceiptStatus(t *testing.T) {
	t.Parallel()
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	info := protocol.SessionInfo{ID: "00112233445566778899aabbccddeeff", DeviceID: "d_one", TechID: "u_tech", DeviceKey: pub}
	good := func(rev int) protocol.ConsentReceipt {
		return protocol.ConsentReceipt{Session: info.ID, Device: info.DeviceID, Tech: info.TechID, Caps: []string{"shell"},
			Granted: true, Time: time.Now(), Revision: rev}
	}
	with := func(rev int, f func(*protocol.ConsentReceipt)) *protocol.Control {
		r := good(rev)
		f(&r)
		return signedConsent(t, key, r)
	}
	type step struct {
		m    *protocol.Control
		want string
	}
	first := signedConsent(t, key, good(0))
	tampered := signedConsent(t, key, good(0))
	tampered.Receipt = append([]byte(nil), tampered.Receipt...)
	tampered.Receipt[len(tampered.Receipt)-2] ^= 1
	mismatch := signedConsent(t, key, good(0))
	mismatch.Caps = []string{"shell", "files"}
	cases := []struct {
		name  string
		steps []step
	}{
		{"first and later revisions", []step{{first, "verified"}, {signedConsent(t, key, good(1)), "verified"}, {signedConsent(t, key, good(5)), "verified"}}},
		{"missing", []step{{&protocol.Control{Type: protocol.CtlConsent, Granted: true}, "missing"}}},
		{"another session", []step{{with(0, func(r *protocol.ConsentReceipt) { r.Session = "ffeeddccbbaa99887766554433221100" }), "for another session"}}},
		{"another device ID", []step{{with(0, func(r *protocol.ConsentReceipt) { r.Device = "d_two" }), "for another device"}}},
		{"another device key", []step{{signedConsent(t, otherKey, good(0)), "bad signature"}}},
		{"another technician", []step{{with(0, func(r *protocol.ConsentReceipt) { r.Tech = "u_other" }), "for another technician"}}},
		{"tampered", []step{{tampered, "bad signature"}}},
		{"not the answer sent", []step{{mismatch, "does not match the answer"}}},
		{"not JSON", []step{{func() *protocol.Control {
			b := []byte("not json")
			return &protocol.Control{Type: protocol.CtlConsent, Receipt: b, ReceiptSig: ed25519.Sign(key, protocol.ReceiptMessage(b))}
		}(), "malformed"}}},
		{"replayed", []step{{first, "verified"}, {first, "replayed (revision 0, expected at least 1)"}}},
		{"replayed older", []step{{first, "verified"}, {signedConsent(t, key, good(1)), "verified"}, {first, "replayed (revision 0, expected at least 2)"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := &Session{Info: info}
			for i, s := range tc.steps {
				if got := receiptStatus(l, s.m); got != s.want {
					t.Errorf("step %d: got %q, want %q", i, got, s.want)
				}
			}
		})
	}
}
