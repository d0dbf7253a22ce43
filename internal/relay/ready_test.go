package relay

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestReadyzFollowsTheStore checks that /readyz answers 200 while the store
// answers a read and 503 once it is closed, while /healthz (the process is
// up) stays 200.
func TestReadyzFollowsTheStore(t *testing.T) {
	s := newTestServer(t)
	h := s.Handler()
	get := func(path string) int {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		return w.Code
	}
	if c := get("/readyz"); c != http.StatusOK {
		t.Fatalf("/readyz with the store open: %d", c)
	}
	s.db.Close()
	if c := get("/readyz"); c != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the store closed: %d, want 503", c)
	}
	if c := get("/healthz"); c != http.StatusOK {
		t.Errorf("/healthz with the store closed: %d, want 200", c)
	}
}
