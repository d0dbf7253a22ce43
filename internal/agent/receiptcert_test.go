package agent

import (
	"crypto/ed25519"
	"encoding/json"
	"testing"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/trust"
)

func TestCertID(t *testing.T) {
	f := newCertFixture(t)
	d, err := trust.Decode(f.cert)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		raw  []byte
		want string
	}{
		{"no certificate", nil, ""},
		{"undecodable", []byte("junk"), ""},
		{"verified certificate", f.cert, trust.CertID(d).String()},
	} {
		if got := certID(tc.raw); got != tc.want {
			t.Errorf("%s: certID = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestReceiptCarriesCertID(t *testing.T) {
	f := newCertFixture(t)
	d, _ := trust.Decode(f.cert)
	_, key, _ := ed25519.GenerateKey(nil)
	for _, tc := range []struct {
		name string
		raw  []byte
		want string
	}{
		{"without a root", nil, ""},
		{"with a verified certificate", f.cert, trust.CertID(d).String()},
	} {
		s := &deviceSession{key: key, certRaw: tc.raw}
		b, sig := s.receipt([]string{"files"}, true, 0)
		if !ed25519.Verify(key.Public().(ed25519.PublicKey), protocol.ReceiptMessage(b), sig) {
			t.Fatalf("%s: receipt signature does not verify", tc.name)
		}
		var r protocol.ConsentReceipt
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		if r.CertID != tc.want {
			t.Errorf("%s: receipt cert_id = %q, want %q", tc.name, r.CertID, tc.want)
		}
	}
}
