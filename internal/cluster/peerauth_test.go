package cluster_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"math/big"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/cluster"
	"github.com/tether-support/tether/internal/tlsconf"
)

// cert makes a self-signed certificate with a fresh key and the given
// subject common name.
func cert(t *testing.T, cn string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	tmpl.Subject.CommonName = cn
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPeerAuthorized(t *testing.T) {
	cur, next := cert(t, "tether relay"), cert(t, "tether relay")
	twin, other := cert(t, "tether relay"), cert(t, "someone")
	pc, pn := tlsconf.Fingerprint(cur), tlsconf.Fingerprint(next)
	state := func(cs ...*x509.Certificate) *tls.ConnectionState { return &tls.ConnectionState{PeerCertificates: cs} }
	for _, tc := range []struct {
		name  string
		cs    *tls.ConnectionState
		pins  []string
		admit bool
	}{
		{"no TLS", nil, []string{pc}, false},
		{"no client certificate", state(), []string{pc}, false},
		{"the current cluster certificate", state(cur), []string{pc, ""}, true},
		{"the next cluster certificate during a rotation", state(next), []string{pc, pn}, true},
		{"the next certificate with no rotation announced", state(next), []string{pc, ""}, false},
		{"same subject, another key", state(twin), []string{pc, pn}, false},
		{"another certificate", state(other), []string{pc, pn}, false},
		{"the cluster certificate behind another leaf", state(other, cur), []string{pc}, false},
		{"no pins at all", state(cur), []string{"", ""}, false},
	} {
		if got := cluster.PeerAuthorized(tc.cs, tc.pins...); got != tc.admit {
			t.Errorf("%s: admitted %v, want %v", tc.name, got, tc.admit)
		}
	}
}
