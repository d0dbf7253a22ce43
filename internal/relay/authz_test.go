package relay

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/rbac"
	"github.com/tether-support/tether/internal/store"
)

// wantPerm is the authorization rule of every endpoint, written out by hand
// so that the route table is checked against an independent statement. A
// route without a rule here fails TestAuthorizationMatrix.
var wantPerm = map[string]rbac.Permission{
	"GET /healthz":                           permPublic,
	"GET /readyz":                            permPublic, // load balancers probe it
	"GET /v1/audit/search":                   rbac.AuditRead,
	"GET /v1/reports/sessions":               rbac.AuditRead,
	"POST /v1/login":                         permPublic,
	"POST /v1/agent/enroll":                  permPublic, // the enrollment token is the credential
	"GET /v1/agent/control":                  permPublic, // device key challenge-response
	"GET /v1/agent/session":                  permPublic, // per-session attach token
	"GET /v1/agent/join":                     permPublic, // one-time join code
	"GET /v1/trust/root":                     permPublic, // public documents, verified by whoever reads them
	"PUT /v1/trust/root":                     rbac.TrustManage,
	"PUT /v1/trust/tech-key":                 permAuthenticated, // the caller's own key
	"GET /v1/trust/cert":                     permAuthenticated, // the caller's own certificate
	"GET /v1/trust/certs/{name}":             rbac.UserManage,
	"PUT /v1/trust/certs/{name}":             rbac.UserManage, // and the root's signatures
	"GET /v1/trust/policy":                   permPublic,      // the signed policy, verified by whoever reads it
	"PUT /v1/trust/policy":                   rbac.TrustManage,
	"GET /v1/trust/policy/draft":             rbac.TrustManage,
	"GET /v1/trust/revocations":              permPublic, // the signed revocation list, verified by whoever reads it
	"PUT /v1/trust/revocations":              rbac.TrustManage,
	"POST /v1/logout":                        permAuthenticated,
	"GET /v1/whoami":                         permAuthenticated,
	"POST /v1/passwd":                        permAuthenticated,
	"POST /v1/mfa/enroll":                    permAuthenticated,
	"POST /v1/mfa/confirm":                   permAuthenticated,
	"POST /v1/mfa/disable":                   permAuthenticated,
	"GET /v1/policy":                         permAuthenticated,
	"GET /v1/orgs":                           permAuthenticated,
	"GET /v1/devices":                        permAuthenticated,
	"GET /v1/sessions":                       permAuthenticated, // filtered: own sessions, all with session.view_all
	"GET /v1/sessions/{id}":                  permAuthenticated, // likewise
	"POST /v1/devices/enroll-token":          rbac.DeviceEnroll,
	"POST /v1/devices/groups/{group}":        rbac.DeviceManage,
	"DELETE /v1/users/{name}":                rbac.UserManage,
	"POST /v1/devices/by-name/{name}/revoke": rbac.DeviceManage,
	"DELETE /v1/devices/by-name/{name}":      rbac.DeviceManage,
	"POST /v1/devices/by-name/{name}/rename": rbac.DeviceManage,
	"POST /v1/devices/by-name/{name}/group":  rbac.DeviceManage,
	"GET /v1/tech/session":                   rbac.SessionStart,
	"POST /v1/sessions/{id}/kill":            rbac.SessionTerminate,
	"GET /v1/recordings/recipients":          rbac.RecordingList,
	"POST /v1/recordings/recipients":         rbac.RecordingRecipients,
	"DELETE /v1/recordings/recipients/{id}":  rbac.RecordingRecipients,
	"GET /v1/recordings":                     rbac.RecordingList,
	"GET /v1/recordings/{id}":                rbac.RecordingReview,
	"POST /v1/recordings/{id}/hold":          rbac.RecordingHold,
	"POST /v1/recordings/{id}/release":       rbac.RecordingHold,
	"GET /v1/audit/export":                   rbac.AuditExport,
	"POST /v1/audit/checkpoints":             rbac.AuditExport,
	"POST /v1/policy":                        rbac.PolicyManage,
	"POST /v1/orgs":                          rbac.PolicyManage,
	"GET /v1/roles":                          rbac.RoleManage,
	"POST /v1/roles":                         rbac.RoleManage,
	"DELETE /v1/roles/{name}":                rbac.RoleManage,
	"GET /v1/users":                          rbac.UserManage,
	"POST /v1/users":                         rbac.UserManage,
	"POST /v1/users/{name}/unlock":           rbac.UserManage,
	"POST /v1/users/{name}/reset-password":   rbac.UserManage,
	"POST /v1/users/{name}/disable":          rbac.UserManage,
	"POST /v1/users/{name}/enable":           rbac.UserManage,
	"POST /v1/users/{name}/approve":          rbac.UserManage,
	"POST /v1/users/{name}/roles":            rbac.UserManage,
	"DELETE /v1/users/{name}/roles/{role}":   rbac.UserManage,
	"POST /v1/users/{name}/groups":           rbac.UserManage,
	"POST /v1/users/{name}/orgs":             rbac.UserManage,
	"DELETE /v1/users/{name}/orgs/{org}":     rbac.UserManage,
	"POST /v1/users/{name}/email":            rbac.UserManage,
	"POST /v1/users/{name}/mfa/reset":        rbac.UserManage,
	"POST /v1/cluster/offer":                 permClusterPeer, // the cluster certificate, no user
	"GET /v1/cluster/agent-session":          permClusterPeer,
	"POST /v1/cluster/sessions/{id}/end":     permClusterPeer,
	"POST /v1/cluster/devices/{id}/close":    permClusterPeer,
	"POST /v1/cluster/devices/{id}/replace":  permClusterPeer,
}

