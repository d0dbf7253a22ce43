package cluster

import (
	"crypto/subtle"
	"crypto/tls"

	"github.com/tether-support/tether/internal/tlsconf"
)

// PeerAuthorized reports whether a connection's client presented the
// cluster certificate: a leaf whose key's fingerprint is one of pins (the
// relay's current pin and, during a rotation, its next one; empty ones are
// skipped). The TLS handshake has proved the client holds the key's
// private half. The comparison is constant-time.
func PeerAuthorized(cs *tls.ConnectionState, pins ...string) bool {
	if cs == nil || len(cs.PeerCertificates) == 0 {
		return false
	}
	got := []byte(tlsconf.Fingerprint(cs.PeerCertificates[0]))
	ok := 0
	for _, p := range pins {
		if p != "" {
			ok |= subtle.ConstantTimeCompare(got, []byte(p))
		}
	}
	return ok == 1
}
