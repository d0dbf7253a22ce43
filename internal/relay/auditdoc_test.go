package relay

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/trust"
)

// TestSignedDocumentAuditDetails: every accepted or refused signed
// document (root, root change, policy, technician certificate) is audited
// with the same detail keys: its hash, kind, version, expiry and signers.
func TestSignedDocumentAuditDetails(t *testing.T) {
	s := newTestServer(t)
	root, err := s.db.UserByName("root")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := trust.GenerateKey(nil)
	b, _ := trust.GenerateKey(nil)
	techKey, _ := trust.GenerateKey(nil)
	later := time.Now().Add(time.Hour)
	r1, doc1 := rootDoc(t, 1, []*trust.PrivateKey{a}, a)
	r2, _ := rootDoc(t, 1, []*trust.PrivateKey{a, b})
	change := changeDoc(t, r1, r2, 2, a)
	policy := policyDoc(t, 1, later, a)
	cert := certDoc(t, "root", techKey, later, a)
	stranger := policyDoc(t, 2, later, techKey)
	if code, body := callBody(t, s, root, http.MethodPut, protocol.PathTrustTechKey, api.TechKey{Key: techKey.Public().Bytes()}); code != http.StatusOK {
		t.Fatalf("upload key: %d %s", code, body)
	}
	steps := []struct {
		path, action, kind string
		doc                []byte
		outcome            string
	}{
		{protocol.PathTrustRoot, "trust.root.publish", "root", doc1, "success"},
		{protocol.PathTrustRoot, "trust.root.change", "root-change", change, "success"},
		{protocol.PathTrustPolicy, "trust.policy.publish", "policy", policy, "success"},
		{protocol.PathTrustPolicy, "trust.policy.publish", "policy", stranger, "failure"},
		{protocol.PathTrustCerts + "/root", "trust.cert.issue", "tech-cert", cert, "success"},
	}
	for _, st := range steps {
		callBody(t, s, root, http.MethodPut, st.path, api.TrustPublish{Document: st.doc})
		rec := lastAuditRecord(t, s)
		sum := sha256.Sum256(st.doc)
		d := rec.Details
		if rec.Action != st.action || rec.Outcome != st.outcome {
			t.Errorf("%s: audited %s %s, want %s %s", st.kind, rec.Action, rec.Outcome, st.action, st.outcome)
		}
		if d[detailDocHash] != hex.EncodeToString(sum[:]) || d[detailDocKind] != st.kind || d[detailDocVersion] == "" || d[detailDocSigners] == "" {
			t.Errorf("%s: details %v lack the document's hash, kind, version or signers", st.kind, d)
		}
		if _, ok := d[detailDocExpiry]; !ok {
			t.Errorf("%s: details %v lack the expiry key", st.kind, d)
		}
	}
}

// lastAuditRecord is the newest entry of s's audit log.
func lastAuditRecord(t *testing.T, s *Server) store.AuditRecord {
	t.Helper()
	var last store.AuditRecord
	s.db.AuditRecords(0, func(r *store.AuditRecord) error { last = *r; return nil })
	return last
}

// TestDocumentDetailsUndecodable: a refused upload that is not a document
// still names its hash.
func TestDocumentDetailsUndecodable(t *testing.T) {
	kv := documentDetails([]byte("garbage"), "reason", "bad")
	want := sha256.Sum256([]byte("garbage"))
	if len(kv) != 4 || kv[0] != detailDocHash || kv[1] != hex.EncodeToString(want[:]) || kv[2] != "reason" {
		t.Fatalf("documentDetails(garbage) = %v", kv)
	}
}
