package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tether-support/tether/internal/audit"
)

// bodyProbe is a route whose handler decodes the body as readJSON does and
// reports how many bytes it was given.
func bodyProbe(s *Server, pattern string) (http.Handler, *int64) {
	var seen int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		seen = int64(len(b))
		if err != nil {
			s.writeErr(w, errf(http.StatusRequestEntityTooLarge, "", "too large"))
			return
		}
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			s.writeErr(w, errf(http.StatusBadRequest, "", "malformed request body: %v", err))
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	return s.limitBody(route{pattern: pattern, perm: permPublic, handler: h}), &seen
}

// FuzzLimitBody sends arbitrary bodies, declared lengths and encodings to
// the login route's body limit: the handler never sees more than the limit,
// a body over it is always a 413, and every answer is a JSON object.
func FuzzLimitBody(f *testing.F) {
	f.Add([]byte(`{"username":"a","password":"b"}`), int64(-1))
	f.Add([]byte(`{"username":"a","password":"b"}`), int64(31))
	f.Add(bytes.Repeat([]byte("a"), MaxLoginBody+1), int64(-1))
	f.Add([]byte("{}"), int64(64<<20))
	f.Add([]byte("\x00\xff"), int64(2))
	f.Add([]byte(`{"username":"`+strings.Repeat("u", 9000)+`"}`), int64(9015))
	s := newTestServer(f)
	h, seen := bodyProbe(s, "POST /v1/login")
	var mu sync.Mutex
	f.Fuzz(func(t *testing.T, body []byte, declared int64) {
		mu.Lock()
		defer mu.Unlock()
		*seen = 0
		req := httptest.NewRequest(http.MethodPost, "/v1/login", bytes.NewReader(body))
		req.ContentLength = declared // -1: unknown, as for a chunked body
		if declared == 0 {
			req.Body = http.NoBody
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if *seen > MaxLoginBody {
			t.Fatalf("handler saw %d bytes, limit %d", *seen, MaxLoginBody)
		}
		if (declared > MaxLoginBody || (declared < 0 && len(body) > MaxLoginBody)) && rec.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("body of %d bytes (declared %d): status %d, want 413", len(body), declared, rec.Code)
		}
		var v map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatalf("answer is not JSON: %q", rec.Body.String())
		}
	})
}

// TestBodyLimits pins the per-route limits.
func TestBodyLimits(t *testing.T) {
	for pattern, want := range map[string]int64{
		"POST /v1/login": MaxLoginBody, "POST /v1/agent/enroll": MaxLoginBody,
		"POST /v1/passwd": MaxSecretBody, "POST /v1/mfa/enroll": MaxSecretBody, "POST /v1/mfa/disable": MaxSecretBody,
		"POST /v1/users": MaxAPIBody, "POST /v1/policy": MaxAPIBody,
		"GET /v1/whoami": MaxIgnoredBody, "DELETE /v1/roles/{name}": MaxIgnoredBody, "GET /v1/agent/control": MaxIgnoredBody,
		"PUT /v1/trust/root": MaxTrustBody, "GET /v1/trust/root": MaxIgnoredBody,
	} {
		if got := bodyLimit(pattern); got != want {
			t.Errorf("bodyLimit(%q) = %d, want %d", pattern, got, want)
		}
	}
}

// TestFailureLogBounds floods the failure log from many sources: at most
// failBurst full entries per source and window, one summary per source,
// one for the sources beyond the cap, every field capped, and the counts
// add up.
func TestFailureLogBounds(t *testing.T) {
	var written []audit.Event
	const sources, each, maxSrc = 100, 100, 16
	f := newFailureLog(Limits{FailureInterval: time.Minute, MaxFailureSources: maxSrc}, func(e audit.Event) { written = append(written, e) })
	huge := strings.Repeat("é\x1b[31mX", 5000)
	immediate := 0
	for i := range sources * each {
		e := capEvent(auditEvent("", fmt.Sprintf("act%d", i%20), huge+fmt.Sprint(i), "failure", fmt.Sprintf("10.0.%d.%d", i%sources/10, i%10),
			"reason", huge, "a", huge, "b", "x", "c", "y", "d", "z"))
		if f.note(e, true) {
			immediate++
			written = append(written, e)
		}
	}
	if immediate != maxSrc*failBurst {
		t.Fatalf("%d entries written at once, want %d (%d per source, up to %d sources)", immediate, maxSrc*failBurst, failBurst, maxSrc)
	}
	f.flush()
	if want := maxSrc*failBurst + maxSrc + 1; len(written) != want {
		t.Fatalf("%d entries after a window, want %d", len(written), want)
	}
	total := 0
	for _, e := range written {
		b, _ := json.Marshal(e)
		if len(b) > 2048 {
			t.Fatalf("entry of %d bytes: %.200s", len(b), b)
		}
		if len(e.Target) > failTargetMax || !utf8.ValidString(e.Target) {
			t.Fatalf("target %q not cut to %d bytes of UTF-8", e.Target, failTargetMax)
		}
		if len(e.Details) > failDetailKeys+1 {
			t.Fatalf("%d details kept", len(e.Details))
		}
		if e.Action == actionFailures {
			var n int
			fmt.Sscan(e.Details["count"], &n)
			total += n
		}
	}
	if total+immediate != sources*each {
		t.Fatalf("summaries count %d + %d written = %d failures, want %d", total, immediate, total+immediate, sources*each)
	}
	written = nil
	f.flush()
	if len(written) != 0 {
		t.Fatalf("an empty window wrote %d entries", len(written))
	}
	// A new window writes a source's first failures in full again.
	if !f.note(capEvent(auditEvent("", "login", "x", "failure", "10.0.0.1")), true) {
		t.Fatal("the first failure of a new window was not written")
	}
}

