package direct

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"
)

// bindLabel starts the input of the binding MAC (e2e labels list).
const bindLabel = "tether-direct-bind-v1\x00"

// BindSize is the size of the binding message each side sends first on the
// data channel.
const BindSize = sha256.Size

// Role is a side of the direct path.
type Role byte

// The two roles: the technician offers, the agent answers.
const (
	Offerer  Role = 'T'
	Answerer Role = 'A'
)

// peerRole is the other side's role.
func (r Role) peer() Role {
	if r == Offerer {
		return Answerer
	}
	return Offerer
}

// Bind is the binding MAC the side in role sends first on the data channel:
// HMAC-SHA256(exporter, "tether-direct-bind-v1\x00" ‖ role ‖ sender's DTLS
// fingerprint ‖ 0x00 ‖ receiver's DTLS fingerprint), the fingerprints in
// their "sha-256 AB:…" form.
func Bind(exporter []byte, role Role, senderFP, receiverFP string) []byte {
	m := hmac.New(sha256.New, exporter)
	m.Write([]byte(bindLabel))
	m.Write([]byte{byte(role)})
	m.Write([]byte(senderFP))
	m.Write([]byte{0})
	m.Write([]byte(receiverFP))
	return m.Sum(nil)
}

// Fingerprint returns the "sha-256 AB:CD:…" form of a DER certificate's
// SHA-256.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return FormatFingerprint(sum[:])
}

// FormatFingerprint writes a SHA-256 digest as "sha-256 AB:CD:…".
func FormatFingerprint(sum []byte) string {
	h := strings.ToUpper(hex.EncodeToString(sum))
	var b strings.Builder
	b.WriteString("sha-256 ")
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}

// equalFP compares two fingerprints in constant time.
func equalFP(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
