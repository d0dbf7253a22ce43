package relay

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/trust"
)

// The relay keeps the organisation's root chain (the root and every root
// change after it) in one document (trustdocs.go). It checks what it
// is given before storing it, but nobody relies on that: agents and tech
// verify the chain themselves from the root they pinned, so whoever holds
// the data directory can refuse service by editing the file, not forge.

// trustChainName is the chain's name (trustdocs.go).
const trustChainName = "trust-root.json"

// loadTrustChain reads the stored chain; none stored is an empty chain.
func (s *Server) loadTrustChain() (api.TrustChain, error) {
	var c api.TrustChain
	if _, err := s.trustChainStore().load(&c); err != nil {
		return c, err
	}
	if c.Documents == nil {
		c.Documents = [][]byte{}
	}
	return c, nil
}

// saveTrustChain replaces the stored chain atomically (0600).
func (s *Server) saveTrustChain(c api.TrustChain) error { return s.trustChainStore().save(c) }

// trustChainStore is the stored chain's file.
func (s *Server) trustChainStore() dataFile {
	return dataFile{docs: s.trust, name: trustChainName, what: "trust root chain"}
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
	s.publishSigned(w, r, p, func(doc []byte) (published, error) {
		c, err := s.loadTrustChain()
		if err != nil {
			return published{}, err
		}
		out := published{action: "trust.root.publish", target: "root"}
		if len(c.Documents) > 0 {
			out.action = "trust.root.change"
		}
		root, err := s.acceptTrustDocument(c, doc)
		if err != nil {
			return out, err
		}
		c.Documents = append(c.Documents, doc)
		out.save = func() error { return s.saveTrustChain(c) }
		out.target = root.Fingerprint.String()
		out.details = []string{"threshold", strconv.Itoa(int(root.Body.Threshold)), "admins", strconv.Itoa(len(root.Body.Admins))}
		out.answer = api.TrustPublished{Fingerprint: root.Fingerprint.String(), Version: root.Version,
			Threshold: int(root.Body.Threshold), Admins: len(root.Body.Admins)}
		return out, nil
	})
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
