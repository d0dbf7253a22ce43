package relay

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/rbac"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/trust"
)

// callBody sends one JSON request as u and returns the status and body.
func callBody(t *testing.T, s *Server, u *store.User, method, path string, body any) (int, string) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(method, path, strings.NewReader(string(b)))
	tok, err := s.issueToken(u)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(protocol.HeaderAuthorization, protocol.BearerPrefix+tok.Token)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req.WithContext(ctx))
	return rec.Code, rec.Body.String()
}

// rootDoc is a root over keys with threshold, signed by signers.
func rootDoc(t *testing.T, threshold uint8, keys []*trust.PrivateKey, signers ...*trust.PrivateKey) (*trust.RootBody, []byte) {
	t.Helper()
	var pubs []*trust.PublicKey
	for _, k := range keys {
		pubs = append(pubs, k.Public())
	}
	rb, err := trust.NewRootBody("Org", threshold, pubs...)
	if err != nil {
		t.Fatal(err)
	}
	return rb, signedDoc(t, rb, 1, time.Now(), time.Time{}, signers...)
}

// changeDoc replaces prev with next at version v, signed by signers.
func changeDoc(t *testing.T, prev, next *trust.RootBody, v uint64, signers ...*trust.PrivateKey) []byte {
	t.Helper()
	fp, _ := prev.Fingerprint()
	return signedDoc(t, &trust.RootChangeBody{Previous: fp, New: next}, v, time.Now(), time.Time{}, signers...)
}

// TestTrustRootPublish: the first document must be a root signed by its
// own threshold, later ones changes the newest root accepts; the chain is
// served to anyone, and enrollment tokens carry the newest fingerprint.
func TestTrustRootPublish(t *testing.T) {
	s := newTestServer(t)
	root, err := s.db.UserByName("root")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := trust.GenerateKey(nil)
	b, _ := trust.GenerateKey(nil)
	r1, doc1 := rootDoc(t, 1, []*trust.PrivateKey{a}, a)
	_, foreign := rootDoc(t, 1, []*trust.PrivateKey{b}, b)
	_, unsigned := rootDoc(t, 2, []*trust.PrivateKey{a, b}, a)
	r2, _ := rootDoc(t, 2, []*trust.PrivateKey{a, b})
	fp1, _ := r1.Fingerprint()
	fp2, _ := r2.Fingerprint()

	steps := []struct {
		name   string
		doc    []byte
		status int
		want   string
	}{
		{"a root below its own threshold", unsigned, http.StatusBadRequest, "not signed by enough"},
		{"the root", doc1, http.StatusOK, fp1.String()},
		{"a second root", foreign, http.StatusConflict, "root change"},
		{"a change signed by a stranger", changeDoc(t, r1, r2, 2, b), http.StatusConflict, "not signed by enough"},
		{"a change signed by the threshold", changeDoc(t, r1, r2, 2, a), http.StatusOK, fp2.String()},
		{"a change below the new threshold", changeDoc(t, r2, r1, 3, a), http.StatusConflict, "1 valid of 2 required"},
	}
	for _, st := range steps {
		code, body := callBody(t, s, root, http.MethodPut, protocol.PathTrustRoot, api.TrustPublish{Document: st.doc})
		if code != st.status || !strings.Contains(body, st.want) {
			t.Errorf("%s: got %d %s, want %d %q", st.name, code, body, st.status, st.want)
		}
	}

	code, body := call(t, s, nil, http.MethodGet, protocol.PathTrustRoot)
	var c api.TrustChain
	if code != http.StatusOK || json.Unmarshal([]byte(body), &c) != nil || len(c.Documents) != 2 {
		t.Fatalf("GET chain: %d %s", code, body)
	}
	got, err := trust.Follow(c.Documents, fp1, time.Now())
	if err != nil || got.Fingerprint != fp2 {
		t.Fatalf("served chain follows to %v, %v; want %s", got, err, fp2)
	}

	code, body = callBody(t, s, root, http.MethodPost, protocol.PathEnrollToken, api.EnrollTokenRequest{})
	var tok api.EnrollTokenResponse
	if code != http.StatusOK || json.Unmarshal([]byte(body), &tok) != nil {
		t.Fatalf("enroll-token: %d %s", code, body)
	}
	if parts := strings.Split(tok.Token, "."); len(parts) != 3 || "SHA256:"+parts[2] != fp2.String() {
		t.Errorf("token %q does not end with the root fingerprint %s", tok.Token, fp2)
	}
}