// TestParseLimits checks the test override's syntax.
func TestParseLimits(t *testing.T) {
	l, err := ParseLimits("read-header=1s, read=2s,idle=500ms,per-source=3,total=9,failure-interval=1s")
	if err != nil {
		t.Fatal(err)
	}
	if l.ReadHeaderTimeout != time.Second || l.ReadTimeout != 2*time.Second || l.IdleTimeout != 500*time.Millisecond ||
		l.MaxPreAuthPerSource != 3 || l.MaxPreAuth != 9 || l.FailureInterval != time.Second || l.WriteTimeout != DefaultLimits.WriteTimeout {
		t.Fatalf("parsed %+v", l)
	}
	for _, bad := range []string{"read=fast", "bogus=1", "total=0x", "idle=1ms", "per-source=-1"} {
		if _, err := ParseLimits(bad); err == nil {
			t.Errorf("ParseLimits(%q) accepted", bad)
		}
	}
}

// TestConnLimiterCountsUntilAuthenticated drives the listener wrapper with
// real loopback connections from two source addresses: the caps refuse the
// excess at once, and closing or authenticating a connection frees its
// place.
func TestConnLimiterCountsUntilAuthenticated(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var refusedMu sync.Mutex
	refused := map[string]int{}
	cl := newConnLimiter(ln, Limits{MaxPreAuthPerSource: 2, MaxPreAuth: 3}, func(src string) {
		refusedMu.Lock()
		refused[src]++
		refusedMu.Unlock()
	})
	defer cl.Close()
	accepted := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := cl.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	dial := func(ip string) net.Conn {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		c, err := d.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// dialRefused opens a connection the caps refuse: the reset may come
	// while the dial itself is still completing, so its error is expected.
	dialRefused := func(ip string) {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		if c, err := d.Dial("tcp", ln.Addr().String()); err == nil {
			t.Cleanup(func() { c.Close() })
		}
	}
	next := func() *limitedConn {
		select {
		case c := <-accepted:
			return c.(*limitedConn)
		case <-time.After(2 * time.Second):
			return nil
		}
	}
	refusedFrom := func(src string) int { refusedMu.Lock(); defer refusedMu.Unlock(); return refused[src] }
	a1, a2 := dial("127.0.0.2"), dial("127.0.0.2")
	s1, s2 := next(), next()
	if s1 == nil || s2 == nil {
		t.Fatal("connections within the caps not accepted")
	}
	dialRefused("127.0.0.2") // over the per-source cap
	b1 := dial("127.0.0.3")
	sb := next()
	if sb == nil || sb.src != "127.0.0.3" {
		t.Fatalf("another source's connection not accepted: %+v", sb)
	}
	if refusedFrom("127.0.0.2") != 1 {
		t.Fatalf("refusals from 127.0.0.2: %d, want 1", refusedFrom("127.0.0.2"))
	}
	dialRefused("127.0.0.4") // over the total cap (3)
	eventually := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(2 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	eventually("a refusal over the total cap", func() bool { return refusedFrom("127.0.0.4") == 1 })
	if total, _ := cl.counts(""); total != 3 {
		t.Fatalf("total %d, want 3", total)
	}
	// Authenticating one and closing another frees two places.
	ctx := context.WithValue(context.Background(), connCtxKey{}, cl.lookup(s1.key))
	s := &Server{conns: cl}
	s.connAuthenticated(ctx)
	s.connAuthenticated(ctx) // twice is harmless
	s2.Close()
	s1.Close() // closing an authenticated one releases nothing more
	if total, from := cl.counts("127.0.0.2"); total != 1 || from != 0 {
		t.Fatalf("after release: total %d, from 127.0.0.2 %d; want 1, 0", total, from)
	}
	dial("127.0.0.2")
	dial("127.0.0.2")
	if next() == nil || next() == nil {
		t.Fatal("freed places not reused")
	}
	_, _, _ = a1, a2, b1
}
