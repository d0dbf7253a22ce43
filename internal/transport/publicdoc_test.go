package transport

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/tlsconf"
)

// TestGetPublicLeavesNoConnection: each fetch of a public document closes
// its connection when it is done, so a long-lived agent fetching the root
// chain, policy and revocation list before every session keeps no idle
// connections to the relay.
func TestGetPublicLeavesNoConnection(t *testing.T) {
	var mu sync.Mutex
	open := map[net.Conn]bool{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"documents":[]}`))
	}))
	srv.Listener = BatchListener(srv.Listener)
	srv.Config.ConnState = func(c net.Conn, st http.ConnState) {
		mu.Lock()
		defer mu.Unlock()
		switch st {
		case http.StateNew:
			open[c] = true
		case http.StateClosed, http.StateHijacked:
			delete(open, c)
		}
	}
	srv.StartTLS() // after ConnState is set: the server reads it from then on
	defer srv.Close()
	ep := Endpoint{URL: srv.URL, Pin: tlsconf.Fingerprint(srv.Certificate())}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 5 {
		if _, err := GetTrustChain(ctx, ep); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(open)
		mu.Unlock()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections to %s still open after 5 fetches", n, protocol.PathTrustRoot)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
