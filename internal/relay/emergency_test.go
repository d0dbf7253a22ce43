package relay

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/identity"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/token"
)

// callToken sends GET path with a bearer token and returns status and body.
func callToken(t *testing.T, s *Server, tok, path string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set(protocol.HeaderAuthorization, protocol.BearerPrefix+tok)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req.WithContext(ctx))
	return rec.Code, rec.Body.String()
}

// issue writes a grant for a new token, as relay emergency-access does.
func issue(t *testing.T, dir string, ttl time.Duration) (string, [32]byte) {
	t.Helper()
	raw, err := token.New(token.LoginPrefix)
	if err != nil {
		t.Fatal(err)
	}
	h := token.Hash(raw)
	n := time.Now().UTC()
	if err := identity.WriteGrant(dir, h, identity.EmergencyGrant{Reason: "INC-7", CreatedAt: n, ExpiresAt: n.Add(ttl)}); err != nil {
		t.Fatal(err)
	}
	return raw, h
}

// grantFile is a grant file's stored form, {"grant": ..., "mac": ...},
// spelled out here so that the tests pin the format on disk.
type grantFile struct {
	Grant json.RawMessage `json:"grant"`
	MAC   []byte          `json:"mac"`
}

// editGrant rewrites the grant inside a grant file, keeping its MAC.
func editGrant(t *testing.T, path string, f func(*identity.EmergencyGrant)) {
	t.Helper()
	var gf grantFile
	if err := json.Unmarshal([]byte(readFile(t, path)), &gf); err != nil {
		t.Fatal(err)
	}
	var g identity.EmergencyGrant
	json.Unmarshal(gf.Grant, &g)
	f(&g)
	gf.Grant, _ = json.Marshal(g)
	b, _ := json.Marshal(gf)
	writeFile(t, path, b)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestEmergencyGrantIntegrity: a grant file is honoured only as written;
// an edited, truncated, copied, unauthenticated or re-keyed one is refused
// with one clear message and audited.
func TestEmergencyGrantIntegrity(t *testing.T) {
	t.Parallel()
	const tampered = "failed the integrity check"
	cases := []struct {
		name   string
		tamper func(t *testing.T, dir string, tok string, h [32]byte) string // returns the token to use
		status int
		want   string
	}{
		{"untouched", func(*testing.T, string, string, [32]byte) string { return "" }, http.StatusOK, `"emergency"`},
		{"expiry extended", func(t *testing.T, dir, _ string, h [32]byte) string {
			editGrant(t, identity.EmergencyPath(dir, h), func(g *identity.EmergencyGrant) { g.ExpiresAt = g.ExpiresAt.Add(24 * time.Hour) })
			return ""
		}, http.StatusUnauthorized, tampered},
		{"reason edited", func(t *testing.T, dir, _ string, h [32]byte) string {
			editGrant(t, identity.EmergencyPath(dir, h), func(g *identity.EmergencyGrant) { g.Reason = "nothing to see" })
			return ""
		}, http.StatusUnauthorized, tampered},
		{"truncated", func(t *testing.T, dir, _ string, h [32]byte) string {
			b := readFile(t, identity.EmergencyPath(dir, h))
			writeFile(t, identity.EmergencyPath(dir, h), []byte(b[:len(b)/2]))
			return ""
		}, http.StatusUnauthorized, tampered},
		{"empty", func(t *testing.T, dir, _ string, h [32]byte) string {
			writeFile(t, identity.EmergencyPath(dir, h), nil)
			return ""
		}, http.StatusUnauthorized, tampered},
		{"copied to another token", func(t *testing.T, dir, _ string, h [32]byte) string {
			other, err := token.New(token.LoginPrefix)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, identity.EmergencyPath(dir, token.Hash(other)), []byte(readFile(t, identity.EmergencyPath(dir, h))))
			return other
		}, http.StatusUnauthorized, tampered},
		{"old format without MAC", func(t *testing.T, dir, _ string, h [32]byte) string {
			n := time.Now().UTC()
			b, _ := json.Marshal(identity.EmergencyGrant{Reason: "forged", CreatedAt: n, ExpiresAt: n.Add(time.Hour)})
			writeFile(t, identity.EmergencyPath(dir, h), b)
			return ""
		}, http.StatusUnauthorized, tampered},
		{"MAC removed", func(t *testing.T, dir, _ string, h [32]byte) string {
			var gf grantFile
			json.Unmarshal([]byte(readFile(t, identity.EmergencyPath(dir, h))), &gf)
			gf.MAC = nil
			b, _ := json.Marshal(gf)
			writeFile(t, identity.EmergencyPath(dir, h), b)
			return ""
		}, http.StatusUnauthorized, tampered},
		{"grant key replaced", func(t *testing.T, dir, _ string, h [32]byte) string {
			writeFile(t, identity.GrantKeyPath(dir), randBytes(32))
			return ""
		}, http.StatusUnauthorized, tampered},
		{"grant key removed", func(t *testing.T, dir, _ string, h [32]byte) string {
			os.Remove(identity.GrantKeyPath(dir))
			return ""
		}, http.StatusUnauthorized, tampered},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newTestServer(t)
			tok, h := issue(t, s.cfg.DataDir, 10*time.Minute)
			if other := tc.tamper(t, s.cfg.DataDir, tok, h); other != "" {
				tok = other
			}
			code, body := callToken(t, s, tok, protocol.PathWhoami)
			if code != tc.status || !strings.Contains(body, tc.want) {
				t.Errorf("got %d %s; want %d and %q", code, body, tc.status, tc.want)
			}
			if tc.status == http.StatusOK {
				return
			}
			found := false
			s.db.AuditRecords(0, func(r *store.AuditRecord) error {
				found = found || r.Action == "emergency.tampered"
				return nil
			})
			if !found {
				t.Error("no emergency.tampered audit entry")
			}
		})
	}
}
