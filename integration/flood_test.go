package integration

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/transport"
)

// Hostile peers that flood the relay before authenticating: slow and
// silent connections, oversized and garbage bodies, more connections than
// the caps, thousands of failing requests. Every attacker is a test-only
// client on its own 127.0.0.x source address; the relay runs with
// --test-limits so its timers are seconds, not minutes.

// floodLimits shortens the relay's timeouts for these tests.
const floodLimits = "read-header=1s,read=2s,write=5s,idle=2s,per-source=8,total=64,failure-interval=1s"

// src is the loopback source address 127.0.0.n.
func src(n byte) *net.TCPAddr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, n)} }

// hostPort is the relay's address.
func (e *env) hostPort() string { return strings.TrimPrefix(e.url, "https://") }

// dialFrom opens a raw TCP connection to the relay from 127.0.0.n.
func (e *env) dialFrom(t *testing.T, n byte) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: src(n), Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", e.hostPort())
	if err != nil {
		t.Fatalf("dial from %v: %v", src(n), err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// tlsFrom opens a TLS connection from 127.0.0.n, handshake done. The
// certificate is not checked: this is hostile traffic, not a client.
func (e *env) tlsFrom(t *testing.T, n byte) *tls.Conn {
	t.Helper()
	c, err := e.tlsDial(n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// tlsDial is tlsFrom for goroutines: it returns its error.
func (e *env) tlsDial(n byte) (*tls.Conn, error) {
	d := net.Dialer{LocalAddr: src(n), Timeout: 5 * time.Second}
	raw, err := d.Dial("tcp", e.hostPort())
	if err != nil {
		return nil, fmt.Errorf("dial from %v: %w", src(n), err)
	}
	c := tls.Client(raw, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}}) // hostile test peer
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if err := c.Handshake(); err != nil {
		raw.Close()
		return nil, fmt.Errorf("TLS handshake from %v: %w", src(n), err)
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

// closedWithin reads from c until the relay closes it or d passes; it
// reports whether it was closed and what was read.
func closedWithin(c net.Conn, d time.Duration) (bool, string) {
	c.SetReadDeadline(time.Now().Add(d))
	var got bytes.Buffer
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		got.Write(buf[:n])
		if err == nil {
			continue
		}
		var ne net.Error
		return !(errors.As(err, &ne) && ne.Timeout()), got.String()
	}
}

// trickle writes s one byte per period until it is written or a write
// fails; it runs in the background.
func trickle(c net.Conn, s string, period time.Duration) {
	go func() {
		for i := range len(s) {
			if _, err := c.Write([]byte{s[i]}); err != nil {
				return
			}
			time.Sleep(period)
		}
	}()
}

// rawResponse is what the relay answered a raw request.
type rawResponse struct {
	status int
	body   string
}

// rawRequest sends head, then body in the background (errors ignored: the
// relay may refuse before reading it), and reads the response. It may run
// in any goroutine.
func (e *env) rawRequest(n byte, head string, body io.Reader) (rawResponse, error) {
	c, err := e.tlsDial(n)
	if err != nil {
		return rawResponse{}, err
	}
	defer c.Close()
	if _, err := io.WriteString(c, head); err != nil {
		return rawResponse{}, err
	}
	if body != nil {
		go io.Copy(c, body)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return rawResponse{}, err
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return rawResponse{resp.StatusCode, string(b)}, nil
}

// procStatus returns a field of /proc/PID/status in KiB.
func procStatus(t *testing.T, pid int, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return kb
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// openFDs counts the relay's open files.
func openFDs(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// rssSampler records the relay's peak VmRSS until stopped.
type rssSampler struct {
	peak atomic.Int64
	stop chan struct{}
	done chan struct{}
}

func sampleRSS(t *testing.T, pid int) *rssSampler {
	s := &rssSampler{stop: make(chan struct{}), done: make(chan struct{})}
	s.peak.Store(procStatus(t, pid, "VmRSS"))
	go func() {
		defer close(s.done)
		for {
			select {
			case <-s.stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
				if i := bytes.Index(b, []byte("VmRSS:")); i >= 0 {
					f := strings.Fields(string(b[i+6:]))
					if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil && kb > s.peak.Load() {
						s.peak.Store(kb)
					}
				}
			}
		}
	}()
	return s
}

func (s *rssSampler) Peak() int64 { close(s.stop); <-s.done; return s.peak.Load() }

// pid is the relay's process ID.
func (e *env) pid() int { return e.relay.cmd.Process.Pid }

// client is a pinned HTTP client of the relay from 127.0.0.n (0: any).
func (e *env) client(n byte) *http.Client {
	ep := transport.Endpoint{URL: e.url, Pin: e.fp}
	if n != 0 {
		ep.LocalAddr = src(n)
	}
	c := ep.HTTPClient()
	c.Timeout = 20 * time.Second
	return c
}

// apiPost posts v as JSON with an optional token and returns the status.
func apiPost(c *http.Client, url, token string, v any, out any) (int, error) {
	b, _ := json.Marshal(v)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode == http.StatusOK {
		return resp.StatusCode, json.NewDecoder(resp.Body).Decode(out)
	}
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// adminToken signs in as the admin over the API from 127.0.0.1.
func (e *env) adminToken(t *testing.T) string {
	t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	code, err := apiPost(e.client(1), e.url+protocol.PathLogin, "", map[string]string{"username": "admin", "password": e.adminPW}, &out)
	if err != nil || code != http.StatusOK {
		t.Fatalf("admin login: %d %v", code, err)
	}
	return out.Token
}

// auditLines exports the audit log and returns its entries.
func (e *env) auditLines(t *testing.T) []string {
	t.Helper()
	r := e.techRun("", "audit", "export")
	if r.code != 0 {
		t.Fatalf("audit export: %s", r.stderr)
	}
	// A JSONL export ends with trailer records (the signed head, any
	// checkpoints): keep the entries only, so that an earlier export's
	// length is an index into a later one.
	var out []string
	for _, l := range lines(r.stdout) {
		var rec struct {
			Record string `json:"record"`
		}
		if json.Unmarshal([]byte(l), &rec) == nil && rec.Record != "" {
			continue
		}
		out = append(out, l)
	}
	return out
}

// TestFloodSlowPeersAreCut holds connections the slowloris way, several
// variants at once from different addresses: each is closed by the
// relay's timeouts, and a technician still signs in meanwhile.
func TestFloodSlowPeersAreCut(t *testing.T) {
	// Not parallel: see the package doc (floods run alone).
	e := newEnv(t, "--test-limits", floodLimits)
	cases := []struct {
		name   string
		attack func(t *testing.T, n byte) net.Conn
		want   string // in what the relay sends before closing, if anything
	}{
		{"TCP, no TLS handshake", func(t *testing.T, n byte) net.Conn { return e.dialFrom(t, n) }, ""},
		{"part of a TLS record header", func(t *testing.T, n byte) net.Conn {
			c := e.dialFrom(t, n)
			c.Write([]byte{0x16, 0x03, 0x01})
			return c
		}, ""},
		{"TLS, then no request", func(t *testing.T, n byte) net.Conn { return e.tlsFrom(t, n) }, ""},
		{"header a byte every 300ms", func(t *testing.T, n byte) net.Conn {
			c := e.tlsFrom(t, n)
			trickle(c, "POST /v1/login HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n", 300*time.Millisecond)
			return c
		}, ""},
		{"endless header lines", func(t *testing.T, n byte) net.Conn {
			c := e.tlsFrom(t, n)
			go func() {
				io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: relay\r\n")
				for i := 0; i < 200; i++ {
					if _, err := fmt.Fprintf(c, "X-Pad-%d: %s\r\n", i, strings.Repeat("a", 100)); err != nil {
						return
					}
					time.Sleep(50 * time.Millisecond)
				}
			}()
			return c
		}, ""},
		{"login body a byte every 300ms", func(t *testing.T, n byte) net.Conn {
			c := e.tlsFrom(t, n)
			io.WriteString(c, "POST /v1/login HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n")
			trickle(c, `{"username":"admin","password":"`+strings.Repeat("x", 150), 300*time.Millisecond)
			return c
		}, "408"},
		{"chunked body a byte every 300ms", func(t *testing.T, n byte) net.Conn {
			c := e.tlsFrom(t, n)
			io.WriteString(c, "POST /v1/agent/enroll HTTP/1.1\r\nHost: relay\r\nTransfer-Encoding: chunked\r\n\r\n")
			trickle(c, "1\r\n{\r\n1\r\n\"\r\n1\r\na\r\n1\r\nb\r\n1\r\nc\r\n1\r\nd\r\n1\r\ne\r\n1\r\nf\r\n", 300*time.Millisecond)
			return c
		}, "408"},
		{"idle keep-alive after a request", func(t *testing.T, n byte) net.Conn {
			c := e.tlsFrom(t, n)
			io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: relay\r\n\r\n")
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("healthz: %v", err)
			}
			io.Copy(io.Discard, resp.Body)
			return c
		}, ""},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := byte(20 + i)
			t0 := time.Now()
			c := tc.attack(t, n)
			closed, got := closedWithin(c, 15*time.Second)
			if !closed {
				t.Fatalf("connection from %v still open after 15s", src(n))
			}
			if !strings.Contains(got, tc.want) {
				t.Fatalf("relay sent %q before closing, want it to contain %q", got, tc.want)
			}
			t.Logf("closed by the relay after %v", time.Since(t0).Round(10*time.Millisecond))
		})
	}
	t.Run("technician signs in meanwhile", func(t *testing.T) {
		t.Parallel()
		time.Sleep(500 * time.Millisecond) // the attacks are under way
		if r := e.techRun(e.adminPW+"\n", "login", "--relay", e.url, "--user", "admin", "--ca-fingerprint", e.fp, "--password-stdin"); r.code != 0 {
			t.Fatalf("login during the slow attacks: %s", r.stderr)
		}
		if r := e.techRun("", "devices", "list"); r.code != 0 {
			t.Fatalf("devices list during the slow attacks: %s", r.stderr)
		}
	})
}

// TestSessionsOutliveHTTPTimeouts runs a session and an idle agent past
// every HTTP timeout: once upgraded to a WebSocket, a connection follows
// its own keepalive, not the request timeouts.
func TestSessionsOutliveHTTPTimeouts(t *testing.T) {
	t.Parallel()
	// The write limit leaves room for a password change (the admin's first
	// sign-in) on a loaded machine; the session's silence outlasts it.
	e := newEnv(t, "--test-limits", "read-header=1s,read=1s,write=5s,idle=1s,failure-interval=1s")
	d := e.enroll("dev")
	e.runAgent(d, "exit 0")
	r := e.techRun("", "connect", d.name, "--", "sh", "-c", "sleep 6; echo survived the timeouts")
	if r.code != 0 || !strings.Contains(r.stdout, "survived the timeouts") {
		t.Fatalf("a session with 6s of silence did not survive 1-5s HTTP timeouts: code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	if n := strings.Count(e.relay.Output(), "agent online"); n != 1 {
		t.Fatalf("the idle agent connected %d times, want once (its connection was cut):\n%s", n, e.relay.Output())
	}
	e.waitOnline(d.name)
}

// enrollFake enrolls a device from 127.0.0.n with the admin token and
// returns its ID and key.
func (e *env) enrollFake(t *testing.T, admin string, n byte, name string) (string, ed25519.PrivateKey) {
	t.Helper()
	var tok struct {
		Token string `json:"token"`
	}
	if code, err := apiPost(e.client(1), e.url+protocol.PathEnrollToken, admin, map[string]string{}, &tok); err != nil || code != http.StatusOK {
		t.Fatalf("enroll token: %d %v", code, err)
	}
	pub, key, _ := ed25519.GenerateKey(nil)
	var out struct {
		DeviceID string `json:"device_id"`
	}
	c := e.client(n)
	defer c.CloseIdleConnections()
	if code, err := apiPost(c, e.url+protocol.PathAgentEnroll, "", map[string]any{"token": tok.Token, "name": name, "public_key": []byte(pub)}, &out); err != nil || code != http.StatusOK {
		t.Fatalf("enroll %s: %d %v", name, code, err)
	}
	return out.DeviceID, key
}

// connectFake opens an enrolled device's control connection from
// 127.0.0.n and authenticates it, as an agent does.
func (e *env) connectFake(t *testing.T, n byte, id string, key ed25519.PrivateKey) *transport.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := transport.Dial(ctx, transport.Endpoint{URL: e.url, Pin: e.fp, LocalAddr: src(n)}, protocol.PathAgentControl)
	if err != nil {
		t.Fatalf("agent dial: %v", err)
	}
	t.Cleanup(c.CloseNow)
	m, err := c.ReadControl(ctx)
	if err != nil || m.Type != protocol.CtlChallenge {
		t.Fatalf("no challenge: %v", err)
	}
	sig := ed25519.Sign(key, protocol.AgentAuthMessage(m.Challenge, e.fp))
	if err := c.WriteControl(ctx, &protocol.Control{Type: protocol.CtlAuth, Version: protocol.Version, DeviceID: ids.DeviceID(id), Signature: sig}); err != nil {
		t.Fatal(err)
	}
	if m, err := c.ReadControl(ctx); err != nil || m.Type != protocol.CtlWelcome {
		t.Fatalf("not welcomed: %v", err)
	}
	go func() { // answer pings, like an agent
		for {
			if _, _, err := c.ReadFrame(context.Background()); err != nil {
				return
			}
		}
	}()
	return c
}

// holdOpen opens k raw connections from 127.0.0.n and returns them; a
// connection the relay reset before the dial returned is nil.
func (e *env) holdOpen(t *testing.T, n byte, k int) []net.Conn {
	t.Helper()
	cs := make([]net.Conn, k)
	for i := range cs {
		d := net.Dialer{LocalAddr: src(n), Timeout: 5 * time.Second}
		c, err := d.Dial("tcp", e.hostPort())
		if err != nil {
			if !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("dial from %v: %v", src(n), err)
			}
			continue
		}
		t.Cleanup(func() { c.Close() })
		cs[i] = c
	}
	return cs
}

// countOpen reports how many of cs the relay has not closed within d.
func countOpen(cs []net.Conn, d time.Duration) int {
	var open atomic.Int32
	var wg sync.WaitGroup
	for _, c := range cs {
		if c == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if closed, _ := closedWithin(c, d); !closed {
				open.Add(1)
			}
		}()
	}
	wg.Wait()
	return int(open.Load())
}

// TestFloodPreAuthConnectionCaps fills the per-source and total caps on
// connections that have not authenticated: the excess is closed at once,
// closing releases the places, and authenticated agents and technicians
// never count however many there are.
func TestFloodPreAuthConnectionCaps(t *testing.T) {
	// Not parallel: see the package doc (floods run alone).
	// Handshake timeout 10s: held connections stay open while counted.
	e := newEnv(t, "--test-limits", "per-source=8,total=40,failure-interval=1s")
	admin := e.adminToken(t)

	t.Run("per source", func(t *testing.T) {
		held := e.holdOpen(t, 40, 8)
		extra := e.holdOpen(t, 40, 6)
		if open := countOpen(extra, 2*time.Second); open != 0 {
			t.Fatalf("%d of 6 connections over the per-source cap of 8 left open", open)
		}
		if open := countOpen(held, 300*time.Millisecond); open != 8 {
			t.Fatalf("%d of the 8 connections within the cap left open, want 8", open)
		}
		if open := countOpen(e.holdOpen(t, 41, 1), 300*time.Millisecond); open != 1 {
			t.Fatal("another source was refused while only one source was over its cap")
		}
		if r := e.techRun("", "devices", "list"); r.code != 0 {
			t.Fatalf("technician refused while one source is over its cap: %s", r.stderr)
		}
		for _, c := range held {
			if c != nil {
				c.Close()
			}
		}
		eventually(t, "places released on close", 5*time.Second, func() bool {
			return countOpen(e.holdOpen(t, 40, 1), 200*time.Millisecond) == 1
		})
	})

	t.Run("total", func(t *testing.T) {
		var held []net.Conn
		for n := byte(42); n < 47; n++ { // 5 sources × 8 = 40, the total cap
			held = append(held, e.holdOpen(t, n, 8)...)
		}
		// A few from the previous step may still be counted until the
		// relay notices they closed.
		if open := countOpen(e.holdOpen(t, 47, 3), 2*time.Second); open != 0 {
			t.Fatalf("%d connections over the total cap left open", open)
		}
		for _, c := range held {
			if c != nil {
				c.Close()
			}
		}
		eventually(t, "technician served once the flood stops", 10*time.Second, func() bool {
			return e.techRun("", "devices", "list").code == 0
		})
	})

	t.Run("authenticated connections do not count", func(t *testing.T) {
		const agents = 12 // more than the per-source cap
		var conns []*transport.Conn
		for i := range agents {
			id, key := e.enrollFake(t, admin, 50, fmt.Sprintf("fake-%02d", i))
			conns = append(conns, e.connectFake(t, 48, id, key))
		}
		// Technicians' keep-alive connections, signed in, from one address.
		var techConns []net.Conn
		for range 12 {
			c := e.tlsFrom(t, 49)
			fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer %s\r\n\r\n", protocol.PathWhoami, admin)
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("whoami: %v", err)
			}
			techConns = append(techConns, c)
		}
		for _, n := range []byte{48, 49} {
			if open := countOpen(e.holdOpen(t, n, 8), 300*time.Millisecond); open != 8 {
				t.Fatalf("127.0.0.%d: only %d of 8 new connections admitted: authenticated ones were counted", n, open)
			}
		}
		r := e.techRun("", "devices", "list", "--json")
		if got := strings.Count(r.stdout, `"online":true`); got != agents {
			t.Fatalf("%d fake agents online, want %d", got, agents)
		}
		_ = techConns
		_ = conns
	})

	t.Run("refusals are audited as summaries", func(t *testing.T) {
		eventually(t, "auth.failures summary of conn.refused", 5*time.Second, func() bool {
			for _, l := range e.auditLines(t) {
				if strings.Contains(l, `"auth.failures"`) && strings.Contains(l, "conn.refused=") {
					return true
				}
			}
			return false
		})
	})
}

// TestFloodOversizedAndGarbageBodies sends bodies over the limits, lying
// lengths and garbage: each gets one clear refusal, before anything is
// parsed, and the relay's memory does not follow the attacker's sizes.
func TestFloodOversizedAndGarbageBodies(t *testing.T) {
	// Not parallel: see the package doc (floods run alone).
	e := newEnv(t, "--test-limits", floodLimits)
	admin := e.adminToken(t)
	head := func(method, path, token string, extra string) string {
		h := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n", method, path)
		if token != "" {
			h += "Authorization: Bearer " + token + "\r\n"
		}
		return h + extra + "\r\n"
	}
	big := func(n int) io.Reader {
		return io.MultiReader(strings.NewReader(`{"username":"`), io.LimitReader(zeros{'a'}, int64(n)))
	}
	cases := []struct {
		name       string
		head       string
		body       io.Reader
		fixed      string // a body sent with its exact length
		wantStatus int
		want       string
	}{
		{"login, 4 MiB body", head("POST", protocol.PathLogin, "", "Content-Length: 4194304\r\n"), big(4 << 20), "", 413, "at most 8192 bytes"},
		{"login, 64 MiB claimed, 1 KiB sent", head("POST", protocol.PathLogin, "", "Content-Length: 67108864\r\n"), big(1 << 10), "", 413, "at most 8192 bytes"},
		{"login, 4 MiB chunked", head("POST", protocol.PathLogin, "", "Transfer-Encoding: chunked\r\n"), chunked(big(4 << 20)), "", 413, "at most 8192 bytes"},
		{"login, 9 KiB, just over", head("POST", protocol.PathLogin, "", "Content-Length: 9216\r\n"), big(9216), "", 413, "request body too long"},
		{"login, garbage JSON", head("POST", protocol.PathLogin, "", ""), nil, "{{{{not json", 400, "malformed request body"},
		{"login, binary garbage", head("POST", protocol.PathLogin, "", ""), nil, "\x00\xff\xfe\x01\x02\x03", 400, "malformed request body"},
		{"login, unknown field", head("POST", protocol.PathLogin, "", ""), nil, `{"admin":true}`, 400, "malformed request body"},
		{"login, truncated JSON", head("POST", protocol.PathLogin, "", ""), nil, `{"username":"adm`, 400, "malformed request body"},
		{"login, 2 KiB password: refused by name", head("POST", protocol.PathLogin, "", ""), nil,
			`{"username":"admin","password":"` + strings.Repeat("p", 2048) + `"}`, 400, "too long"},
		{"enroll, 1 MiB name", head("POST", protocol.PathAgentEnroll, "", "Content-Length: 1048576\r\n"), big(1 << 20), "", 413, "at most 8192 bytes"},
		{"users, unauthenticated, 1 MiB", head("POST", protocol.PathUsers, "", "Content-Length: 1048576\r\n"), big(1 << 20), "", 413, "at most 65536 bytes"},
		{"users, unauthenticated, 60 KiB: not read", head("POST", protocol.PathUsers, "", "Content-Length: 61440\r\n"), big(60 << 10), "", 401, "not signed in"},
		{"passwd, signed in, 32 KiB chunked", head("POST", protocol.PathPasswd, admin, "Transfer-Encoding: chunked\r\n"), chunked(big(32 << 10)), "", 413, "at most 16384 bytes"},
		{"healthz with a 2 KiB body", head("GET", protocol.PathHealth, "", "Content-Length: 2048\r\n"), big(2048), "", 413, "at most 1024 bytes"},
		{"header over 16 KiB", head("GET", protocol.PathHealth, "", "X-Pad: "+strings.Repeat("h", 40<<10)+"\r\n"), nil, "", 431, ""},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, body := tc.head, tc.body
			if tc.fixed != "" {
				h = strings.TrimSuffix(h, "\r\n") + fmt.Sprintf("Content-Length: %d\r\n\r\n", len(tc.fixed))
				body = strings.NewReader(tc.fixed)
			}
			resp, err := e.rawRequest(byte(60+i), h, body)
			if err != nil {
				t.Fatalf("no response: %v", err)
			}
			if resp.status != tc.wantStatus || !strings.Contains(resp.body, tc.want) {
				t.Fatalf("got %d %q, want %d containing %q", resp.status, resp.body, tc.wantStatus, tc.want)
			}
			if tc.want != "" && !strings.HasPrefix(strings.TrimSpace(resp.body), `{"error":`) {
				t.Fatalf("refusal is not a JSON error: %q", resp.body)
			}
		})
	}

	t.Run("memory under 56 concurrent 4 MiB bodies", func(t *testing.T) {
		base := procStatus(t, e.pid(), "VmRSS")
		rss := sampleRSS(t, e.pid())
		var wg sync.WaitGroup
		var refused atomic.Int32
		for i := range 56 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n := byte(90 + i/8) // 7 sources, 8 connections each: within the caps
				h := head("POST", protocol.PathLogin, "", "Content-Length: 4194304\r\n")
				body := big(4 << 20)
				if i%2 == 1 {
					h, body = head("POST", protocol.PathLogin, "", "Transfer-Encoding: chunked\r\n"), chunked(big(4<<20))
				}
				resp, err := e.rawRequest(n, h, body)
				for try := 0; err != nil && try < 3; try++ {
					// A handshake starved of CPU on a loaded machine
					// may miss the 1s test timeout: try again.
					body = big(4 << 20)
					if i%2 == 1 {
						body = chunked(big(4 << 20))
					}
					resp, err = e.rawRequest(n, h, body)
				}
				if err == nil && resp.status == 413 {
					refused.Add(1)
				} else {
					t.Logf("request %d: %v %d %q", i, err, resp.status, resp.body)
				}
			}()
		}
		wg.Wait()
		peak := rss.Peak()
		t.Logf("relay VmRSS %d KiB before, peak %d KiB (+%d KiB) during 56 × 4 MiB bodies; %d refused with 413", base, peak, peak-base, refused.Load())
		if refused.Load() != 56 {
			t.Fatalf("%d of 56 oversized bodies refused with 413", refused.Load())
		}
		if peak-base > 48<<10 {
			t.Fatalf("relay RSS grew by %d KiB under 56 × 4 MiB bodies, bound 48 MiB", peak-base)
		}
	})
}

