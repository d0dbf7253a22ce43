package tech

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/tlsconf"
)

// pinnedServer serves handler over TLS with a new key and returns its URL
// and pin.
func pinnedServer(t *testing.T, handler http.HandlerFunc) (string, string) {
	t.Helper()
	dir := t.TempDir()
	if err := tlsconf.Generate(dir, nil); err != nil {
		t.Fatal(err)
	}
	cert, err := tlsconf.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(handler)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL, tlsconf.Fingerprint(cert.Leaf)
}

// signedIn returns a Client with a config directory signed in to url with
// pin (and next, if set).
func signedIn(t *testing.T, url, pin, next string) *Client {
	t.Helper()
	home := t.TempDir()
	c := &Client{Home: home, st: &state{Relay: url, Pin: pin, NextPin: next}}
	if err := c.saveState(); err != nil {
		t.Fatal(err)
	}
	if err := c.saveToken("tok"); err != nil {
		t.Fatal(err)
	}
	return c
}

func storedState(t *testing.T, c *Client) state {
	t.Helper()
	var st state
	if err := json.Unmarshal([]byte(mustReadFile(t, filepath.Join(c.Home, "relay.json"))), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func mustReadFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestNextPinAnnouncement(t *testing.T) {
	next := "SHA256:" + strings.Repeat("ab", 32)
	tests := []struct {
		name     string
		header   string
		wantErr  string
		wantNext string
	}{
		{"none", "", "", ""},
		{"valid", next, "", next},
		{"malformed", "SHA256:not-a-pin", "malformed next certificate pin", ""},
		{"not canonical", strings.ToUpper(next), "malformed next certificate pin", ""},
		{"two pins", next + "," + next, "malformed next certificate pin", ""},
		{"bare hex", next[7:], "malformed next certificate pin", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, pin := pinnedServer(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.header != "" {
					w.Header()[protocol.HeaderNextPin] = []string{tt.header}
				}
				w.Write([]byte("{}"))
			})
			c := signedIn(t, url, pin, "")
			err := c.call(context.Background(), http.MethodGet, protocol.PathWhoami, nil, nil, nil)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("call error = %v, want %q", err, tt.wantErr)
			}
			if st := storedState(t, c); st.Pin != pin || st.NextPin != tt.wantNext {
				t.Errorf("stored pins %q, %q; want %q, %q", st.Pin, st.NextPin, pin, tt.wantNext)
			}
		})
	}
}

// TestNextPinInUse: a relay presenting the announced next key is accepted,
// the next pin becomes the pin, the old one is dropped, and remembered
// audit heads follow; a relay presenting neither is refused.
func TestNextPinInUse(t *testing.T) {
	url, fp := pinnedServer(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("{}")) })
	old := "SHA256:" + strings.Repeat("cd", 32)
	c := signedIn(t, url, old, fp)
	if err := c.saveAuditHeads(map[string]*rememberedHead{old: {HeadKey: []byte("k")}}); err != nil {
		t.Fatal(err)
	}
	if err := c.call(context.Background(), http.MethodGet, protocol.PathWhoami, nil, nil, nil); err != nil {
		t.Fatalf("call to the relay with its next key: %v", err)
	}
	if st := storedState(t, c); st.Pin != fp || st.NextPin != "" {
		t.Errorf("stored pins %q, %q; want %q and none", st.Pin, st.NextPin, fp)
	}
	heads, err := c.loadAuditHeads()
	if err != nil || heads[fp] == nil || heads[old] != nil {
		t.Errorf("remembered heads %v (%v), want them under the new pin only", heads, err)
	}

	other := signedIn(t, url, old, "SHA256:"+strings.Repeat("ef", 32))
	err = other.call(context.Background(), http.MethodGet, protocol.PathWhoami, nil, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "certificate changed") {
		t.Fatalf("call to a relay with an unrelated key = %v, want a certificate changed refusal", err)
	}
	if st := storedState(t, other); st.Pin != old {
		t.Errorf("pin after a refusal = %q, want %q", st.Pin, old)
	}
}
