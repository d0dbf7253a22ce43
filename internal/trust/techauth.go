package trust

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"
)

// TechAuthLabel is the signature label of a technician's session proof.
const TechAuthLabel = "tech-auth"

// techAuthContext starts every session proof's message.
const techAuthContext = "tether-tech-auth-v1"

// TechAuthMessage is what a technician's key signs to bind its
// certificate to one end-to-end session (FORMAT.md §8): SHA-256 over the
// context string, then the session's exporter, the session ID and the
// certificate's ID, each prefixed with its length as a uint16. Only the two
// ends of the session know the exporter, so a relay can neither make the
// proof nor replay it into another session.
func TechAuthMessage(exporter, sessionID []byte, cert KeyID) []byte {
	h := sha256.New()
	for _, part := range [][]byte{[]byte(techAuthContext), exporter, sessionID, cert[:]} {
		h.Write(binary.BigEndian.AppendUint16(nil, uint16(len(part))))
		h.Write(part)
	}
	return h.Sum(nil)
}

// SignTechAuth is k's session proof for the certificate cert.
func SignTechAuth(k *PrivateKey, cert *Document, exporter, sessionID []byte) (Signature, error) {
	return k.Sign(TechAuthLabel, TechAuthMessage(exporter, sessionID, CertID(cert)))
}

// Errors a session-proof verifier can tell apart.
var (
	// ErrTechUsername means the certificate names another technician
	// than the one the relay says opened the session.
	ErrTechUsername = errors.New("the certificate is for another technician")
	// ErrTechProof means the technician's signature over the session does
	// not verify with the certified key.
	ErrTechProof = errors.New("the technician's session signature does not verify")
)

// VerifyTechAuth checks a technician's certificate and session proof: the
// certificate is signed by r's threshold and valid at now (revocation is
// not checked here), it certifies username, and sig by the certified key
// covers this session's exporter and ID. It returns the certificate.
func VerifyTechAuth(r *Root, certRaw []byte, sig Signature, exporter, sessionID []byte, username string, now time.Time) (*TechCertBody, error) {
	cert, d, err := Open[*TechCertBody](r, certRaw, now)
	if err != nil {
		return nil, fmt.Errorf("technician certificate: %w", err)
	}
	if now.Before(d.Issued) {
		return nil, fmt.Errorf("technician certificate: not valid before %s", d.Issued.Format(time.RFC3339))
	}
	if cert.Username != username {
		return nil, fmt.Errorf("%w: it certifies %q, the relay says %q", ErrTechUsername, cert.Username, username)
	}
	if err := cert.Key.Verify(TechAuthLabel, TechAuthMessage(exporter, sessionID, CertID(d)), sig); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTechProof, err)
	}
	return cert, nil
}

// Bytes is the signature's encoding: Ed25519 then ML-DSA-65
// (SignatureSize bytes).
func (s Signature) Bytes() []byte { return append(append([]byte(nil), s.Ed25519...), s.MLDSA...) }

// ParseSignature splits an encoded signature (Bytes) into its halves.
func ParseSignature(b []byte) (Signature, error) {
	if len(b) != SignatureSize {
		return Signature{}, fmt.Errorf("signature: %d bytes, want %d", len(b), SignatureSize)
	}
	b = slices.Clone(b)
	return Signature{Ed25519: b[:ed25519.SignatureSize], MLDSA: b[ed25519.SignatureSize:]}, nil
}
