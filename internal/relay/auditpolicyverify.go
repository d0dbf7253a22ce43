package relay

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/trust"
)

// PolicyFinding is a session the relay offered under a policy that was
// not validly signed when it was requested.
type PolicyFinding struct {
	// Seq is the session.request entry's sequence number.
	Seq uint64
	// Session is the session ID; Time when it was requested.
	Session string
	Time    time.Time
	// Problem says what is wrong with the policy in force.
	Problem string
}

// String is the finding as one line.
func (f PolicyFinding) String() string {
	return fmt.Sprintf("session %s (audit entry %d, %s): %s", f.Session, f.Seq, f.Time.UTC().Format(time.RFC3339), f.Problem)
}

// PolicyCheck is what VerifySessionPolicies found.
type PolicyCheck struct {
	// Checked is how many session requests named a policy in force.
	Checked int
	// Findings are the sessions offered under no valid signed policy.
	Findings []PolicyFinding
	// CertFindings are the sessions whose verified consent receipt names a
	// technician certificate no trust.cert.issue entry issued before it.
	CertFindings []PolicyFinding
}

// VerifySessionPolicies checks, for every session.request entry in dir's
// audit log recorded after a trust root existed, that the policy in force
// (by its recorded hash, from the policy archive or the stored policy) was
// signed by the threshold of the recorded root of the stored chain, was
// not expired when the session was requested and has the recorded
// version. It also lists (CertFindings) every verified consent receipt
// naming a technician certificate that no successful trust.cert.issue
// entry before it issued. Run it after VerifyAudit: it trusts the chain
// of entries.
func VerifySessionPolicies(dir string) (*PolicyCheck, error) {
	db, err := openStore(dir)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	docs := newTrustDocs(dir, db)
	chain, err := readStoredChain(docs)
	if err != nil {
		return nil, err
	}
	pc := &PolicyCheck{}
	recorded := map[string]string{} // session ID → policy version recorded at its request
	issued := map[string]bool{}     // certificate IDs trust.cert.issue entries issued so far
	err = db.AuditRecords(0, func(r *store.AuditRecord) error {
		problem := ""
		switch {
		case r.Action == "trust.cert.issue" && r.Outcome == "success":
			issued[r.Details["cert"]] = true
		case r.Action == "session.request" && r.Details[detailTrustRoot] != "":
			pc.Checked++
			recorded[r.Target] = r.Details[detailPolicyVersion]
			problem = checkSessionPolicy(docs, chain, r)
		case r.Action == "session.consent":
			v, ok := recorded[r.Target]
			if !ok {
				return nil
			}
			problem = checkReceiptPolicy(r, v)
			if c := checkReceiptCert(r, issued); c != "" {
				pc.CertFindings = append(pc.CertFindings, PolicyFinding{Seq: r.Seq, Session: r.Target, Time: r.Time, Problem: c})
			}
		}
		if problem != "" {
			pc.Findings = append(pc.Findings, PolicyFinding{Seq: r.Seq, Session: r.Target, Time: r.Time, Problem: problem})
		}
		return nil
	})
	return pc, err
}

// checkReceiptPolicy compares the policy version a verified consent
// receipt says the device checked with the one recorded at the request.
func checkReceiptPolicy(r *store.AuditRecord, recorded string) string {
	if r.Details["receipt_check"] != "verified" {
		return ""
	}
	var receipt protocol.ConsentReceipt
	if json.Unmarshal([]byte(r.Details["receipt"]), &receipt) != nil || receipt.PolicyVersion == 0 {
		return ""
	}
	if got := strconv.FormatUint(receipt.PolicyVersion, 10); got != recorded {
		return fmt.Sprintf("the device's signed consent receipt says it verified policy version %s, but the relay recorded version %q at the request", got, recorded)
	}
	return ""
}

// readStoredChain reads the stored trust root chain of docs.
func readStoredChain(docs trustDocs) ([][]byte, error) {
	var c api.TrustChain
	_, err := dataFile{docs: docs, name: trustChainName, what: "trust root chain"}.load(&c)
	return c.Documents, err
}

// checkSessionPolicy says what is wrong with the policy r was requested
// under, "" when it was validly signed.
func checkSessionPolicy(docs trustDocs, chain [][]byte, r *store.AuditRecord) string {
	hash, version := r.Details[detailPolicyHash], r.Details[detailPolicyVersion]
	if hash == "none" {
		return "no signed policy was published: the relay's unsigned policy applied"
	}
	ch, err := trust.VerifyChain(chain, r.Time)
	if err != nil {
		return fmt.Sprintf("the stored trust root chain does not verify: %v", err)
	}
	fp, err := trust.ParseFingerprint(r.Details[detailTrustRoot])
	if err != nil || ch.Index(fp) < 0 {
		return fmt.Sprintf("the trust root %q recorded for it is not in the stored chain", r.Details[detailTrustRoot])
	}
	doc, err := findPolicy(docs, hash)
	if err != nil {
		return err.Error()
	}
	_, d, err := trust.Open[*trust.PolicyBody](ch.Roots[ch.Index(fp)], doc, r.Time)
	if err != nil {
		return fmt.Sprintf("the policy in force (SHA-256 %s) is not validly signed: %v", hash, err)
	}
	if strconv.FormatUint(d.Version, 10) != version {
		return fmt.Sprintf("the policy in force is version %d, but version %q was recorded", d.Version, version)
	}
	return ""
}

// findPolicy returns the policy document with SHA-256 hash (hex), from the
// archive or the stored policy.
func findPolicy(docs trustDocs, hash string) ([]byte, error) {
	if _, err := hex.DecodeString(hash); err != nil || len(hash) != 2*sha256.Size {
		return nil, fmt.Errorf("the recorded policy hash %q is malformed", hash)
	}
	candidates := [][]byte{}
	if b, found, err := docs.read(archivedPolicyName(hash)); err == nil && found {
		candidates = append(candidates, b)
	}
	if b, found, err := docs.read(trustPolicyName); err == nil && found {
		var p api.TrustPolicy
		if json.Unmarshal(b, &p) == nil {
			candidates = append(candidates, p.Document)
		}
	}
	for _, doc := range candidates {
		sum := sha256.Sum256(doc)
		if hex.EncodeToString(sum[:]) == hash {
			return doc, nil
		}
	}
	return nil, fmt.Errorf("the policy in force (SHA-256 %s) is neither in the policy archive nor the stored policy: it was never accepted", hash)
}
