package relay

import (
	"net/http"
	"strings"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/trust"
)

// The relay keeps the newest signed session policy in one document
// (trustdocs.go) and serves it to agents, which verify it from their pinned
// root before every session. As with the root chain, the relay's own
// checks help honest administrators; agents rely on none of them.

// trustPolicyName is the newest signed policy's name (trustdocs.go).
const trustPolicyName = "trust-policy.json"

// trustPolicyStore is the stored policy's file.
func (s *Server) trustPolicyStore() dataFile {
	return dataFile{docs: s.trust, name: trustPolicyName, what: "signed policy"}
}

// loadTrustPolicy reads the stored policy; none stored has a nil Document.
func (s *Server) loadTrustPolicy() (api.TrustPolicy, error) {
	var p api.TrustPolicy
	_, err := s.trustPolicyStore().load(&p)
	return p, err
}

// saveTrustPolicy replaces the stored policy atomically (0600).
func (s *Server) saveTrustPolicy(p api.TrustPolicy) error { return s.trustPolicyStore().save(p) }

// handleTrustPolicy serves the signed policy to anyone: it is public and
// verified by whoever reads it.
func (s *Server) handleTrustPolicy(w http.ResponseWriter, r *http.Request) {
	p, err := s.loadTrustPolicy()
	if err != nil {
		s.writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// handlePolicyPublish stores a signed policy that verifies against the
// newest root and is newer than the stored one.
func (s *Server) handlePolicyPublish(w http.ResponseWriter, r *http.Request, p *principal) {
	s.publishSigned(w, r, p, func(doc []byte) (published, error) {
		out := published{action: "trust.policy.publish", target: "policy"}
		d, err := s.acceptPolicy(doc)
		if err != nil {
			return out, err
		}
		out.save = func() error {
			if err := archivePolicy(s.trust, doc); err != nil {
				return err
			}
			return s.saveTrustPolicy(api.TrustPolicy{Document: doc})
		}
		out.answer = api.TrustPolicyPublished{Version: d.Version, Expiry: d.Expiry, Signers: strings.Split(signerIDs(doc), ",")}
		return out, nil
	})
}

// acceptPolicy checks doc against the newest root and the stored policy.
func (s *Server) acceptPolicy(doc []byte) (*trust.Document, error) {
	t := now()
	root, err := s.publishedRoot(t)
	if err != nil {
		return nil, err
	}
	_, d, err := trust.Open[*trust.PolicyBody](root, doc, t)
	if err != nil {
		return nil, errf(http.StatusBadRequest, "sign it with `tech policy sign` (or `tech trust sign` up to the threshold)", "signed policy: %v", err)
	}
	cur, err := s.loadTrustPolicy()
	if err != nil {
		return nil, err
	}
	if err := checkNewer(cur.Document, d, "signed policy", "tech policy sign"); err != nil {
		return nil, err
	}
	return d, nil
}
