package relay

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/trust"
)

// policyDoc is a policy at version v expiring at exp, signed by signers.
func policyDoc(t *testing.T, v uint64, exp time.Time, signers ...*trust.PrivateKey) []byte {
	t.Helper()
	body := &trust.PolicyBody{Recipients: []string{"tether-rec1-test"}, IdleSeconds: 900, AbsoluteSeconds: 3600}
	return signedDoc(t, body, v, exp.Add(-48*time.Hour), exp, signers...)
}

// TestTrustPolicyPublish: a policy needs a root, the root's threshold, no
// expiry in the past and a version above the published one; the newest
// is served to anyone.
func TestTrustPolicyPublish(t *testing.T) {
	s := newTestServer(t)
	root, err := s.db.UserByName("root")
	if err != nil {
		t.Fatal(err)
	}
	code, body := call(t, s, nil, http.MethodGet, protocol.PathTrustPolicy)
	if code != http.StatusOK || strings.TrimSpace(body) != `{"document":null}` {
		t.Fatalf("GET with none published: %d %s", code, body)
	}
	a, _ := trust.GenerateKey(nil)
	b, _ := trust.GenerateKey(nil)
	later := time.Now().Add(24 * time.Hour)
	v1 := policyDoc(t, 1, later, a)
	if code, body := callBody(t, s, root, http.MethodPut, protocol.PathTrustPolicy, api.TrustPublish{Document: v1}); code != http.StatusConflict || !strings.Contains(body, "no trust root") {
		t.Fatalf("policy before a root: %d %s", code, body)
	}
	_, rdoc := rootDoc(t, 1, []*trust.PrivateKey{a}, a)
	if code, body := callBody(t, s, root, http.MethodPut, protocol.PathTrustRoot, api.TrustPublish{Document: rdoc}); code != http.StatusOK {
		t.Fatalf("root: %d %s", code, body)
	}
	v3 := policyDoc(t, 3, later, a)
	steps := []struct {
		name   string
		doc    []byte
		status int
		want   string
	}{
		{"signed by a stranger", policyDoc(t, 1, later, b), http.StatusBadRequest, "not signed by enough"},
		{"expired", policyDoc(t, 1, time.Now().Add(-time.Hour), a), http.StatusBadRequest, "expired"},
		{"not a policy", rdoc, http.StatusBadRequest, "signed policy"},
		{"version 1", v1, http.StatusOK, `"version":1`},
		{"version 1 again", v1, http.StatusConflict, "version 1 is not above the published version 1"},
		{"version 3", v3, http.StatusOK, `"version":3`},
		{"version 2 after 3", policyDoc(t, 2, later, a), http.StatusConflict, "not above the published version 3"},
	}
	for _, st := range steps {
		code, body := callBody(t, s, root, http.MethodPut, protocol.PathTrustPolicy, api.TrustPublish{Document: st.doc})
		if code != st.status || !strings.Contains(body, st.want) {
			t.Errorf("%s: got %d %s, want %d %q", st.name, code, body, st.status, st.want)
		}
	}
	var ok, failed int
	s.db.AuditRecords(0, func(r *store.AuditRecord) error {
		if r.Action != "trust.policy.publish" {
			return nil
		}
		if r.Outcome == "success" {
			ok++
			if r.Details["signers"] != a.Public().ID().String() || r.Details["version"] == "" {
				t.Errorf("audit entry %+v lacks the version or the signer's key ID", r.Details)
			}
		} else {
			failed++
		}
		return nil
	})
	if ok != 2 || failed != 6 {
		t.Errorf("audited %d successes and %d failures of trust.policy.publish, want 2 and 6", ok, failed)
	}
	code, body = call(t, s, nil, http.MethodGet, protocol.PathTrustPolicy)
	var p api.TrustPolicy
	if code != http.StatusOK || json.Unmarshal([]byte(body), &p) != nil || !slices.Equal(p.Document, v3) {
		t.Fatalf("GET serves %d %.80s, want version 3", code, body)
	}
}

// TestPolicyDraft: the draft is the relay's settings: its recipients,
// limits, unattended groups and each role's capabilities.
func TestPolicyDraft(t *testing.T) {
	s := newTestServer(t)
	if err := s.saveRecipients([]api.Recipient{{Key: "tether-rec1-b"}, {Key: "tether-rec1-a"}}); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{"servers": policyUnattended, "desks": policyConsent})
	if err := s.db.PutMeta(metaGroupPolicies, b); err != nil {
		t.Fatal(err)
	}
	d, err := s.policyDraft()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Recipients, []string{"tether-rec1-a", "tether-rec1-b"}) || !slices.Equal(d.UnattendedGroups, []string{"servers"}) {
		t.Errorf("recipients %v, unattended %v", d.Recipients, d.UnattendedGroups)
	}
	if d.IdleSeconds != uint32(s.cfg.IdleTimeout/time.Second) || d.AbsoluteSeconds != uint32(s.cfg.MaxSession/time.Second) {
		t.Errorf("limits %d, %d; want the relay's", d.IdleSeconds, d.AbsoluteSeconds)
	}
	if c := d.Ceilings["superadmin"]; !slices.Contains(c, protocol.CapShell) || !slices.Contains(c, protocol.CapClipboard) {
		t.Errorf("superadmin ceiling %v", c)
	}
	if c, ok := d.Ceilings["auditor"]; ok && len(c) != 0 {
		t.Errorf("auditor ceiling %v; want none", c)
	}
}
