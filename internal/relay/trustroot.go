package relay

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

	"tether/internal/api"
	"tether/internal/trust"
)

// The relay keeps the organisation's root chain (the root and every root
// change after it) in one file of its data directory. It checks what it
// is given before storing it, but nobody relies on that: agents and tech
// verify the chain themselves from the root they pinned, so whoever holds
// the data directory can refuse service by editing the file, not forge.

// trustChainFile is where the chain is kept.
func trustChainFile(dataDir string) string { return filepath.Join(dataDir, "trust-root.json") }

// loadTrustChain reads the stored chain; none stored is an empty chain.
func (s *Server) loadTrustChain() (api.TrustChain, error) {
	var c api.TrustChain
	b, err := os.ReadFile(trustChainFile(s.cfg.DataDir))
	if errors.Is(err, os.ErrNotExist) {
		return api.TrustChain{Documents: [][]byte{}}, nil
	}
	if err != nil {
		return c, fmt.Errorf("read trust root chain: %w", err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("trust root chain %s is corrupt: %w", trustChainFile(s.cfg.DataDir), err)
	}
	if c.Documents == nil {
		c.Documents = [][]byte{}
	}
	return c, nil
}

// saveTrustChain replaces the stored chain atomically (0600).
func (s *Server) saveTrustChain(c api.TrustChain) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	path := trustChainFile(s.cfg.DataDir)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("write trust root chain: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write trust root chain: %w", err)
	}
	return nil
}

// trustRootFingerprint is the newest root's fingerprint as the relay's
// own chain says, or "" when there is none (or it does not verify: the
// enrollment token then carries none, and agents find out for themselves).
func (s *Server) trustRootFingerprint() string {
	c, err := s.loadTrustChain()
	if err != nil || len(c.Documents) == 0 {
		return ""
	}
	ch, err := trust.VerifyChain(c.Documents, now())
	if err != nil {
		s.log.Warn("the stored trust root chain does not verify", "err", err)
		return ""
	}
	return ch.Newest().Fingerprint.String()
}

// handleTrustRoot serves the chain to anyone: it is public and verified
// by whoever reads it.
func (s *Server) handleTrustRoot(w http.ResponseWriter, r *http.Request) {
	c, err := s.loadTrustChain()
	if err != nil {
		s.writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// handleTrustPublish appends a root (to an empty chain) or a root change
// signed by the newest root's threshold.
func (s *Server) handleTrustPublish(w http.ResponseWriter, r *http.Request, p *principal) {
	var req api.TrustPublish
	dec := json.NewDecoder(io.LimitReader(r.Body, MaxTrustBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		s.writeErr(w, errf(http.StatusBadRequest, "", "malformed request body: %v", err))
		return
	}
	s.trustMu.Lock()
	defer s.trustMu.Unlock()
	c, err := s.loadTrustChain()
	if err != nil {
		s.writeErr(w, err)
		return
	}
	action := "trust.root.publish"
	if len(c.Documents) > 0 {
		action = "trust.root.change"
	}
	root, err := s.acceptTrustDocument(c, req.Document)
	if err != nil {
		s.record(auditEvent(p.user.ID, action, "root", "failure", p.source, documentDetails(req.Document, "reason", err.Error())...))
		s.writeErr(w, err)
		return
	}
	c.Documents = append(c.Documents, req.Document)
	if err := s.saveTrustChain(c); err != nil {
		s.writeErr(w, err)
		return
	}
	s.record(auditEvent(p.user.ID, action, root.Fingerprint.String(), "success", p.source, documentDetails(req.Document,
		"threshold", strconv.Itoa(int(root.Body.Threshold)), "admins", strconv.Itoa(len(root.Body.Admins)))...))
	writeJSON(w, http.StatusOK, api.TrustPublished{Fingerprint: root.Fingerprint.String(), Version: root.Version,
		Threshold: int(root.Body.Threshold), Admins: len(root.Body.Admins)})
}

// acceptTrustDocument checks doc against the stored chain c and returns
// the root it installs.
func (s *Server) acceptTrustDocument(c api.TrustChain, doc []byte) (*trust.Root, error) {
	t := now()
	if len(c.Documents) == 0 {
		root, err := trust.VerifyRoot(doc, t)
		if err != nil {
			return nil, errf(http.StatusBadRequest, "publish a root made by `tech trust init`", "%v", err)
		}
		return root, nil
	}
	ch, err := trust.VerifyChain(c.Documents, t)
	if err != nil {
		return nil, fmt.Errorf("stored trust root chain: %w", err)
	}
	root, err := ch.Newest().ApplyChange(doc, t)
	if err != nil {
		return nil, errf(http.StatusConflict, "a root exists: a change must be signed by its threshold of administrators (`tech trust sign`)", "%v", err)
	}
	return root, nil
}
