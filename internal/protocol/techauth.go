package protocol

import (
	"encoding/binary"
	"fmt"
)

// Sizes of InTechAuth's parts.
const (
	// TechAuthSigSize is the technician's hybrid signature: Ed25519 (64
	// bytes) then ML-DSA-65 (3309 bytes), as package trust encodes it.
	TechAuthSigSize = 64 + 3309
	// MaxTechCert is the largest certificate InTechAuth carries.
	MaxTechCert = 48 << 10
)

// TechAuth is the payload of InTechAuth: the technician's certificate (a
// signed trust document, opaque here) and the technician key's signature
// over this session (trust.TechAuthMessage). A technician with no
// certificate sends the zero TechAuth (an empty payload), which an agent
// with a pinned trust root refuses.
type TechAuth struct {
	Cert []byte
	Sig  []byte
}

// Certified reports whether a carries a certificate.
func (a TechAuth) Certified() bool { return len(a.Cert) > 0 }

// AppendTechAuth appends an InTechAuth message: type byte, the
// certificate's length (uint32 big-endian), the certificate, the
// signature; or the type byte alone for the zero TechAuth.
func AppendTechAuth(dst []byte, a TechAuth) ([]byte, error) {
	if len(a.Cert) == 0 && len(a.Sig) == 0 {
		return append(dst, byte(InTechAuth)), nil
	}
	if err := a.check(); err != nil {
		return dst, err
	}
	dst = append(dst, byte(InTechAuth))
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(a.Cert)))
	dst = append(dst, a.Cert...)
	return append(dst, a.Sig...), nil
}

// ParseTechAuth decodes InTechAuth's payload strictly (ErrBadInner): empty
// (no certificate), or a certificate of 1 to MaxTechCert bytes and a
// signature of exactly TechAuthSigSize bytes, nothing after. The parts do
// not share memory with p.
func ParseTechAuth(p []byte) (TechAuth, error) {
	if len(p) == 0 {
		return TechAuth{}, nil
	}
	if len(p) < 4 {
		return TechAuth{}, fmt.Errorf("%w: technician auth of %d bytes", ErrBadInner, len(p))
	}
	n := binary.BigEndian.Uint32(p)
	rest := p[4:]
	if uint64(n) > uint64(len(rest)) {
		return TechAuth{}, fmt.Errorf("%w: technician certificate of %d bytes, only %d follow", ErrBadInner, n, len(rest))
	}
	a := TechAuth{Cert: append([]byte(nil), rest[:n]...), Sig: append([]byte(nil), rest[n:]...)}
	return a, a.check()
}

// check bounds the parts.
func (a TechAuth) check() error {
	if len(a.Cert) == 0 || len(a.Cert) > MaxTechCert {
		return fmt.Errorf("%w: technician certificate of %d bytes, want 1 to %d", ErrBadInner, len(a.Cert), MaxTechCert)
	}
	if len(a.Sig) != TechAuthSigSize {
		return fmt.Errorf("%w: technician signature of %d bytes, want %d", ErrBadInner, len(a.Sig), TechAuthSigSize)
	}
	return nil
}
