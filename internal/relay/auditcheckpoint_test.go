package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/trust"
)

// sendAs makes one request with a JSON body as u and returns the recorder.
func sendAs(t *testing.T, s *Server, u *store.User, method, path string, body any) *httptest.ResponseRecorder {
	t.Helper()
	b, _ := json.Marshal(body)
	req := httptest.NewRequest(method, path, bytes.NewReader(b))
	tok, err := s.issueToken(u)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(protocol.HeaderAuthorization, protocol.BearerPrefix+tok.Token)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req.WithContext(ctx))
	return rec
}

func TestAuditCheckpointUpload(t *testing.T) {
	s := newTestServer(t)
	admin := addUser(t, s, "boss", "superadmin")
	if err := s.audit.SignHead(); err != nil {
		t.Fatal(err)
	}
	head, err := audit.LoadHead(s.db)
	if err != nil {
		t.Fatal(err)
	}
	var seed [trust.SeedSize]byte
	k := trust.NewKeyFromSeed(seed)
	cs, err := audit.Countersign(head, k)
	if err != nil {
		t.Fatal(err)
	}
	req := func(c *audit.Countersigned) api.AuditCheckpoint {
		return api.AuditCheckpoint{Seq: c.Seq, Hash: c.Hash, Time: c.Time, AdminKey: c.AdminKey, Ed25519: c.Ed25519, MLDSA: c.MLDSA}
	}
	badSig := *cs
	badSig.Time = badSig.Time.Add(time.Second)
	otherEntry, _ := audit.Countersign(&audit.SignedHead{Seq: head.Seq, Hash: bytes.Repeat([]byte{5}, 32), Time: head.Time, Sig: head.Sig}, k)
	tests := []struct {
		name string
		body api.AuditCheckpoint
		want int
	}{
		{"signature does not verify", req(&badSig), http.StatusBadRequest},
		{"hash of another history", req(otherEntry), http.StatusConflict},
		{"valid", req(cs), http.StatusOK},
		{"valid again", req(cs), http.StatusOK},
	}
	for _, tt := range tests {
		rec := sendAs(t, s, admin, http.MethodPost, protocol.PathAuditCheckpoints, tt.body)
		if rec.Code != tt.want {
			t.Errorf("%s: status %d (%s), want %d", tt.name, rec.Code, rec.Body, tt.want)
		}
	}
	list, err := loadCountersigned(s.db)
	if err != nil || len(list) != 1 {
		t.Fatalf("stored checkpoints: %d, %v; want 1", len(list), err)
	}
	rec := sendAs(t, s, admin, http.MethodGet, protocol.PathAuditExport, nil)
	x, err := audit.ReadExport(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatalf("export does not verify: %v", err)
	}
	if len(x.Countersigned) != 1 || x.Head == nil || !bytes.Equal(x.HeadKey, s.audit.HeadKey()) {
		t.Fatalf("export trailer: %d checkpoints, head %v", len(x.Countersigned), x.Head)
	}
	if err := x.Extends(x.Countersigned[0].Head()); err != nil {
		t.Errorf("export does not extend the checkpoint: %v", err)
	}
}
