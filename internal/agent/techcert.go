package agent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tether-support/tether/internal/consent"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/trust"
)

// errUncertified is the refusal of a technician who does not prove a
// certified identity to an agent that pinned a trust root.
var errUncertified = errors.New("version 1 refused once a root is pinned: the technician presented no certificate " +
	"(an administrator certifies them with `tech users certify`, and their tech must be current)")

// sessionTrust is what a session knows of the device's trust root.
type sessionTrust struct {
	// pinned reports that the device pinned a root.
	pinned bool
	// root is that root as last followed; nil if it could not be.
	root *trust.Root
}

// sessionTrust is the trust a new session checks against. Call it on the
// connection loop, which alone reads the pin once Run started.
func (a *Agent) sessionTrust() sessionTrust {
	return sessionTrust{pinned: a.st.TrustRoot != "", root: a.root.Load()}
}

// withPolicyRoot is tr with the root the session's signed policy was
// verified against, so that one session checks policy and certificate
// against the same root: the one fetched for it, at least as new as the
// one followed at connect. Without a signed policy tr is unchanged.
func (tr sessionTrust) withPolicyRoot(sp *signedPolicy) sessionTrust {
	if sp != nil && sp.root != nil {
		tr.root = sp.root
	}
	return tr
}

// techAuth reads the technician's InTechAuth when the tech-cert feature
// was negotiated and, with a root pinned, verifies it: the certificate
// against root, the proof over this session, and that it certifies the
// technician the relay named. It returns the verified certificate, or nil
// without a pinned root. Revocation and device groups are checked once the
// revocation list is fetched (checkCert).
func (s *deviceSession) techAuth(ctx context.Context, tr sessionTrust) (*trust.TechCertBody, error) {
	root := tr.root
	if tr.pinned && root == nil {
		return nil, errors.New("this device pinned a trust root, but it could not be loaded; refusing")
	}
	if !s.ch.Features().Has(protocol.FeatureTechCert) {
		if root != nil {
			return nil, errUncertified
		}
		return nil, nil
	}
	t, p, err := s.ch.Recv(ctx)
	if err != nil {
		return nil, fmt.Errorf("waiting for the technician's certificate: %w", err)
	}
	if t != protocol.InTechAuth {
		return nil, fmt.Errorf("%w: expected the technician's certificate, got message 0x%02x", protocol.ErrBadInner, byte(t))
	}
	a, err := protocol.ParseTechAuth(p)
	if err != nil || root == nil {
		return nil, err
	}
	if !a.Certified() {
		return nil, errUncertified
	}
	id, err := s.info.ID.Bytes()
	if err != nil {
		return nil, errors.New("malformed session ID from relay")
	}
	cert, err := verifyTechAuth(root, a, s.ch.Exporter, id[:], s.info.TechUser, time.Now())
	if err == nil {
		s.certRaw = a.Cert
	}
	return cert, err
}

// verifyTechAuth checks a against root for the session whose ID
// is sessionID, opened (the relay says) by techUser.
func verifyTechAuth(root *trust.Root, a protocol.TechAuth, exporter []byte, sessionID []byte, techUser string, now time.Time) (*trust.TechCertBody, error) {
	sig, err := trust.ParseSignature(a.Sig)
	if err != nil {
		return nil, fmt.Errorf("technician certificate: %w", err)
	}
	cert, err := trust.VerifyTechAuth(root, a.Cert, sig, exporter, sessionID, techUser, now)
	if errors.Is(err, trust.ErrTechUsername) {
		return nil, fmt.Errorf("refusing: the relay renamed the technician: %w", err)
	}
	if err != nil {
		return nil, fmt.Errorf("refusing the technician's identity: %w", err)
	}
	return cert, nil
}

// limitToCert applies the certificate's capability ceiling to p: a
// request beyond it refuses the session, and what may be asked for later
// shrinks to it. Without a certificate p is unchanged.
func limitToCert(p policy, cert *trust.TechCertBody) (policy, error) {
	if cert == nil {
		return p, nil
	}
	var beyond []string
	for _, c := range p.requested {
		if !protocol.Covers(cert.Capabilities, c) {
			beyond = append(beyond, c)
		}
	}
	if len(beyond) > 0 {
		return p, fmt.Errorf("the technician asks for %s, beyond what their certificate allows (%s)",
			strings.Join(beyond, ", "), strings.Join(cert.Capabilities, ", "))
	}
	p.allowed = slices.DeleteFunc(slices.Clone(p.allowed), func(c string) bool { return !protocol.Covers(cert.Capabilities, c) })
	return p, nil
}

// certifyRequest puts the certified identity on a consent request: the
// certificate's name, username and organisation replace what the relay
// said, and Verified names the organisation that vouches for them.
func certifyRequest(req *consent.Request, cert *trust.TechCertBody) {
	if cert == nil {
		return
	}
	req.TechName, req.TechUser, req.Org, req.Verified = cert.Name, cert.Username, cert.Org, cert.Org
}

// techShown is the technician's name and username as shown to the end
// user: the certificate's when verified, else the relay's.
func (s *deviceSession) techShown() (name, user string) {
	if s.cert != nil {
		return s.cert.Name, s.cert.Username
	}
	return s.info.TechName, s.info.TechUser
}
