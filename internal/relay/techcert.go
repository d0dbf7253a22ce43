package relay

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/trust"
	"github.com/tether-support/tether/internal/username"
)

// The relay keeps each technician's public key and certificate in one
// document (trustdocs.go), keyed by user ID. Like the root chain it
// checks what it is given, but nobody relies on that: agents verify a
// certificate against the root they pinned, so whoever holds the data
// directory can withhold or swap certificates (refused by the agents),
// not forge one.

// techCertEntry is one technician's key and newest certificate.
type techCertEntry struct {
	Key  []byte `json:"key"`
	Cert []byte `json:"cert,omitempty"`
}

// techCertStore is the stored keys' and certificates' file.
func (s *Server) techCertStore() dataFile {
	return dataFile{docs: s.trust, name: "tech-certs.json", what: "technician certificates", plural: true}
}

// loadTechCerts reads the stored keys and certificates by user ID.
func (s *Server) loadTechCerts() (map[ids.UserID]techCertEntry, error) {
	m := map[ids.UserID]techCertEntry{}
	if _, err := s.techCertStore().load(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// saveTechCerts replaces the stored keys and certificates atomically (0600).
func (s *Server) saveTechCerts(m map[ids.UserID]techCertEntry) error {
	return s.techCertStore().save(m)
}

// handleTechKeySet stores the signed-in technician's own public key. A new
// key drops the certificate of the old one.
func (s *Server) handleTechKeySet(w http.ResponseWriter, r *http.Request, p *principal) {
	var req api.TechKey
	if err := readJSON(r, &req); err != nil {
		s.writeErr(w, err)
		return
	}
	k, err := trust.ParsePublicKey(req.Key)
	if err != nil {
		s.writeErr(w, errf(http.StatusBadRequest, "", "%v", err))
		return
	}
	unlock, err := s.lockTrust()
	if err != nil {
		s.writeErr(w, err)
		return
	}
	defer unlock()
	m, err := s.loadTechCerts()
	if err != nil {
		s.writeErr(w, err)
		return
	}
	if e, ok := m[p.user.ID]; ok && slices.Equal(e.Key, req.Key) {
		writeJSON(w, http.StatusOK, api.Status{Status: "ok"})
		return
	}
	m[p.user.ID] = techCertEntry{Key: req.Key}
	if err := s.saveTechCerts(m); err != nil {
		s.writeErr(w, err)
		return
	}
	s.record(auditEvent(p.user.ID, "trust.techkey.set", p.user.Username, "success", p.source, "key", k.ID().String()))
	writeJSON(w, http.StatusOK, api.Status{Status: "ok"})
}

// handleOwnCert serves the signed-in technician's certificate.
func (s *Server) handleOwnCert(w http.ResponseWriter, r *http.Request, p *principal) {
	s.trustMu.Lock()
	m, err := s.loadTechCerts()
	s.trustMu.Unlock()
	if err != nil {
		s.writeErr(w, err)
		return
	}
	e := m[p.user.ID]
	if len(e.Cert) == 0 {
		s.writeErr(w, errf(http.StatusNotFound, "ask an administrator to run `tech users certify "+p.user.Username+"`", "you have no certificate"))
		return
	}
	writeJSON(w, http.StatusOK, api.TechCert{Document: e.Cert})
}

// handleCertifyFacts serves what an administrator certifies for the user
// named in the path: account facts and the user's uploaded key.
func (s *Server) handleCertifyFacts(w http.ResponseWriter, r *http.Request, p *principal) {
	u, err := s.certTarget(r, p)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	s.trustMu.Lock()
	m, err := s.loadTechCerts()
	s.trustMu.Unlock()
	if err != nil {
		s.writeErr(w, err)
		return
	}
	e, ok := m[u.ID]
	if !ok {
		s.writeErr(w, errf(http.StatusNotFound, "they must sign in once with a current tech (`tech login`), which uploads their key", "%s has no technician key", u.Username))
		return
	}
	up := &principal{user: u, perms: s.accounts.Permissions(u)}
	writeJSON(w, http.StatusOK, api.CertifyFacts{Username: u.Username, DisplayName: displayName(u),
		Orgs: nonNil(u.Orgs), Capabilities: allowedCaps(up), DeviceGroups: nonNil(u.DeviceGroups), Key: e.Key, Cert: e.Cert})
}

// handleCertStore stores a certificate for the user named in the path
// after checking it against the newest root, the user's name and key.
func (s *Server) handleCertStore(w http.ResponseWriter, r *http.Request, p *principal) {
	u, err := s.certTarget(r, p)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	s.publishSigned(w, r, p, func(doc []byte) (published, error) {
		out := published{action: "trust.cert.issue", target: u.Username}
		stored, err := s.acceptCert(u.ID, u.Username, doc)
		if err != nil {
			return out, err
		}
		out.details = []string{"cert", stored.CertID}
		out.answer = stored
		return out, nil
	})
}

// acceptCert verifies doc as user's certificate and stores it; the
// caller holds the trust lock (lockTrust).
func (s *Server) acceptCert(id ids.UserID, username string, doc []byte) (api.TechCertStored, error) {
	var out api.TechCertStored
	c, err := s.loadTrustChain()
	if err != nil {
		return out, err
	}
	if len(c.Documents) == 0 {
		return out, errf(http.StatusConflict, "publish a root first with `tech trust init`", "this relay has no trust root")
	}
	ch, err := trust.VerifyChain(c.Documents, now())
	if err != nil {
		return out, fmt.Errorf("stored trust root chain: %w", err)
	}
	cert, d, err := trust.Open[*trust.TechCertBody](ch.Newest(), doc, now())
	if err != nil {
		return out, errf(http.StatusBadRequest, "sign it with the root's administrator keys (`tech users certify`)", "certificate: %v", err)
	}
	m, err := s.loadTechCerts()
	if err != nil {
		return out, err
	}
	e, ok := m[id]
	switch {
	case cert.Username != username:
		return out, errf(http.StatusBadRequest, "", "the certificate is for %q, not %q", cert.Username, username)
	case !ok || !slices.Equal(e.Key, cert.Key.Bytes()):
		return out, errf(http.StatusConflict, "fetch their current key again (`tech users certify`)", "the certificate is not for %s's current key", username)
	}
	e.Cert = doc
	m[id] = e
	if err := s.saveTechCerts(m); err != nil {
		return out, err
	}
	return api.TechCertStored{Username: username, CertID: trust.CertID(d).String(), Expiry: d.Expiry}, nil
}

// certTarget is the user named in the path, whom p may certify: p
// themselves (what counts is the administrators' signatures, which the
// relay checks against the root) or an account p administers.
func (s *Server) certTarget(r *http.Request, p *principal) (*store.User, error) {
	if name, err := username.Canonical(r.PathValue("name")); err == nil && name == p.user.Username {
		return p.user, nil
	}
	return s.target(r, p, "certify")
}

// nonNil is l, or an empty list for JSON.
func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}