// newTestServer initialises a data directory and opens a relay on it
// (without listening).
func newTestServer(t testing.TB) *Server {
	t.Helper()
	dir := t.TempDir()
	if _, err := Init(context.Background(), InitOptions{Dir: dir, Admin: "root", Password: []byte("a long test passphrase")}); err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// addUser stores an active user holding roles.
func addUser(t *testing.T, s *Server, name string, roles ...string) *store.User {
	t.Helper()
	u := &store.User{Username: name, Roles: roles, State: store.UserActive, PasswordChangedAt: now()}
	if err := s.db.CreateUser(u); err != nil {
		t.Fatal(err)
	}
	return u
}

// call sends one request as u (no token if u is nil) and returns the status
// and body.
func call(t *testing.T, s *Server, u *store.User, method, path string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader("{}"))
	if u != nil {
		resp, err := s.issueToken(u)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(protocol.HeaderAuthorization, protocol.BearerPrefix+resp.Token)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req.WithContext(ctx))
	return rec.Code, rec.Body.String()
}

// TestAuthorizationMatrix checks every endpoint of the route table against
// every built-in role: the route's permission matches wantPerm, holders of
// the permission get past the check, everyone else gets 403, and nobody
// gets in without a token.
func TestAuthorizationMatrix(t *testing.T) {
	s := newTestServer(t)
	users := map[string]*store.User{}
	for _, r := range rbac.Builtin() {
		users[r.Name] = addUser(t, s, "as-"+r.Name, r.Name)
	}
	for _, rt := range s.routes() {
		want, ok := wantPerm[rt.pattern]
		if !ok {
			t.Errorf("route %q has no rule in wantPerm: add one", rt.pattern)
			continue
		}
		if rt.perm != want {
			t.Errorf("route %q needs %q, want %q", rt.pattern, rt.perm, want)
		}
		if want == permPublic {
			continue
		}
		method, path, _ := strings.Cut(rt.pattern, " ")
		path = strings.NewReplacer("{id}", "x", "{name}", "nobody", "{role}", "x", "{org}", "x").Replace(path)
		if want == permClusterPeer {
			// No user's token opens a peer endpoint, a superadmin's
			// included; this relay (bbolt) has no cluster at all.
			for _, u := range []*store.User{nil, users[rbac.Superadmin]} {
				if code, body := call(t, s, u, method, path); code != http.StatusForbidden || !strings.Contains(body, "not a relay of this cluster") {
					t.Errorf("%s as %v: got %d %s, want 403 not a relay of this cluster", rt.pattern, u != nil, code, body)
				}
			}
			continue
		}
		if code, _ := call(t, s, nil, method, path); code != http.StatusUnauthorized {
			t.Errorf("%s without a token: got status %d, want 401", rt.pattern, code)
		}
		for _, role := range rbac.Builtin() {
			allowed := want == permAuthenticated || rbac.Effective([]rbac.Role{role}).Has(want)
			code, body := call(t, s, users[role.Name], method, path)
			denied := code == http.StatusForbidden && strings.Contains(body, "permission denied: "+string(want)+" is required")
			if denied == allowed {
				t.Errorf("%s as %s: got status %d %s, want allowed=%v", rt.pattern, role.Name, code, strings.TrimSpace(body), allowed)
			}
		}
	}
}

// TestBuiltinMatrixSpotChecks pins a few cells of the matrix by hand, so a
// change to the built-in roles that weakens separation of duties fails.
func TestBuiltinMatrixSpotChecks(t *testing.T) {
	tests := []struct {
		role string
		perm rbac.Permission
		want bool
	}{
		{rbac.Technician, rbac.SessionUnattended, true},
		{rbac.Technician, rbac.UserManage, false},
		{rbac.Technician, rbac.AuditRead, false},
		{rbac.Auditor, rbac.SessionStart, false},
		{rbac.Auditor, rbac.RecordingReview, true},
		{rbac.Admin, rbac.UserManage, true},
		{rbac.Admin, rbac.EmergencyUse, false},
		{rbac.Admin, rbac.RecordingReview, false},
		{rbac.Superadmin, rbac.EmergencyUse, true},
	}
	s := newTestServer(t)
	for _, tc := range tests {
		got := s.accounts.Permissions(&store.User{Roles: []string{tc.role}}).Has(tc.perm)
		if got != tc.want {
			t.Errorf("%s has %s: got %v, want %v", tc.role, tc.perm, got, tc.want)
		}
	}
}

// TestDenyBeatsAllowAcrossRoles holds a built-in role that allows and a
// custom role that denies.
func TestDenyBeatsAllowAcrossRoles(t *testing.T) {
	s := newTestServer(t)
	if err := s.db.PutRole(&store.Role{Name: "no-enroll", Deny: []string{string(rbac.DeviceEnroll)}}); err != nil {
		t.Fatal(err)
	}
	u := addUser(t, s, "tech1", rbac.Technician, "no-enroll")
	code, body := call(t, s, u, http.MethodPost, protocol.PathEnrollToken)
	if code != http.StatusForbidden || !strings.Contains(body, "device.enroll") {
		t.Fatalf("got %d %s, want 403 naming device.enroll", code, body)
	}
}
