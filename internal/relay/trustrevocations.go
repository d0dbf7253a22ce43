package relay

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/trust"
)

// The relay keeps the newest signed revocation list in one document
// (trustdocs.go) and serves it to agents, which verify it from their
// pinned root on connect and before every session. Like the policy, the
// relay checks what it stores only to help honest administrators.

// trustRevocationsStore is the newest revocation list of docs.
func trustRevocationsStore(docs trustDocs) dataFile {
	return dataFile{docs: docs, name: "trust-revocations.json", what: "revocation list"}
}

// loadTrustRevocations reads the stored list; none stored has a nil Document.
func (s *Server) loadTrustRevocations() (api.TrustRevocations, error) {
	return readTrustRevocations(s.trust)
}

// readTrustRevocations reads the list stored in docs; none stored has a
// nil Document.
func readTrustRevocations(docs trustDocs) (api.TrustRevocations, error) {
	var v api.TrustRevocations
	_, err := trustRevocationsStore(docs).load(&v)
	return v, err
}

// saveTrustRevocations replaces the stored list atomically.
func (s *Server) saveTrustRevocations(v api.TrustRevocations) error {
	return trustRevocationsStore(s.trust).save(v)
}

// handleTrustRevocations serves the revocation list to anyone: it is
// public and verified by whoever reads it.
func (s *Server) handleTrustRevocations(w http.ResponseWriter, r *http.Request) {
	v, err := s.loadTrustRevocations()
	if err != nil {
		s.writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// handleRevocationPublish stores a revocation list that verifies against
// the newest root and is newer than the stored one.
func (s *Server) handleRevocationPublish(w http.ResponseWriter, r *http.Request, p *principal) {
	s.publishSigned(w, r, p, func(doc []byte) (published, error) {
		out := published{action: "trust.revocation.publish", target: "revocations"}
		d, rv, err := s.acceptRevocations(doc)
		if err != nil {
			return out, err
		}
		out.save = func() error { return s.saveTrustRevocations(api.TrustRevocations{Document: doc}) }
		out.details = []string{"certs", strconv.Itoa(len(rv.TechCerts)), "reviewer_keys", strconv.Itoa(len(rv.ReviewerKeys)), "admin_keys", strconv.Itoa(len(rv.AdminKeys))}
		out.answer = api.TrustPolicyPublished{Version: d.Version, Expiry: d.Expiry, Signers: strings.Split(signerIDs(doc), ",")}
		return out, nil
	})
}

// acceptRevocations checks doc against the newest root and the stored list.
func (s *Server) acceptRevocations(doc []byte) (*trust.Document, *trust.RevocationBody, error) {
	t := now()
	root, err := s.publishedRoot(t)
	if err != nil {
		return nil, nil, err
	}
	rv, d, err := trust.VerifyRevocation(root, doc, t)
	if err != nil {
		return nil, nil, errf(http.StatusBadRequest, "sign it with `tech trust revoke` (or `tech trust sign` up to the threshold, without revoked administrator keys)", "%v", err)
	}
	cur, err := s.loadTrustRevocations()
	if err != nil {
		return nil, nil, err
	}
	if err := checkNewer(cur.Document, d, "revocation list", "tech trust revoke"); err != nil {
		return nil, nil, err
	}
	return d, rv, nil
}
