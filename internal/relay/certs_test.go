package relay

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/tlsconf"
)

// openRelay opens (without listening) the relay on dir.
func openRelay(t *testing.T, dir string) *Server {
	t.Helper()
	s, err := New(Config{DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// auditActions returns the actions and targets of s's audit log.
func auditActions(t *testing.T, s *Server) []string {
	t.Helper()
	var out []string
	err := s.db.AuditRecords(0, func(r *store.AuditRecord) error {
		out = append(out, r.Action+" "+r.Target)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func hasEntry(entries []string, want string) bool {
	for _, e := range entries {
		if e == want {
			return true
		}
	}
	return false
}

// TestCertRotationOffline: a rotation made while the relay is stopped is
// announced at its start, and switched to at the start after it is due;
// both audited.
func TestCertRotationOffline(t *testing.T) {
	t.Parallel()
	first := newTestServer(t)
	dir := first.cfg.DataDir
	first.Close()
	old, err := fingerprint(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := RotateCert(dir, time.Hour)
	if err != nil {
		t.Fatalf("RotateCert: %v", err)
	}
	s := openRelay(t, dir)
	if s.Fingerprint() != old || s.certs.Load().next != r.Next {
		t.Errorf("serving %s announcing %q; want %s and %s", s.Fingerprint(), s.certs.Load().next, old, r.Next)
	}
	if !hasEntry(auditActions(t, s), "relay.cert.announce "+r.Next) {
		t.Errorf("no relay.cert.announce entry in %v", auditActions(t, s))
	}
	s.Close()

	if _, err := FinishCertRotation(dir); err != nil {
		t.Fatal(err)
	}
	s = openRelay(t, dir)
	if s.Fingerprint() != r.Next || s.certs.Load().next != "" {
		t.Errorf("after the switch serving %s announcing %q; want %s and none", s.Fingerprint(), s.certs.Load().next, r.Next)
	}
	if !hasEntry(auditActions(t, s), "relay.cert.switch "+r.Next) {
		t.Errorf("no relay.cert.switch entry in %v", auditActions(t, s))
	}
	if _, err := os.Stat(filepath.Join(tlsDir(dir), tlsconf.NextDir)); !os.IsNotExist(err) {
		t.Errorf("next key left after the switch: %v", err)
	}
	if st, err := ReadCertStatus(dir); err != nil || st.Current != r.Next || st.Next != "" {
		t.Errorf("ReadCertStatus = %+v, %v", st, err)
	}
	s.Close()
	if _, err := VerifyAudit(dir); err != nil {
		t.Errorf("audit chain with the rotation's entries: %v", err)
	}
}

// TestCertRotationBadFile: a rotation file that does not parse stops the
// relay's start with a clear error, and while it serves is logged and
// changes nothing.
func TestCertRotationBadFile(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	dir := s.cfg.DataDir
	fp := s.Fingerprint()
	path := filepath.Join(tlsDir(dir), tlsconf.RotationFile)
	if err := os.WriteFile(path, []byte(`{"version":1,"next":"SHA256:zz"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	s.checkRotation()
	if st := s.certs.Load(); st.fp != fp || st.next != "" {
		t.Errorf("a bad rotation file changed what is served: %+v", st)
	}
	s.Close()
	_, err := New(Config{DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil || !strings.Contains(err.Error(), "invalid rotation file") || !strings.Contains(err.Error(), "fix or remove") {
		t.Errorf("New with a bad rotation file = %v, want a clear refusal", err)
	}
}

// TestNextPinHeader: the next pin is on answers to signed-in calls only,
// and goes away when the rotation is withdrawn (audited).
func TestNextPinHeader(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	u := addUser(t, s, "tina", "technician")
	r, err := RotateCert(s.cfg.DataDir, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	s.checkRotation()
	header := func(signedIn bool) string {
		req := httptest.NewRequest(http.MethodGet, protocol.PathWhoami, nil)
		if signedIn {
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
		return rec.Header().Get(protocol.HeaderNextPin)
	}
	if got := header(true); got != r.Next {
		t.Errorf("signed-in answer announces %q, want %s", got, r.Next)
	}
	if got := header(false); got != "" {
		t.Errorf("answer to a caller not signed in announces %q, want nothing", got)
	}
	if _, err := CancelCertRotation(s.cfg.DataDir); err != nil {
		t.Fatal(err)
	}
	s.checkRotation()
	if got := header(true); got != "" {
		t.Errorf("after the rotation was withdrawn the answer announces %q", got)
	}
	if !hasEntry(auditActions(t, s), "relay.cert.withdraw "+r.Next) {
		t.Errorf("no relay.cert.withdraw entry in %v", auditActions(t, s))
	}
}
