package transport

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/tlsconf"
)

// TestDialRotation: a dialled connection reports the relay's answer to the
// upgrade (where a next pin is announced) and the key it presented, and a
// relay presenting the announced next pin is accepted with OnNextPin told.
func TestDialRotation(t *testing.T) {
	const announced = "SHA256:abababababababababababababababababababababababababababababababab"
	srv := newTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(protocol.HeaderNextPin, announced)
		c, err := Accept(w, r)
		if err != nil {
			return
		}
		go func() {
			defer c.CloseNow()
			c.ReadMessage(context.Background())
		}()
	}))
	defer srv.Close()
	fp := tlsconf.Fingerprint(srv.Certificate())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	c, err := Dial(ctx, Endpoint{URL: srv.URL, Pin: fp}, "/")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.ResponseHeader().Get(protocol.HeaderNextPin); got != announced {
		t.Errorf("upgrade answer announces %q, want %s", got, announced)
	}
	if got := c.PeerFingerprint(); got != fp {
		t.Errorf("PeerFingerprint = %s, want %s", got, fp)
	}
	c.CloseNow()

	var saw string
	c, err = Dial(ctx, Endpoint{URL: srv.URL, Pin: announced, NextPin: fp, OnNextPin: func(s string) { saw = s }}, "/")
	if err != nil {
		t.Fatalf("dial with the relay's key as next pin: %v", err)
	}
	c.CloseNow()
	if saw != fp {
		t.Errorf("OnNextPin got %q, want %s", saw, fp)
	}
}