// zeros is an endless reader of one byte.
type zeros struct{ b byte }

func (z zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = z.b
	}
	return len(p), nil
}

// chunked encodes r as an HTTP/1.1 chunked body.
func chunked(r io.Reader) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		buf := make([]byte, 16<<10)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				if _, werr := fmt.Fprintf(pw, "%x\r\n%s\r\n", n, buf[:n]); werr != nil {
					pw.CloseWithError(werr)
					return
				}
			}
			if err != nil {
				io.WriteString(pw, "0\r\n\r\n")
				pw.Close()
				return
			}
		}
	}()
	return pr
}

// floodKind is one sort of failing unauthenticated request.
type floodKind struct {
	name string
	send func(c *http.Client, i int) (int, error)
	// audited is the status of the answers that are anonymous failures
	// the relay audits (PROTOCOL.md, "Audit of anonymous failures"); 0 if
	// none are: a malformed body or a rate-limited request is not one.
	audited int
}

// floodKinds are the failing requests of the bulk flood.
func (e *env) floodKinds() []floodKind {
	post := func(path string, body []byte) func(c *http.Client, i int) (int, error) {
		return func(c *http.Client, i int) (int, error) {
			resp, err := c.Post(e.url+path, "application/json", bytes.NewReader(body))
			if err != nil {
				return 0, err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp.StatusCode, nil
		}
	}
	longName := strings.Repeat("N", 6000)
	return []floodKind{
		{"wrong password", func(c *http.Client, i int) (int, error) {
			return apiPost(c, e.url+protocol.PathLogin, "", map[string]string{"username": fmt.Sprintf("nobody-%d", i), "password": "wrong-password"}, nil)
		}, http.StatusUnauthorized},
		{"bogus token", func(c *http.Client, i int) (int, error) {
			req, _ := http.NewRequest(http.MethodGet, e.url+protocol.PathWhoami, nil)
			req.Header.Set("Authorization", fmt.Sprintf("Bearer tt_bogus%d", i))
			resp, err := c.Do(req)
			if err != nil {
				return 0, err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp.StatusCode, nil
		}, http.StatusUnauthorized},
		{"bogus enrollment with a 6 KB name", func(c *http.Client, i int) (int, error) {
			return apiPost(c, e.url+protocol.PathAgentEnroll, "", map[string]any{"token": "te_bogus.00", "name": longName, "public_key": make([]byte, 32)}, nil)
		}, http.StatusBadRequest},
		{"15 KB login", post(protocol.PathLogin, []byte(`{"username":"`+strings.Repeat("u", 15000)+`","password":"x"}`)), http.StatusRequestEntityTooLarge},
		{"garbage JSON", post(protocol.PathLogin, []byte("\x00{garbage")), 0},
	}
}

// failureTally is what the audit entries say of anonymous failures.
type failureTally struct {
	full, summaries, counted, bytes int
	fullBySource                    map[string]int
	oversized                       []string
}

// tallyFailures counts the anonymous failures in audit export lines:
// written in full (no actor, outcome failure) or counted in auth.failures
// summaries; oversized are the entries over 2 KiB.
func tallyFailures(lines []string) failureTally {
	f := failureTally{fullBySource: make(map[string]int)}
	for _, l := range lines {
		f.bytes += len(l)
		var ent struct {
			ActorID string            `json:"actor_id"`
			Action  string            `json:"action"`
			Outcome string            `json:"outcome"`
			Source  string            `json:"source"`
			Details map[string]string `json:"details"`
		}
		json.Unmarshal([]byte(l), &ent)
		switch {
		case ent.Action == "auth.failures":
			f.summaries++
			n, _ := strconv.Atoi(ent.Details["count"])
			f.counted += n
		case ent.ActorID == "" && ent.Outcome == "failure" && ent.Source != "":
			f.full++
			f.fullBySource[ent.Source]++
		}
		if len(l) > 2048 {
			f.oversized = append(f.oversized, l)
		}
	}
	return f
}

// TestFloodUnauthenticatedFailures sends thousands of failing requests
// from several addresses while a technician signs in and runs a session:
// those succeed, the audit log grows by a bounded number of bounded
// entries that account for every audited failure (written in full, at most
// 8 per source and window, or counted in a summary), and the relay's memory
// and open files stay bounded.
func TestFloodUnauthenticatedFailures(t *testing.T) {
	// Not parallel: see the package doc (floods run alone).
	e := newEnv(t, "--test-limits", floodLimits)
	d := e.enroll("dev")
	e.runAgent(d, "exit 0")
	before := e.auditLines(t)
	dbPath := filepath.Join(e.dir, "data", "relay.db")
	fi0, _ := os.Stat(dbPath)
	pid := e.pid()
	rss0, fd0 := procStatus(t, pid, "VmRSS"), openFDs(t, pid)
	rss := sampleRSS(t, pid)

	const total, workers = 3000, 24
	sources := []byte{110, 111, 112, 113}
	kinds := e.floodKinds()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var next, sent atomic.Int64
	statuses := make([]sync.Map, len(kinds))
	var wg sync.WaitGroup
	t0 := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := e.client(sources[w%len(sources)])
			c.Timeout = 5 * time.Second
			defer c.CloseIdleConnections()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= total {
					return
				}
				k := i % len(kinds)
				code, err := kinds[k].send(c, i)
				if err != nil {
					code = -1
				}
				v, _ := statuses[k].LoadOrStore(code, new(atomic.Int64))
				v.(*atomic.Int64).Add(1)
				sent.Add(1)
			}
		}()
	}
	// The legitimate technician, during the flood.
	time.Sleep(300 * time.Millisecond)
	if r := e.techRun(e.adminPW+"\n", "login", "--relay", e.url, "--user", "admin", "--ca-fingerprint", e.fp, "--password-stdin"); r.code != 0 {
		t.Errorf("technician login during the flood: %s", r.stderr)
	}
	if r := e.techRun("", "connect", d.name, "--", "echo", "session during the flood"); r.code != 0 || !strings.Contains(r.stdout, "session during the flood") {
		t.Errorf("session during the flood: code %d %q %q", r.code, r.stdout, r.stderr)
	}
	floodRunning := sent.Load() < total
	wg.Wait()
	elapsed := time.Since(t0)
	peak := rss.Peak()
	if !floodRunning {
		t.Logf("note: the flood ended before the technician's session did")
	}
	for k, kind := range kinds {
		var s []string
		statuses[k].Range(func(code, n any) bool {
			s = append(s, fmt.Sprintf("%v×%d", code, n.(*atomic.Int64).Load()))
			return true
		})
		t.Logf("%s: %s", kind.name, strings.Join(s, " "))
	}
	if sent.Load() != total {
		t.Fatalf("only %d of %d flood requests done in the time bound", sent.Load(), total)
	}

	// Every audited failure is written in full or counted in a summary once
	// its window ends: wait for that rather than for a number of windows.
	audited := 0
	for k, kind := range kinds {
		if v, ok := statuses[k].Load(kind.audited); ok && kind.audited != 0 {
			audited += int(v.(*atomic.Int64).Load())
		}
	}
	var added []string
	var f failureTally
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		added = e.auditLines(t)[len(before):]
		if f = tallyFailures(added); f.full+f.counted >= audited || time.Now().After(deadline) {
			break
		}
	}
	for _, l := range f.oversized {
		t.Errorf("audit entry of %d bytes: %.200s…", len(l), l)
	}
	windows := int(elapsed/time.Second) + 4
	bound := 9*len(sources)*windows + 30 // 8 in full and a summary per source and window, + the technician's own
	fi1, _ := os.Stat(dbPath)
	t.Logf("%d requests in %v, %d audited failures; audit +%d entries (+%d bytes exported; %d in full, %d summaries counting %d failures); bound %d entries; relay.db %d → %d bytes",
		total, elapsed.Round(time.Millisecond), audited, len(added), f.bytes, f.full, f.summaries, f.counted, bound, fi0.Size(), fi1.Size())
	if len(added) > bound {
		t.Fatalf("audit grew by %d entries for %d anonymous failures, bound %d", len(added), total, bound)
	}
	for src, n := range f.fullBySource {
		if n > 8*windows {
			t.Errorf("%d failures of %s written in full in at most %d windows; at most 8 a window may be", n, src, windows)
		}
	}
	if f.summaries == 0 || f.full+f.counted < audited {
		t.Fatalf("failures not accounted for: %d audited, %d written in full, %d summaries counting %d", audited, f.full, f.summaries, f.counted)
	}
	// Bound: 64 MiB for connections and requests, plus the wrong
	// passwords' argon2id work (19 MiB each, 2 per CPU at once, and as
	// much again of garbage not yet collected). The race detector's shadow
	// memory (5-10× by its documentation) inflates all of it in -race runs.
	rssBound := int64(64<<10 + 2*2*runtime.NumCPU()*19<<10)
	if raceEnabled {
		rssBound *= 3
	}
	t.Logf("relay VmRSS %d KiB before, peak %d KiB (+%d KiB), bound +%d KiB", rss0, peak, peak-rss0, rssBound)
	if peak-rss0 > rssBound {
		t.Fatalf("relay RSS grew by %d KiB during the flood, bound %d KiB", peak-rss0, rssBound)
	}
	eventually(t, "the attackers' connections closed", 10*time.Second, func() bool {
		return openFDs(t, pid) <= fd0+4
	})
}
