package integration

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/stun/v4"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/transport"
)

// stunAddr is the UDP address the relay said it answers STUN on.
func (e *env) stunAddr() string {
	e.t.Helper()
	const marker = "STUN answering on udp "
	out := e.relay.Output()
	i := strings.Index(out, marker)
	if i < 0 {
		e.t.Fatalf("relay did not say where it answers STUN:\n%s", out)
	}
	return strings.TrimSuffix(strings.Fields(out[i+len(marker):])[0], ";")
}

// pairedInfo opens a session to device with the raw protocol and returns
// the SessionInfo of the relay's `paired`.
func (e *env) pairedInfo(t *testing.T, device string) *protocol.SessionInfo {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tok := strings.TrimSpace(mustRead(t, filepath.Join(e.tech, "token")))
	c, err := transport.Dial(ctx, transport.Endpoint{URL: e.url, Pin: e.fp, Token: tok}, protocol.PathTechSession)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if err := c.WriteControl(ctx, &protocol.Control{Type: protocol.CtlRequest, Version: protocol.Version, Device: device}); err != nil {
		t.Fatal(err)
	}
	m, err := c.ReadControl(ctx)
	if err != nil || m.Type != protocol.CtlPaired {
		t.Fatalf("pairing: %v %+v", err, m)
	}
	return m.Session
}

// reflexive asks the STUN server at addr, from a fresh loopback socket,
// for that socket's reflexive address.
func reflexive(t *testing.T, addr string) (got stun.XORMappedAddress) {
	t.Helper()
	c, err := stun.Dial("udp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var evErr error
	if err := c.Do(stun.MustBuild(stun.TransactionID, stun.BindingRequest), func(ev stun.Event) {
		if evErr = ev.Error; evErr == nil {
			evErr = got.GetFrom(ev.Message)
		}
	}); err != nil || evErr != nil {
		t.Fatalf("STUN binding: %v %v", err, evErr)
	}
	return got
}

// TestRelaySTUN: relay serve --stun-listen answers a real STUN client with
// its reflexive address, tells both session peers its STUN URL, and
// answers nothing to a bounded burst of junk while it keeps serving.
func TestRelaySTUN(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "--stun-listen", "127.0.0.1:0")
	addr := e.stunAddr()
	// stun.Dial keeps its socket to itself: the client is on loopback.
	if got := reflexive(t, addr); !got.IP.Equal(net.IPv4(127, 0, 0, 1)) || got.Port == 0 {
		t.Fatalf("reflexive address %v, want 127.0.0.1 with a port", got)
	}

	d := e.enroll("stun-pc")
	e.runAgent(d, "exit 0")
	info := e.pairedInfo(t, d.name)
	if want := "stun:" + addr; len(info.STUN) != 1 || info.STUN[0] != want {
		t.Fatalf("SessionInfo.stun = %q, want [%q]", info.STUN, want)
	}
	if err := protocol.CheckSTUNURLs(info.STUN); err != nil {
		t.Fatal(err)
	}

	conn, err := net.Dial("udp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := stun.MustBuild(stun.TransactionID, stun.BindingRequest).Raw
	junk := [][]byte{{0}, make([]byte, 1200), req[:19], append(append([]byte(nil), req...), 1, 2, 3, 4),
		stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodAllocate, stun.ClassRequest)).Raw,
		stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.NewUsername("a:b")).Raw}
	for i := range 60 {
		if _, err := conn.Write(junk[i%len(junk)]); err != nil {
			t.Fatal(err)
		}
	}
	conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	var ne net.Error
	if n, err := conn.Read(make([]byte, 1500)); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("junk was answered (%d bytes, %v)", n, err)
	}
	if again := reflexive(t, addr); again.Port == 0 || !e.healthy() {
		t.Fatal("relay stopped answering after the junk")
	}
	// The metrics count what was answered and what was dropped.
	fams := e.scrape()
	if v := metricValue(fams, "tether_stun_datagrams_total", "outcome", "dropped"); v < 60 {
		t.Fatalf("tether_stun_datagrams_total{outcome=dropped} = %v after 60 junk datagrams", v)
	}
	if v := metricValue(fams, "tether_stun_datagrams_total", "outcome", "answered"); v < 2 {
		t.Fatalf("tether_stun_datagrams_total{outcome=answered} = %v after two answered requests", v)
	}
}

// TestRelaySTUNOff: without --stun-listen sessions carry no STUN URL.
func TestRelaySTUNOff(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if strings.Contains(e.relay.Output(), "STUN answering") {
		t.Fatal("relay answers STUN without --stun-listen")
	}
	d := e.enroll("nostun-pc")
	e.runAgent(d, "exit 0")
	if info := e.pairedInfo(t, d.name); info.STUN != nil {
		t.Fatalf("SessionInfo.stun = %q without --stun-listen", info.STUN)
	}
}

// TestRelaySTUNFlags: the STUN flags' refusals.
func TestRelaySTUNFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--listen", "0.0.0.0:0", "--stun-listen", "[::]:0"}, "--stun-url stun:HOST:PORT"},
		{[]string{"--stun-url", "stun:relay.example.org:3478"}, "--stun-url needs --stun-listen"},
		{[]string{"--stun-listen", "127.0.0.1:0", "--stun-url", "http://relay"}, "want stun:HOST:PORT"},
		{[]string{"--stun-listen", "127.0.0.1:99999"}, "--stun-listen"},
	} {
		r := run(t, dir, "", bin.relay, append([]string{"serve", "--data", filepath.Join(dir, "data"), "--metrics-listen", "off"}, tc.args...)...)
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%q: code %d, stderr %q (want %q)", tc.args, r.code, r.stderr, tc.want)
		}
	}
}