// TestEnrollTokenWithoutRoot: without a root the token is as before.
func TestEnrollTokenWithoutRoot(t *testing.T) {
	s := newTestServer(t)
	root, _ := s.db.UserByName("root")
	_, body := callBody(t, s, root, http.MethodPost, protocol.PathEnrollToken, api.EnrollTokenRequest{})
	var tok api.EnrollTokenResponse
	json.Unmarshal([]byte(body), &tok)
	if n := strings.Count(tok.Token, "."); n != 1 {
		t.Errorf("token %q has %d dots, want 1", tok.Token, n)
	}
}

func TestWithoutWildcardGrant(t *testing.T) {
	tests := []struct {
		name    string
		role    rbac.Role
		changed bool
		has     bool
	}{
		{"everything", rbac.Role{Name: "all", Allow: []string{"*"}}, true, false},
		{"trust wildcard", rbac.Role{Name: "tw", Allow: []string{"trust.*", "audit.read"}}, true, false},
		{"named explicitly", rbac.Role{Name: "named", Allow: []string{"*", "trust.manage"}}, false, true},
		{"denied", rbac.Role{Name: "den", Allow: []string{"*"}, Deny: []string{"trust.manage"}}, false, false},
		{"no wildcard", rbac.Role{Name: "sess", Allow: []string{"session.start"}}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			allow, changed := withoutWildcardGrant(tt.role, rbac.TrustManage)
			after := rbac.Role{Name: tt.role.Name, Allow: allow, Deny: tt.role.Deny}
			if changed != tt.changed || rbac.Effective([]rbac.Role{after}).Has(rbac.TrustManage) != tt.has {
				t.Errorf("changed %v allow %v; want changed %v, trust.manage %v", changed, allow, tt.changed, tt.has)
			}
			if err := rbac.ValidateRole(after); err != nil {
				t.Errorf("migrated role invalid: %v", err)
			}
			before := rbac.Effective([]rbac.Role{tt.role})
			for _, p := range rbac.All() {
				if p != rbac.TrustManage && before.Has(p) != rbac.Effective([]rbac.Role{after}).Has(p) {
					t.Errorf("%s changed", p)
				}
			}
		})
	}
}

// TestTrustMigrationOfAnExistingDatabase: a custom role that held "*"
// before trust.manage existed does not gain it when the relay upgrades.
func TestTrustMigrationOfAnExistingDatabase(t *testing.T) {
	dir := t.TempDir()
	if _, err := Init(context.Background(), InitOptions{Dir: dir, Admin: "root", Password: []byte("a long test passphrase")}); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(dbPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutRole(&store.Role{Name: "chief", Allow: []string{"*"}, Deny: []string{"emergency.use"}}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	b, err := bolt.Open(dbPath(dir), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("meta")).Delete([]byte(metaTrustMigrated)) }); err != nil {
		t.Fatal(err)
	}
	b.Close()
	s, err := New(Config{DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	chief, err := s.accounts.Role("chief")
	if err != nil {
		t.Fatal(err)
	}
	eff := rbac.Effective([]rbac.Role{chief})
	if eff.Has(rbac.TrustManage) || !eff.Has(rbac.RecordingRecipients) || eff.Has(rbac.EmergencyUse) {
		t.Errorf("chief after the migration: %v", eff.List())
	}
}
