package relay

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"tether/internal/api"
	"tether/internal/trust"
)

// The relay keeps the newest signed session policy in one file of its data
// directory and serves it to agents, which verify it from their pinned
// root before every session. As with the root chain, the relay's own
// checks help honest administrators; agents rely on none of them.

// trustPolicyFile is where the newest signed policy is kept.
func trustPolicyFile(dataDir string) string { return filepath.Join(dataDir, "trust-policy.json") }

// loadTrustPolicy reads the stored policy; none stored has a nil Document.
func (s *Server) loadTrustPolicy() (api.TrustPolicy, error) {
	var p api.TrustPolicy
	b, err := os.ReadFile(trustPolicyFile(s.cfg.DataDir))
	if errors.Is(err, os.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return p, fmt.Errorf("read signed policy: %w", err)
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("signed policy %s is corrupt: %w", trustPolicyFile(s.cfg.DataDir), err)
	}
	return p, nil
}

// saveTrustPolicy replaces the stored policy atomically (0600).
func (s *Server) saveTrustPolicy(p api.TrustPolicy) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	path := trustPolicyFile(s.cfg.DataDir)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("write signed policy: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write signed policy: %w", err)
	}
	return nil
}

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
	var req api.TrustPublish
	dec := json.NewDecoder(io.LimitReader(r.Body, MaxTrustBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		s.writeErr(w, errf(http.StatusBadRequest, "", "malformed request body: %v", err))
		return
	}
	s.trustMu.Lock()
	defer s.trustMu.Unlock()
	d, err := s.acceptPolicy(req.Document)
	if err != nil {
		s.record(auditEvent(p.user.ID, "trust.policy.publish", "policy", "failure", p.source, documentDetails(req.Document, "reason", err.Error())...))
		s.writeErr(w, err)
		return
	}
	if err := archivePolicy(s.cfg.DataDir, req.Document); err != nil {
		s.writeErr(w, err)
		return
	}
	if err := s.saveTrustPolicy(api.TrustPolicy{Document: req.Document}); err != nil {
		s.writeErr(w, err)
		return
	}
	signers := signerIDs(req.Document)
	s.record(auditEvent(p.user.ID, "trust.policy.publish", "policy", "success", p.source, documentDetails(req.Document)...))
	writeJSON(w, http.StatusOK, api.TrustPolicyPublished{Version: d.Version, Expiry: d.Expiry, Signers: strings.Split(signers, ",")})
}

// acceptPolicy checks doc against the newest root and the stored policy.
func (s *Server) acceptPolicy(doc []byte) (*trust.Document, error) {
	c, err := s.loadTrustChain()
	if err != nil {
		return nil, err
	}
	if len(c.Documents) == 0 {
		return nil, errf(http.StatusConflict, "create the organisation's root first with `tech trust init`", "no trust root is published")
	}
	t := now()
	ch, err := trust.VerifyChain(c.Documents, t)
	if err != nil {
		return nil, fmt.Errorf("stored trust root chain: %w", err)
	}
	_, d, err := trust.Open[*trust.PolicyBody](ch.Newest(), doc, t)
	if err != nil {
		return nil, errf(http.StatusBadRequest, "sign it with `tech policy sign` (or `tech trust sign` up to the threshold)", "signed policy: %v", err)
	}
	cur, err := s.loadTrustPolicy()
	if err != nil {
		return nil, err
	}
	if cur.Document != nil {
		old, err := trust.Decode(cur.Document)
		if err == nil && d.Version <= old.Version {
			return nil, errf(http.StatusConflict, "sign a newer version (`tech policy sign`)", "signed policy version %d is not above the published version %d", d.Version, old.Version)
		}
	}
	return d, nil
}
