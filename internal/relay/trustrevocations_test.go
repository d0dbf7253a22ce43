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

// revocationDoc is a revocation list at version v revoking admins, signed
// by signers.
func revocationDoc(t *testing.T, v uint64, admins []trust.KeyID, signers ...*trust.PrivateKey) []byte {
	t.Helper()
	exp := time.Now().Add(24 * time.Hour)
	return signedDoc(t, trust.NewRevocationBody(nil, nil, admins), v, exp.Add(-48*time.Hour), exp, signers...)
}

// TestTrustRevocationsPublish: a revocation list needs a root, the root's
// threshold without the keys it revokes, and a version above the
// published one; the newest is served to anyone and every attempt audited.
func TestTrustRevocationsPublish(t *testing.T) {
	s := newTestServer(t)
	root, err := s.db.UserByName("root")
	if err != nil {
		t.Fatal(err)
	}
	code, body := call(t, s, nil, http.MethodGet, protocol.PathTrustRevocations)
	if code != http.StatusOK || strings.TrimSpace(body) != `{"document":null}` {
		t.Fatalf("GET with none published: %d %s", code, body)
	}
	a, _ := trust.GenerateKey(nil)
	b, _ := trust.GenerateKey(nil)
	v1 := revocationDoc(t, 1, nil, a)
	if code, body := callBody(t, s, root, http.MethodPut, protocol.PathTrustRevocations, api.TrustPublish{Document: v1}); code != http.StatusConflict || !strings.Contains(body, "no trust root") {
		t.Fatalf("list before a root: %d %s", code, body)
	}
	_, rdoc := rootDoc(t, 1, []*trust.PrivateKey{a, b}, a)
	if code, body := callBody(t, s, root, http.MethodPut, protocol.PathTrustRoot, api.TrustPublish{Document: rdoc}); code != http.StatusOK {
		t.Fatalf("root: %d %s", code, body)
	}
	stranger, _ := trust.GenerateKey(nil)
	v3 := revocationDoc(t, 3, []trust.KeyID{a.Public().ID()}, b)
	steps := []struct {
		name   string
		doc    []byte
		status int
		want   string
	}{
		{"signed by a stranger", revocationDoc(t, 1, nil, stranger), http.StatusBadRequest, "not signed by enough"},
		{"signed by the key it revokes", revocationDoc(t, 1, []trust.KeyID{a.Public().ID()}, a), http.StatusBadRequest, "not signed by enough"},
		{"not a revocation list", rdoc, http.StatusBadRequest, "revocation list"},
		{"version 1", v1, http.StatusOK, `"version":1`},
		{"version 1 again", v1, http.StatusConflict, "version 1 is not above the published version 1"},
		{"version 3", v3, http.StatusOK, `"version":3`},
		{"version 2 after 3", revocationDoc(t, 2, nil, a), http.StatusConflict, "not above the published version 3"},
	}
	for _, st := range steps {
		code, body := callBody(t, s, root, http.MethodPut, protocol.PathTrustRevocations, api.TrustPublish{Document: st.doc})
		if code != st.status || !strings.Contains(body, st.want) {
			t.Errorf("%s: got %d %s, want %d %q", st.name, code, body, st.status, st.want)
		}
	}
	var ok, failed int
	s.db.AuditRecords(0, func(r *store.AuditRecord) error {
		if r.Action != "trust.revocation.publish" {
			return nil
		}
		if r.Outcome == "success" {
			ok++
			if r.Details["signers"] == "" || r.Details["version"] == "" {
				t.Errorf("audit entry %+v lacks the version or the signers' key IDs", r.Details)
			}
		} else {
			failed++
		}
		return nil
	})
	if ok != 2 || failed != 6 {
		t.Errorf("audited %d successes and %d failures of trust.revocation.publish, want 2 and 6", ok, failed)
	}
	code, body = call(t, s, nil, http.MethodGet, protocol.PathTrustRevocations)
	var v api.TrustRevocations
	if code != http.StatusOK || json.Unmarshal([]byte(body), &v) != nil || !slices.Equal(v.Document, v3) {
		t.Fatalf("GET serves %d %.80s, want version 3", code, body)
	}
}
