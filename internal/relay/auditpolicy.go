package relay

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"path/filepath"
	"strconv"

	"github.com/tether-support/tether/internal/trust"
)

// Details of a session.request entry naming the signed policy in force
// when the relay offered the session (recorded once a trust root exists).
const (
	// detailTrustRoot is the newest root's fingerprint, "invalid" when the
	// stored chain does not verify.
	detailTrustRoot = "trust_root"
	// detailPolicyVersion is the stored policy's version, "" without one.
	detailPolicyVersion = "policy_version"
	// detailPolicyHash is SHA-256 of the stored policy document, hex, or
	// "none".
	detailPolicyHash = "policy_sha256"
)

// policyArchiveDir keeps every signed policy the relay accepted, each in
// a file named by its SHA-256 (hex), so `relay audit verify` can check the
// policy in force at any session after newer ones replaced it. On a
// shared database the archive is in the database under the same names
// (trustdocs.go).
func policyArchiveDir(dataDir string) string { return filepath.Join(dataDir, "trust-policies") }

// archivedPolicyName is the archive's name of the policy with SHA-256
// hash (hex).
func archivedPolicyName(hash string) string { return "trust-policies/" + hash }

// archivePolicy stores doc in the policy archive of docs.
func archivePolicy(docs trustDocs, doc []byte) error {
	sum := sha256.Sum256(doc)
	if err := docs.write(archivedPolicyName(hex.EncodeToString(sum[:])), doc); err != nil {
		return fmt.Errorf("archive the signed policy: %w", err)
	}
	return nil
}

// sessionPolicyDetails names the policy a session is offered under: none
// (nil) before a trust root exists.
func (s *Server) sessionPolicyDetails() []string {
	c, err := s.loadTrustChain()
	if err != nil || len(c.Documents) == 0 {
		return nil
	}
	root := s.trustRootFingerprint()
	if root == "" {
		root = "invalid"
	}
	kv := []string{detailTrustRoot, root, detailPolicyHash, "none", detailPolicyVersion, ""}
	p, err := s.loadTrustPolicy()
	if err != nil || p.Document == nil {
		return kv
	}
	sum := sha256.Sum256(p.Document)
	kv[3] = hex.EncodeToString(sum[:])
	if d, err := trust.Decode(p.Document); err == nil {
		kv[5] = strconv.FormatUint(d.Version, 10)
	}
	return kv
}
