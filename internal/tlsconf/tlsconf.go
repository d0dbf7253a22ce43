// Package tlsconf holds the relay's TLS identity and the clients' pinning
// of it.
//
// The relay runs with a self-signed certificate (Generate, Load,
// ServerConfig). Clients do not use certificate authorities: they trust the
// relay only by the SHA-256 fingerprint of its public key (ClientConfig),
// learnt on first use or given by the operator (ParseFingerprint).
//
// A rotation replaces the relay's key without anyone re-pinning by hand:
// Rotate puts the next key beside the current one with a RotationFile
// saying when to switch, the relay announces the next pin to clients over
// connections verified against the current one, and clients accept either
// (PinnedConfig with Pins) until they see the next key in use. Promote
// makes the switch, ServerConfigFunc lets a server pick the certificate
// per handshake so that it needs no restart.
package tlsconf

import (
	"crypto/tls"
)

// cipherSuites are the TLS 1.2 suites allowed: ECDHE key exchange with an
// AEAD cipher only. TLS 1.3 suites are not configurable and are all AEAD.
var cipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// curves are the key exchanges offered, hybrid post-quantum first.
var curves = []tls.CurveID{tls.X25519MLKEM768, tls.X25519, tls.CurveP256}

// baseConfig returns the settings shared by servers and clients.
func baseConfig() *tls.Config {
	return &tls.Config{
		MinVersion:       tls.VersionTLS12,
		CipherSuites:     append([]uint16(nil), cipherSuites...),
		CurvePreferences: append([]tls.CurveID(nil), curves...),
		NextProtos:       []string{"http/1.1"},
		// Full-size records from the first byte: dynamic sizing starts
		// every burst after a second of quiet with ~1 KiB records, which
		// helps a browser render early but only costs us records, system
		// calls and wake-ups, since every Tether message is used whole.
		DynamicRecordSizingDisabled: true,
	}
}

// ServerConfig returns the relay's TLS configuration for cert: TLS 1.2 or
// later, ECDHE with AEAD suites only, X25519MLKEM768, X25519 and P-256 key
// exchange, and ALPN "http/1.1". Each call returns a new Config, which the
// caller may change before first use.
func ServerConfig(cert tls.Certificate) *tls.Config {
	c := baseConfig()
	c.Certificates = []tls.Certificate{cert}
	return c
}

// ServerConfigFunc is ServerConfig with the certificate chosen by get at
// each handshake, so that a relay can switch certificates while it serves.
func ServerConfigFunc(get func(*tls.ClientHelloInfo) (*tls.Certificate, error)) *tls.Config {
	c := baseConfig()
	c.GetCertificate = get
	return c
}
